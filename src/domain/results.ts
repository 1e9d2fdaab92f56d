import type { VendorFailure } from "./failures.js";

/** Something the subgraph did on the caller's behalf that the caller should know about. */
export interface DeliveryWarning {
  readonly code: string;
  readonly message: string;
  readonly attribute?: string;
}

export type DeliveryOutcome =
  | {
      readonly ok: true;
      readonly vendor: string;
      readonly warnings: readonly DeliveryWarning[];
      readonly httpStatus?: number;
    }
  | { readonly ok: false; readonly vendor: string; readonly failure: VendorFailure };

export function delivered(vendor: string, warnings: readonly DeliveryWarning[] = [], httpStatus?: number): DeliveryOutcome {
  return httpStatus === undefined ? { ok: true, vendor, warnings } : { ok: true, vendor, warnings, httpStatus };
}

export function failed(failure: VendorFailure): DeliveryOutcome {
  return { ok: false, vendor: failure.vendor, failure };
}

/**
 * Whether a repeat of the same update (same idempotency key) may send this delivery again, instead
 * of answering the stored outcome: only a failure that certainly was not applied, or whose request
 * is safe to repeat. That is a `retryable` failure (a 429, a connection refused, an open circuit,
 * a rate-budget wait refused, a repeat-safe request's timeout), or a refusal decided before
 * anything was sent (a failure with no HTTP status that is not a transport fault or a crash: a
 * value checked against the vendor's rules, a vendor not configured). A delivery, an ambiguous
 * failure of an unsafe request and a vendor's own refusal are final: they are replayed.
 */
export function mayResend(outcome: DeliveryOutcome | { readonly queued: true }): boolean {
  // A queued delivery belongs to the queue, which retries it: a repeat never sends it again.
  if ("queued" in outcome || outcome.ok) return false;
  const { failure } = outcome;
  if (failure.retryable) return true;
  return failure.httpStatus === undefined && failure.category !== "VENDOR_UNAVAILABLE" && failure.category !== "INTERNAL";
}
