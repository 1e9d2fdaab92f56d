import { combineFailures, type FailureCategory, type VendorFailure } from "../../domain/failures.js";
import type { OperationKind } from "../../domain/operations.js";
import type { HttpResult } from "../../http/client.js";
import { statusFailure, transportFailure, undocumentedAnswer as sharedUndocumentedAnswer } from "../../http/failures.js";

const VENDOR = "usercom";
const NAME = "User.com";

type Response = Extract<HttpResult, { kind: "response" }>;

/** One User.com call, described well enough to name what a failure is about. */
export type CallDescription =
  | {
      readonly kind: "update";
      readonly customId: string;
      readonly origins: ReadonlyMap<string, { readonly name: string; readonly operation?: OperationKind }>;
    }
  | { readonly kind: "removeAttribute"; readonly customId: string; readonly attribute: string }
  | { readonly kind: "removeTag"; readonly customId: string; readonly tag: string }
  | { readonly kind: "lookup"; readonly customId: string }
  | { readonly kind: "massUpdate"; readonly attribute: string; readonly method: string; readonly ids: number };

/** Field messages of an error body: `{field: ["msg"]}` (DRF), `{"errors": …}`, `{"detail": "msg"}`. */
export interface FieldMessages {
  /** Undefined for messages about the request as a whole. */
  readonly field?: string;
  readonly messages: readonly string[];
}

const MAX_MESSAGE_LENGTH = 300;
const MAX_ENTRIES = 20;

/**
 * Wording of a refusal because a custom attribute does not exist. User.com's error format is not
 * documented (vendors.md open question 18); these cover DRF's own phrasing and the plain variants.
 */
const NOT_DEFINED =
  /(does not|doesn't|did not|not) exist|no such (custom )?attribute|unknown (custom )?attribute|not (been )?defined|undefined attribute/i;

export function isNotDefinedMessage(message: string): boolean {
  return NOT_DEFINED.test(message);
}

export function fieldMessages(body: unknown): FieldMessages[] {
  const out: FieldMessages[] = [];
  collect(body, undefined, out);
  return out;
}

function collect(value: unknown, field: string | undefined, out: FieldMessages[]): void {
  if (value === null || value === undefined) return;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    push(out, field, [String(value)]);
    return;
  }
  if (Array.isArray(value)) {
    const strings = value.filter((v): v is string | number => typeof v === "string" || typeof v === "number").map(String);
    if (strings.length > 0) push(out, field, strings);
    value.filter((v) => typeof v === "object" && v !== null).forEach((v) => collect(v, field, out));
    return;
  }
  if (typeof value === "object") {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      // Envelope and whole-request keys carry no field name of their own.
      if (key === "errors" || key === "detail" || key === "non_field_errors" || key === "error" || key === "message") {
        collect(inner, field, out);
      } else {
        collect(inner, field === undefined ? key : `${field}.${key}`, out);
      }
    }
  }
}

function push(out: FieldMessages[], field: string | undefined, messages: string[]): void {
  const clipped = messages.map((m) => (m.length > MAX_MESSAGE_LENGTH ? `${m.slice(0, MAX_MESSAGE_LENGTH)}…` : m));
  out.push(field === undefined ? { messages: clipped } : { field, messages: clipped });
}

