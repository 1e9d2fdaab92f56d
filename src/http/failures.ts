import { vendorFailure, type FailureCategory, type VendorFailure } from "../domain/failures.js";
import type { HttpResult } from "./client.js";
import { RESPONSE_TOO_LARGE, retryAfterSeconds } from "./client.js";

/**
 * Timeouts and network faults, the same for every vendor. After an ambiguous fault a request that
 * is not repeat-safe may have been applied, so the failure is not `retryable` (the caller must
 * check before repeating it); a request that never reached the vendor always is.
 */
export function transportFailure(vendor: string, displayName: string, result: Exclude<HttpResult, { kind: "response" }>): VendorFailure {
  const tries = result.attempts > 1 ? ` (${result.attempts} attempts)` : "";
  const mayHaveApplied = result.repeatSafe ? "" : "; the update may or may not have been applied";
  if (result.kind === "timeout") {
    return vendorFailure(
      "VENDOR_UNAVAILABLE",
      vendor,
      `${displayName} did not answer within ${result.timeoutMs} ms${tries}${mayHaveApplied}`,
      {
        retryable: result.repeatSafe,
      },
    );
  }
  if (result.code === RESPONSE_TOO_LARGE) {
    return vendorFailure(
      "VENDOR_UNAVAILABLE",
      vendor,
      `${displayName}'s answer was larger than this deployment reads (VENDOR_MAX_RESPONSE_BYTES), so it was not read to the end${tries}${mayHaveApplied}`,
      { vendorCode: result.code, retryable: result.repeatSafe },
    );
  }
  const neverSent = !result.mayHaveReachedVendor;
  const brokenOff =
    result.answeredStatus === undefined
      ? ""
      : ` after ${displayName} had begun answering ${result.answeredStatus}, so its answer did not arrive whole`;
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    vendor,
    neverSent
      ? `could not connect to ${displayName} (${result.code})${tries}; nothing was sent`
      : `the connection to ${displayName} failed (${result.code})${brokenOff}${tries}${mayHaveApplied}`,
    { vendorCode: result.code, retryable: neverSent || result.repeatSafe },
  );
}

/**
 * A 2xx whose body is not what the vendor documents for this call (an HTML page from a proxy, an
 * empty or cut-off body, JSON of another shape): never a success, because only the documented
 * answer says the vendor applied the request. Whether it did is unknown, so a repeat is offered
 * only when the request is repeat-safe.
 */
export function undocumentedAnswer(
  vendor: string,
  displayName: string,
  result: Extract<HttpResult, { kind: "response" }>,
  expected: string,
  /** `during`: how the call is named after the status, for example "while updating user 7". */
  /** `omitAppliedNote`: the caller says what may have been applied itself (a read applies nothing; a step log lists steps). */
  details: { readonly during?: string; readonly attribute?: string; readonly omitAppliedNote?: boolean } = {},
): VendorFailure {
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    vendor,
    `${displayName} answered ${result.status}${details.during ? ` ${details.during}` : ""}, but not with ${expected} (${describeBody(result)})${details.omitAppliedNote ? "" : "; whether it was applied is unknown"}`,
    {
      httpStatus: result.status,
      vendorCode: "UNDOCUMENTED_ANSWER",
      retryable: result.repeatSafe,
      ...(details.attribute === undefined ? {} : { attribute: details.attribute }),
    },
  );
}

/** What a body was, in a few safe words: never its content, which may echo anything. */
export function describeBody(result: Extract<HttpResult, { kind: "response" }>): string {
  const text = result.text.trim();
  if (text.length === 0) return "an empty body";
  if (/^<(!doctype|html)/i.test(text)) return "an HTML page";
  if (result.json === undefined) return "a body that is not JSON";
  if (Array.isArray(result.json)) return "a JSON array";
  return typeof result.json === "object" && result.json !== null ? "JSON of another shape" : "a bare JSON value";
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
