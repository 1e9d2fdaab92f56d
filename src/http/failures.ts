import { vendorFailure, type FailureCategory, type VendorFailure } from "../domain/failures.js";
import type { HttpResult } from "./client.js";
import { retryAfterSeconds } from "./client.js";

/**
 * Timeouts and network faults, the same for every vendor. After an ambiguous fault a request that
 * is not repeat-safe may have been applied, so the failure is not `retryable` (the caller must
 * check before repeating it); a request that never reached the vendor always is.
 */
export function transportFailure(vendor: string, displayName: string, result: Exclude<HttpResult, { kind: "response" }>): VendorFailure {
  const tries = result.attempts > 1 ? ` (${result.attempts} attempts)` : "";
  if (result.kind === "timeout") {
    return vendorFailure(
      "VENDOR_UNAVAILABLE",
      vendor,
      `${displayName} did not answer within ${result.timeoutMs} ms${tries}${result.repeatSafe ? "" : "; the update may or may not have been applied"}`,
      { retryable: result.repeatSafe },
    );
  }
  const neverSent = !result.mayHaveReachedVendor;
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    vendor,
    neverSent
      ? `could not connect to ${displayName} (${result.code})${tries}; nothing was sent`
      : `the connection to ${displayName} failed (${result.code})${tries}${result.repeatSafe ? "" : "; the update may or may not have been applied"}`,
    { vendorCode: result.code, retryable: neverSent || result.repeatSafe },
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
    // A status we do not recognize is not known to be transient; after a 5xx a request that is
    // not repeat-safe may have been applied.
    ...(category === "VENDOR_UNAVAILABLE" ? { retryable: result.status >= 500 && result.repeatSafe } : {}),
  });
}
