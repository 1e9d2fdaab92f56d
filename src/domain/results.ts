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