/** The failure for a non-2xx answer or a transport fault; undefined for 2xx (bodies are checked by the caller). */
export function failureFor(result: HttpResult, call: CallDescription): VendorFailure | undefined {
  if (result.kind !== "response") {
    const failure = transportFailure(VENDOR, NAME, result);
    return { ...failure, message: `${failure.message} while ${describeCall(call)}` };
  }
  const { status } = result;
  if (status >= 200 && status < 300) return undefined;
  const detail = detailText(result);
  if (status >= 300 && status < 400) {
    const location = headerValue(result, "location");
    return statusFailure(
      VENDOR,
      result,
      `User.com answered ${status} (redirect${location ? ` to ${location}` : ""}) while ${describeCall(call)}; redirects are not followed, since a redirected write loses its body: check USERCOM_API_URL`,
      { category: "VENDOR_UNAVAILABLE" },
    );
  }
  switch (status) {
    case 400:
      return badRequest(result, call);
    case 401:
      return statusFailure(VENDOR, result, `User.com rejected the API key (USERCOM_API_KEY) while ${describeCall(call)}${detail}`);
    case 403:
      return statusFailure(VENDOR, result, `the User.com API key is not allowed to do this (${describeCall(call)})${detail}`);
    case 404:
      return notFound(result, call, detail);
    case 405:
      return statusFailure(
        VENDOR,
        result,
        `User.com does not accept this method while ${describeCall(call)}${detail}${call.kind === "massUpdate" ? `; USERCOM_MASS_UPDATE_METHOD is ${call.method}, try the other one (PUT or POST)` : ""}`,
        { category: "VENDOR_UNAVAILABLE" },
      );
    case 406:
      return statusFailure(
        VENDOR,
        result,
        `User.com refused the API version of this request while ${describeCall(call)}${detail}; check USERCOM_API_VERSION`,
        { category: "VENDOR_UNAVAILABLE" },
      );
    case 429:
      return statusFailure(VENDOR, result, `User.com is rate limiting this API key (${describeCall(call)})${detail}`);
    default:
      if (status >= 500) return statusFailure(VENDOR, result, `User.com answered ${status} while ${describeCall(call)}${detail}`);
      return statusFailure(VENDOR, result, `User.com answered with unexpected status ${status} while ${describeCall(call)}${detail}`, {
        category: "VENDOR_UNAVAILABLE",
      });
  }
}

function notFound(result: Response, call: CallDescription, detail: string): VendorFailure {
  // A user that does not exist gets DRF's JSON 404; a path that does not exist (wrong base URL)
  // gets the web server's page. Reading both as "user not found" would hide a misconfiguration.
  if (typeof result.json !== "object" || result.json === null) {
    return statusFailure(
      VENDOR,
      result,
      `User.com answered 404 without a JSON body while ${describeCall(call)}: the endpoint does not exist there; check USERCOM_API_URL (it ends with /api/public)`,
      { category: "VENDOR_UNAVAILABLE" },
    );
  }
  if (call.kind === "massUpdate") {
    return statusFailure(VENDOR, result, `User.com has no mass-update endpoint at this address${detail}; check USERCOM_API_URL`, {
      category: "VENDOR_UNAVAILABLE",
    });
  }
  const text = fieldMessages(result.json)
    .flatMap((entry) => entry.messages)
    .join(" ");
  if (call.kind === "removeAttribute" && /attribute/i.test(text) && isNotDefinedMessage(text)) {
    return statusFailure(VENDOR, result, `User.com has no attribute "${call.attribute}" to remove${detail}`, {
      category: "ATTRIBUTE_NOT_DEFINED",
      attribute: call.attribute,
    });
  }
  return withOperation(
    statusFailure(VENDOR, result, `User.com has no user with custom id "${call.customId}"${detail}`, { category: "USER_NOT_FOUND" }),
    call,
  );
}

function badRequest(result: Response, call: CallDescription): VendorFailure {
  const entries = fieldMessages(result.json).slice(0, MAX_ENTRIES);
  if (entries.length === 0) {
    return statusFailure(VENDOR, result, `User.com refused the request while ${describeCall(call)} (400)${snippet(result)}`, {
      category: call.kind === "lookup" ? "VENDOR_UNAVAILABLE" : "VALUE_REJECTED",
    });
  }
  const failures = entries.map((entry) => entryFailure(result, call, entry));
  return combineFailures(failures);
}

function entryFailure(result: Response, call: CallDescription, entry: FieldMessages): VendorFailure {
  const text = entry.messages.join(" ");
  const where = entry.field === undefined ? "" : `${entry.field}: `;
  const target = targetOf(entry, call);
  // A 400 to a read is not about values the caller sent: keep it out of VALUE_REJECTED.
  let category: FailureCategory = call.kind === "lookup" ? "VENDOR_UNAVAILABLE" : "VALUE_REJECTED";
  if (target?.custom && isNotDefinedMessage(text)) category = "ATTRIBUTE_NOT_DEFINED";
  const subject = target ? `"${target.name}"` : "the request";
  const failure = statusFailure(VENDOR, result, `User.com refused ${subject} while ${describeCall(call)}: ${where}${text}`, {
    category,
    ...(target ? { attribute: target.name } : {}),
  });
  return target?.operation ? { ...failure, operation: target.operation } : failure;
}

