import { vendorFailure, type FailureCategory, type VendorFailure } from "../domain/failures.js";
import type { HttpResult } from "./client.js";
import { retryAfterSeconds } from "./client.js";

/** Timeouts and network faults, the same for every vendor. */
export function transportFailure(
  vendor: string,
  displayName: string,
  result: Exclude<HttpResult, { kind: "response" }>,
): VendorFailure {
  if (result.kind === "timeout") {
    return vendorFailure("VENDOR_UNAVAILABLE", vendor, `${displayName} did not answer within ${result.timeoutMs} ms`);
  }
  const neverSent = !result.mayHaveReachedVendor;
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    vendor,
    neverSent
      ? `could not connect to ${displayName} (${result.code}); nothing was sent`
      : `the connection to ${displayName} failed (${result.code})`,
    { vendorCode: result.code },
  );
}

/** The conventional reading of an HTTP status, for vendors whose documented codes follow it. */
export function categoryForStatus(status: number): FailureCategory {
  if (status === 401) return "AUTHENTICATION_FAILED";
  if (status === 403) return "PERMISSION_DENIED";
  if (status === 404) return "USER_NOT_FOUND";
  if (status === 429) return "RATE_LIMITED";
  if (status === 400 || status === 409 || status === 413 || status === 422) return "VALUE_REJECTED";
  return "VENDOR_UNAVAILABLE";
}

export function statusFailure(
  vendor: string,
  result: Extract<HttpResult, { kind: "response" }>,
  message: string,
  overrides: { category?: FailureCategory; vendorCode?: string; attribute?: string } = {},
): VendorFailure {
  const category = overrides.category ?? categoryForStatus(result.status);
  const retryAfter = retryAfterSeconds(result.headers);
  return vendorFailure(category, vendor, message, {
    httpStatus: result.status,
    ...(overrides.vendorCode === undefined ? {} : { vendorCode: overrides.vendorCode }),
    ...(overrides.attribute === undefined ? {} : { attribute: overrides.attribute }),
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    // A status we do not recognize is not known to be transient.
    ...(category === "VENDOR_UNAVAILABLE" && result.status < 500 ? { retryable: false } : {}),
  });
}
