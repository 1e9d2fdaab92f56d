import type { OperationKind } from "./operations.js";

/**
 * The closed vocabulary of delivery failures. Vendors map their own statuses and codes onto
 * these categories (keeping the raw code in `vendorCode`); they never invent new ones, which is
 * what keeps a new vendor out of the GraphQL error schema.
 */
export const FAILURE_CATEGORIES = [
  "AUTHENTICATION_FAILED",
  "PERMISSION_DENIED",
  "USER_NOT_FOUND",
  "ATTRIBUTE_NOT_DEFINED",
  "VALUE_REJECTED",
  "UNSUPPORTED_OPERATION",
  "RATE_LIMITED",
  "VENDOR_UNAVAILABLE",
  "VENDOR_NOT_CONFIGURED",
  /** The request may have been applied and may not be sent again (a worker stopped while it was in flight). */
  "OUTCOME_UNKNOWN",
  "INTERNAL",
] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

export interface VendorFailure {
  readonly category: FailureCategory;
  readonly vendor: string;
  /** Safe for callers: never contains credentials or request options. */
  readonly message: string;
  readonly httpStatus?: number;
  readonly vendorCode?: string;
  /** Whether sending the same request again may succeed without changing anything first. */
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  /** The custom attribute (or profile field / tag) the failure is about, when it is about one. */
  readonly attribute?: string;
  readonly operation?: OperationKind;
  /** Further failures of the same delivery (for example several rejected attributes). */
  readonly related: readonly VendorFailure[];
}

export type FailureDetails = Partial<Omit<VendorFailure, "category" | "vendor" | "message">>;

/** Categories where repeating the identical request can help by itself. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<FailureCategory> = new Set(["RATE_LIMITED", "VENDOR_UNAVAILABLE"]);

export function vendorFailure(category: FailureCategory, vendor: string, message: string, details: FailureDetails = {}): VendorFailure {
  return {
    category,
    vendor,
    message,
    retryable: details.retryable ?? RETRYABLE_BY_DEFAULT.has(category),
    related: [],
    ...stripUndefined(details),
  };
}

/** One failure standing for several: the first, carrying the rest as `related`. */
export function combineFailures(failures: readonly VendorFailure[]): VendorFailure {
  const [first, ...rest] = failures;
  if (!first) throw new Error("combineFailures needs at least one failure");
  if (rest.length === 0) return first;
  return { ...first, related: [...first.related, ...rest] };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