interface Target {
  readonly name: string;
  readonly operation?: OperationKind;
  /** Whether the target is a custom attribute (only those can be "not defined"). */
  readonly custom: boolean;
}

function targetOf(entry: FieldMessages, call: CallDescription): Target | undefined {
  const field = entry.field?.split(".")[0];
  switch (call.kind) {
    case "update": {
      if (field !== undefined) {
        const origin = call.origins.get(field);
        if (origin)
          return {
            name: origin.name,
            custom: origin.operation !== undefined,
            ...(origin.operation ? { operation: origin.operation } : {}),
          };
        return undefined;
      }
      // A whole-request message naming exactly one sent custom attribute is about that attribute.
      const text = entry.messages.join(" ");
      const named = [...call.origins.values()].filter((o) => o.operation !== undefined && mentions(text, o.name));
      return named.length === 1 ? { name: named[0]!.name, operation: named[0]!.operation!, custom: true } : undefined;
    }
    case "removeAttribute":
      return field === "attribute" || field === undefined ? { name: call.attribute, operation: "UNSET", custom: true } : undefined;
    case "massUpdate":
      if (field === "attribute") return { name: call.attribute, operation: "SET", custom: true };
      if (field === "value") return { name: call.attribute, operation: "SET", custom: false };
      if (field === undefined && entry.messages.some((m) => mentions(m, call.attribute))) {
        return { name: call.attribute, operation: "SET", custom: true };
      }
      return undefined;
    case "removeTag":
      return field === "name" || field === undefined ? { name: call.tag, custom: false } : undefined;
    case "lookup":
      return undefined;
  }
}

/** Whether a message names `name` as a whole word, so that "a" is not found inside "attribute". */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "u").test(text);
}

function withOperation(failure: VendorFailure, call: CallDescription): VendorFailure {
  if (call.kind === "removeAttribute") return { ...failure, attribute: call.attribute, operation: "UNSET" };
  if (call.kind === "removeTag") return { ...failure, attribute: call.tag };
  return failure;
}

/**
 * A 2xx whose body is not what the endpoint documents: never read as success. Writes say that
 * their outcome is unknown (an update's step log says it for its own steps).
 */
export function undocumentedAnswer(result: Response, call: CallDescription, expected: string): VendorFailure {
  // Single updates list their applied steps themselves (StepLog); a look-up applies nothing.
  return sharedUndocumentedAnswer(VENDOR, NAME, result, expected, {
    during: `while ${describeCall(call)}`,
    omitAppliedNote: call.kind !== "massUpdate",
  });
}

export function describeCall(call: CallDescription): string {
  switch (call.kind) {
    case "update":
      return `updating user "${call.customId}"`;
    case "removeAttribute":
      return `removing attribute "${call.attribute}" from user "${call.customId}"`;
    case "removeTag":
      return `removing tag "${call.tag}" from user "${call.customId}"`;
    case "lookup":
      return `looking up user "${call.customId}"`;
    case "massUpdate":
      return `mass-updating "${call.attribute}" for ${call.ids} user${call.ids === 1 ? "" : "s"}`;
  }
}

function detailText(result: Response): string {
  const messages = fieldMessages(result.json).flatMap((e) =>
    e.field === undefined ? e.messages : [`${e.field}: ${e.messages.join(" ")}`],
  );
  return messages.length > 0 ? `: ${messages.slice(0, MAX_ENTRIES).join("; ")}` : "";
}

/** A short, safe excerpt of a body that is not JSON (HTML error pages are named, not dumped). */
function snippet(result: Response): string {
  if (result.json !== undefined) {
    const text = JSON.stringify(result.json);
    return `: ${text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text}`;
  }
  const text = result.text.trim();
  if (text.length === 0) return " (empty body)";
  if (/^<(!doctype|html)/i.test(text)) return " (an HTML page)";
  return `: ${text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text}`;
}

function headerValue(result: Response, name: string): string | undefined {
  const raw = result.headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}
