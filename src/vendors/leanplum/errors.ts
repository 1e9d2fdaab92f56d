import { combineFailures, vendorFailure, type FailureCategory, type VendorFailure } from "../../domain/failures.js";
import type { HttpResult } from "../../http/client.js";
import { retryAfterSeconds } from "../../http/client.js";
import { transportFailure, undocumentedAnswer } from "../../http/failures.js";
import { VENDOR } from "./mapper.js";

const NAME = "Leanplum";

type Response = Extract<HttpResult, { kind: "response" }>;

/** What the reader needs to know about the request whose answer it reads. */
export interface ReadingContext {
  /** Whether sending the request again after an ambiguous failure cannot apply it twice. */
  readonly repeatSafe: boolean;
  /** Attribute names sent, to attribute a message that names one of them. */
  readonly attributes?: readonly string[];
}

/** One element of Leanplum's `response` array, checked for the documented shape. */
export interface LeanplumElement {
  readonly success: boolean;
  readonly warning?: string;
  readonly error?: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type EnvelopeReading =
  | { readonly ok: true; readonly status: number; readonly elements: readonly LeanplumElement[] }
  | { readonly ok: false; readonly failure: VendorFailure };

/**
 * Messages inside a 2xx element (warning, error, or success:false), read into categories.
 * Leanplum has no error codes; these are the documented and observed texts. Anything else is
 * VALUE_REJECTED: Leanplum received the request and declined (part of) it, so sending the same
 * request again would not help. See README.md "Responses".
 */
export const ELEMENT_MESSAGE_CATEGORIES: ReadonlyArray<{ readonly pattern: RegExp; readonly category: FailureCategory }> = [
  { pattern: /user not found/i, category: "USER_NOT_FOUND" },
  { pattern: /invalid access key/i, category: "AUTHENTICATION_FAILED" },
  { pattern: /concurrent requests|rate limit|too many requests/i, category: "RATE_LIMITED" },
  { pattern: /blocked|legal reasons/i, category: "PERMISSION_DENIED" },
];

const MAX_MESSAGE_LENGTH = 500;

/**
 * Reads an HTTP exchange that should hold Leanplum's envelope with `expected` elements. HTTP-level
 * failures and bodies that are not the envelope come back as one failure for the whole request.
 */
export function readEnvelope(result: HttpResult, expected: number, context: ReadingContext): EnvelopeReading {
  if (result.kind !== "response") return { ok: false, failure: ambiguousTransport(result, context) };
  if (result.status < 200 || result.status >= 300) return { ok: false, failure: statusFailure(result, context) };
  const elements = envelopeElements(result.json);
  if (!elements) {
    // Repeat safety is this reader's: in a `multi`, a safe action stays retryable even when another is not.
    return { ok: false, failure: undocumentedAnswer(VENDOR, NAME, { ...result, repeatSafe: context.repeatSafe }, "its response envelope") };
  }
  if (elements.length !== expected) {
    return {
      ok: false,
      failure: vendorFailure(
        "VENDOR_UNAVAILABLE",
        VENDOR,
        `Leanplum answered ${elements.length} response elements for ${expected} actions, so they cannot be matched to the actions; whether they were applied is unknown`,
        { httpStatus: result.status, retryable: context.repeatSafe },
      ),
    };
  }
  return { ok: true, status: result.status, elements };
}

/**
 * The failure an element stands for, or `undefined` when Leanplum applied the action: success
 * without warning or error is the only "applied" (HTTP 200 alone only means "received").
 */
export function elementFailure(element: LeanplumElement, status: number, context: ReadingContext): VendorFailure | undefined {
  if (element.success && element.warning === undefined && element.error === undefined) return undefined;
  const failures: VendorFailure[] = [];
  if (element.error !== undefined) failures.push(messageFailure(element.error, "rejected", status, context));
  if (element.warning !== undefined) failures.push(messageFailure(element.warning, "skipped", status, context));
  if (failures.length === 0) {
    failures.push(
      vendorFailure("VALUE_REJECTED", VENDOR, "Leanplum reported success:false without a message", {
        httpStatus: status,
        retryable: false,
      }),
    );
  }
  return combineFailures(failures);
}

function messageFailure(raw: string, verb: "rejected" | "skipped", status: number, context: ReadingContext): VendorFailure {
  const text = clippedText(raw);
  const category = ELEMENT_MESSAGE_CATEGORIES.find((entry) => entry.pattern.test(raw))?.category ?? "VALUE_REJECTED";
  const attribute = mentionedAttribute(raw, context.attributes ?? []);
  const message = category === "USER_NOT_FOUND" ? `Leanplum has no such user: ${text}` : `Leanplum ${verb} the request: ${text}`;
  return vendorFailure(category, VENDOR, message, {
    httpStatus: status,
    // A 429-style message inside a 200 still means "not applied, try again later"; the rest need a change first.
    retryable: category === "RATE_LIMITED",
    ...(attribute === undefined ? {} : { attribute }),
  });
}

/**
 * Leanplum's statuses: 403 `Invalid access key` (wrong or mismatched key class), 429 concurrent
 * requests for one user or devMode's 1 request/s, 451 user blocked, 5xx server trouble.
 */
function statusFailure(result: Response, context: ReadingContext): VendorFailure {
  const raw = bodyMessage(result.json);
  const text = raw === undefined ? "" : `: ${clippedText(raw)}`;
  const retryAfter = retryAfterSeconds(result.headers);
  const details = { httpStatus: result.status, ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }) };
  const status = result.status;
  if (status === 401 || (status === 403 && raw !== undefined && /invalid access key/i.test(raw))) {
    return vendorFailure("AUTHENTICATION_FAILED", VENDOR, `Leanplum refused the app id or client key (${status})${text}`, {
      ...details,
      retryable: false,
    });
  }
  if (status === 403) {
    return vendorFailure("PERMISSION_DENIED", VENDOR, `Leanplum refused the request (403)${text}`, { ...details, retryable: false });
  }
  if (status === 429) {
    return vendorFailure(
      "RATE_LIMITED",
      VENDOR,
      `Leanplum rejected the request with 429 (another request for this user was in flight, or devMode's 1 request per second per user was exceeded)${text}`,
      { ...details, retryable: true },
    );
  }
  if (status === 451) {
    return vendorFailure("PERMISSION_DENIED", VENDOR, `Leanplum refuses requests for this user: it is blocked (451)${text}`, {
      ...details,
      retryable: false,
    });
  }
  if (status === 400 || status === 413) {
    return vendorFailure("VALUE_REJECTED", VENDOR, `Leanplum rejected the request (${status})${text}`, { ...details, retryable: false });
  }
  if (status === 404) {
    return vendorFailure("VENDOR_UNAVAILABLE", VENDOR, `Leanplum answered 404; check LEANPLUM_API_URL${text}`, {
      ...details,
      retryable: false,
    });
  }
  if (status >= 500) {
    return vendorFailure("VENDOR_UNAVAILABLE", VENDOR, `Leanplum answered ${status}${text}; whether the request was applied is unknown`, {
      ...details,
      retryable: context.repeatSafe,
    });
  }
  return vendorFailure("VENDOR_UNAVAILABLE", VENDOR, `Leanplum answered with unexpected status ${status}${text}`, {
    ...details,
    retryable: false,
  });
}

