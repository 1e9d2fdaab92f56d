import { vendorFailure, type FailureCategory, type FailureDetails, type VendorFailure } from "../../domain/failures.js";
import type { AttributeOperation } from "../../domain/operations.js";
import { retryAfterSeconds, type HttpResult } from "../../http/client.js";
import { describeBody, transportFailure, undocumentedAnswer } from "../../http/failures.js";
import { parseJsonKeepingLongs } from "./long-json.js";

const VENDOR = "jiguang";
const NAME = "Jiguang";

type Response = Extract<HttpResult, { kind: "response" }>;

/** Jiguang's answer: `{code, msg, data?}`, code 0 meaning success. `data` keeps Longs exact. */
export interface JiguangEnvelope {
  readonly code: number;
  readonly msg: string;
  readonly data: unknown;
}

interface CodeMeaning {
  readonly category: FailureCategory;
  readonly meaning: string;
}

/**
 * Jiguang's documented codes (set-user-attribute page). The code decides whatever HTTP status
 * comes with it, because that status is not documented. 40050 is the authentication code of
 * EngageLab, Jiguang's overseas edition of the same product; it is mapped in case the printed
 * 4009 is a typo for it. 40007 (empty CUID) means our request was malformed: the domain has no
 * separate category for that, so it is a rejected value like 40002.
 */
export const CODE_MEANINGS: Readonly<Record<string, CodeMeaning>> = {
  "4009": { category: "AUTHENTICATION_FAILED", meaning: "API authentication failed; check JIGUANG_PROJECT_ID and JIGUANG_PROJECT_SECRET" },
  "40050": { category: "AUTHENTICATION_FAILED", meaning: "API authentication failed; check JIGUANG_PROJECT_ID and JIGUANG_PROJECT_SECRET" },
  "40002": { category: "VALUE_REJECTED", meaning: "invalid business parameter" },
  "40003": { category: "USER_NOT_FOUND", meaning: "no user with this CUID exists in the project" },
  "40007": { category: "VALUE_REJECTED", meaning: "CUID is empty" },
  "40009": { category: "VALUE_REJECTED", meaning: "attribute value is empty" },
  "40010": { category: "ATTRIBUTE_NOT_DEFINED", meaning: "attribute does not exist in the Data Center" },
  "-1": { category: "VENDOR_UNAVAILABLE", meaning: "internal server error" },
};

/** The attribute named in a 40010 message such as `用户属性[user_number_once1]不存在`. */
export function attributeFromMessage(msg: string): string | undefined {
  return /用户属性\[([^\]]+)\]不存在/.exec(msg)?.[1];
}

/** Reads Jiguang's envelope from a response body; `undefined` when it is not one. */
export function readEnvelope(text: string): JiguangEnvelope | undefined {
  let body: unknown;
  try {
    body = parseJsonKeepingLongs(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const { code, msg, data } = body as Record<string, unknown>;
  if (typeof code !== "number" || !Number.isInteger(code)) return undefined;
  return { code, msg: typeof msg === "string" ? msg : "", data };
}

export interface CallDescription {
  /** "the attribute update" or "the CUID look-up", for messages. */
  readonly what: string;
  /** The operations sent, to name the attribute a failure is about. */
  readonly operations?: readonly AttributeOperation[];
}

export type Interpreted =
  | { readonly ok: true; readonly envelope: JiguangEnvelope; readonly status: number }
  | { readonly ok: false; readonly failure: VendorFailure };

/**
 * Turns one HTTP exchange with Jiguang into its envelope or a typed failure. Whether an
 * ambiguous failure (timeout, reset, 5xx, -1: the call may have been applied) is retryable
 * follows the request's `repeatSafe`, as for transport failures in src/http/failures.ts.
 */
export function interpret(result: HttpResult, call: CallDescription): Interpreted {
  if (result.kind !== "response") return { ok: false, failure: transportFailure(VENDOR, NAME, result) };
  const envelope = readEnvelope(result.text);
  if (envelope?.code === 0) return { ok: true, envelope, status: result.status };
  return { ok: false, failure: failureFor(result, envelope, call) };
}

function failureFor(result: Response, envelope: JiguangEnvelope | undefined, call: CallDescription): VendorFailure {
  const retryAfter = retryAfterSeconds(result.headers);
  const base: FailureDetails = {
    httpStatus: result.status,
    ...(envelope ? { vendorCode: String(envelope.code) } : {}),
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  };
  const known = envelope ? CODE_MEANINGS[String(envelope.code)] : undefined;
  if (envelope && known) {
    const detail = envelope.msg ? `: ${clip(envelope.msg)}` : "";
    const message = `Jiguang refused ${call.what} (code ${envelope.code}, ${known.meaning})${detail}`;
    const about = envelope.code === 40010 ? attributeFromMessage(envelope.msg) : undefined;
    const details = { ...base, ...target(about, call) };
    return known.category === "VENDOR_UNAVAILABLE"
      ? ambiguous(message, details, result)
      : vendorFailure(known.category, VENDOR, message, details);
  }
  // Not Jiguang's envelope at all, with a success status (a proxy's page, a cut-off body): not an answer.
  if (!envelope && result.status >= 200 && result.status < 300) {
    return undocumentedAnswer(VENDOR, NAME, result, "its {code, msg} answer", { during: `to ${call.what}` });
  }
  // No documented code: only then does the HTTP status speak.
  const answer = envelope ? `code ${envelope.code}${envelope.msg ? ` (${clip(envelope.msg)})` : ""}` : describeBody(result);
  if (result.status === 429) {
    return vendorFailure("RATE_LIMITED", VENDOR, `Jiguang is rate limiting this project (HTTP 429, ${answer})`, base);
  }
  if (result.status >= 500) {
    return ambiguous(`Jiguang answered ${call.what} with HTTP ${result.status} and ${answer}`, base, result);
  }
  // An undocumented answer is not known to be transient, nor known not to have been applied.
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    VENDOR,
    `Jiguang answered ${call.what} with an undocumented response (HTTP ${result.status}, ${answer}); whether it was applied is unknown`,
    { ...base, retryable: false },
  );
}

/** The attribute a failure is about: the one Jiguang named, or the only one sent. */
function target(named: string | undefined, call: CallDescription): FailureDetails {
  const operations = call.operations ?? [];
  const operation =
    named === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((op) => op.attribute === named);
  if (named !== undefined) return { attribute: named, ...(operation ? { operation: operation.kind } : {}) };
  return operation ? { attribute: operation.attribute, operation: operation.kind } : {};
}

/** A server-side failure after which the call may or may not have been applied. */
function ambiguous(message: string, details: FailureDetails, result: Response): VendorFailure {
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    VENDOR,
    result.repeatSafe ? message : `${message}; the update may or may not have been applied`,
    { ...details, retryable: result.repeatSafe },
  );
}

function clip(text: string): string {
  const chars = Array.from(text);
  return chars.length > 200 ? `${chars.slice(0, 200).join("")}…` : text;
}