/**
 * Timeouts and lost connections, read as the core does, except that repeat safety is this
 * reader's: in a `multi`, a safe action stays retryable even when another action is not.
 */
function ambiguousTransport(result: Exclude<HttpResult, { kind: "response" }>, context: ReadingContext): VendorFailure {
  return transportFailure(VENDOR, NAME, { ...result, repeatSafe: context.repeatSafe });
}

function envelopeElements(json: unknown): LeanplumElement[] | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const list = (json as { response?: unknown }).response;
  if (!Array.isArray(list)) return undefined;
  const elements: LeanplumElement[] = [];
  for (const item of list) {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return undefined;
    const record = item as Record<string, unknown>;
    if (typeof record.success !== "boolean") return undefined;
    const warning = notice(record.warning);
    const error = notice(record.error);
    elements.push({
      success: record.success,
      ...(warning === undefined ? {} : { warning }),
      ...(error === undefined ? {} : { error }),
      fields: record,
    });
  }
  return elements;
}

/** A `warning`/`error` member's text; present-but-odd shapes still count as present. */
function notice(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  const message = (value as { message?: unknown }).message;
  return typeof message === "string" ? message : "(no message)";
}

function bodyMessage(json: unknown): string | undefined {
  const elements = envelopeElements(json);
  const first = elements?.find((e) => e.error !== undefined || e.warning !== undefined);
  if (first) return first.error ?? first.warning;
  const error = (json as { error?: unknown } | undefined)?.error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return undefined;
}

/**
 * Leanplum's message as we pass it on, of bounded length. (Credentials it may echo are scrubbed
 * from every vendor's failures in one place: withScrubbedFailures.)
 */
export function clippedText(text: string): string {
  const chars = Array.from(text);
  return chars.length > MAX_MESSAGE_LENGTH ? `${chars.slice(0, MAX_MESSAGE_LENGTH).join("")}… (message shortened)` : text;
}

/**
 * The one sent attribute the message names in quotes, if exactly one. Unquoted words are not
 * matched: an attribute called "request" must not be blamed for "request skipped".
 */
function mentionedAttribute(message: string, attributes: readonly string[]): string | undefined {
  const found = attributes.filter((name) => ['"', "'", "`"].some((q) => message.includes(`${q}${name}${q}`)));
  return found.length === 1 ? found[0] : undefined;
}

/** A profile read without LEANPLUM_EXPORT_KEY: nothing is sent. */
export function exportKeyMissing(): VendorFailure {
  return vendorFailure(
    "VENDOR_NOT_CONFIGURED",
    VENDOR,
    "reading Leanplum profiles needs the data-export key: LEANPLUM_EXPORT_KEY is missing in this deployment",
    { retryable: false },
  );
}
