import {
  httpUrl,
  list,
  oneOf,
  positiveInteger,
  positiveNumber,
  readVariables,
  text,
  variable,
  type ListEntry,
  type VariableSpec,
} from "../../config/variables.js";
import type { ConfigResult, Env } from "../define-vendor.js";
import { API_VERSIONS, DEFAULT_API_VERSION, type ApiVersion } from "./api-version.js";

/** Custom attribute value types of User.com's attribute definitions (v1 and v2 docs together). */
export const USERCOM_VALUE_TYPES = ["boolean", "integer", "float", "fixed", "string", "date", "datetime", "json"] as const;
export type UserComValueType = (typeof USERCOM_VALUE_TYPES)[number];

/**
 * What User.com does with a custom attribute that is not defined in the app:
 * "create" (v1 docs: created on the fly) or "refuse" (v2 docs: it must exist first).
 */
export type UnknownAttributePolicy = "create" | "refuse";

export type MassUpdateMethod = "PUT" | "POST";

export interface KnownAttribute {
  readonly name: string;
  /** Absent when the catalog names the attribute without its type. */
  readonly type?: UserComValueType;
}

export interface UserComConfig {
  /** Up to and including `/api/public`, without a trailing slash. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly apiVersion: ApiVersion;
  readonly unknownAttributes: UnknownAttributePolicy;
  /** The app's custom attribute catalog as far as the deployment declares it; empty when not declared. */
  readonly knownAttributes: readonly KnownAttribute[];
  readonly lookupConcurrency: number;
  readonly massUpdateChunkSize: number;
  readonly massUpdateMethod: MassUpdateMethod;
  readonly timeoutMs: number;
  readonly ratePerSecond: number;
}

/** User.com publishes no number; 429 answers pause the pacer, so this only needs to be polite. */
export const DEFAULT_RATE_PER_SECOND = 20;
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The fewest look-ups in flight per batch when USERCOM_LOOKUP_CONCURRENCY is not set. */
export const MIN_LOOKUP_CONCURRENCY = 4;
/**
 * Look-ups in flight per batch when USERCOM_LOOKUP_CONCURRENCY is not set: enough for the
 * configured rate with round trips of up to 40 ms while the bulk path resolves two chunks at once
 * (concurrency × 2 ÷ round trip ≥ rate), so raising USERCOM_RATE_LIMIT alone is enough to use it.
 * At the default 20/s this is 4, enough for round trips up to 400 ms.
 */
export function defaultLookupConcurrency(ratePerSecond: number): number {
  return Math.max(MIN_LOOKUP_CONCURRENCY, Math.ceil(ratePerSecond / 50));
}
/** Not documented either; 100 is User.com's page size for lists and keeps one 400 from failing many users. */
export const DEFAULT_MASS_UPDATE_CHUNK_SIZE = 100;
/** The mass update page's heading and two SDKs say PUT (its samples say POST). */
export const DEFAULT_MASS_UPDATE_METHOD: MassUpdateMethod = "PUT";

export const usercomEnv = {
  USERCOM_API_URL: variable(
    "User.com public API base URL of your app, e.g. https://acme.user.com/api/public (no default: every app has its own subdomain; required when USERCOM_API_KEY is set)",
    httpUrl({
      required: "is required when USERCOM_API_KEY is set: every User.com app has its own host, e.g. https://acme.user.com/api/public",
      example: "https://acme.user.com/api/public",
      credentialsIn: "USERCOM_API_KEY",
      noQuery: true,
    }),
    { credential: true },
  ),
  USERCOM_API_KEY: variable("User.com public REST API key (64 characters, sent as `Authorization: Token …`)", text(), {
    secret: true,
    credential: true,
  }),
  USERCOM_API_VERSION: variable(
    "API version: 2 sends `Accept: */*; version=2` (current docs); 1 sends no version (old docs, `user_id` in payloads)",
    oneOf(API_VERSIONS, DEFAULT_API_VERSION),
  ),
  USERCOM_UNKNOWN_ATTRIBUTES: variable(
    'What your User.com app does with an undefined custom attribute: "refuse" (v2 docs: must exist; refusals become ATTRIBUTE_NOT_DEFINED) or "create" (v1 docs: created on the fly)',
    // Each doc version states its own rule, so the version decides unless the deployment knows better.
    oneOf(["create", "refuse"], undefined, { quoted: true }),
    "(`refuse` with API version 2, `create` with version 1)",
  ),
  USERCOM_KNOWN_ATTRIBUTES: variable(
    'Optional catalog of the app\'s custom attributes, comma-separated `name` or `name:type` (type: boolean, integer, float, fixed, string, date, datetime, json). With "refuse", other names fail as ATTRIBUTE_NOT_DEFINED before anything is sent; types are checked before sending and used when reading back',
    list(catalogEntry),
  ),
  USERCOM_LOOKUP_CONCURRENCY: variable(
    "At most this many custom-id look-ups (GET /users-by-id/…/) in flight per batch (4 at the default rate)",
    positiveInteger(),
    "(`USERCOM_RATE_LIMIT` ÷ 50, at least 4)",
  ),
  USERCOM_MASS_UPDATE_CHUNK_SIZE: variable(
    "Internal ids per mass-update call (User.com documents no maximum)",
    positiveInteger(DEFAULT_MASS_UPDATE_CHUNK_SIZE),
  ),
  USERCOM_MASS_UPDATE_METHOD: variable(
    "HTTP method of /users/mass_update_custom_attributes/: PUT (docs heading, SDKs) or POST (docs samples)",
    oneOf(["PUT", "POST"], DEFAULT_MASS_UPDATE_METHOD, { ignoreCase: true }),
  ),
  USERCOM_RATE_LIMIT: variable(
    "Requests per second to User.com, shared by all callers in the process (by every process, in shared mode) (User.com publishes no limit)",
    positiveNumber(DEFAULT_RATE_PER_SECOND),
  ),
  USERCOM_TIMEOUT_MS: variable("Timeout of one User.com request", positiveNumber(DEFAULT_TIMEOUT_MS)),
} as const satisfies VariableSpec;

export function readUserComConfig(env: Env): ConfigResult<UserComConfig> {
  const problems: string[] = [];
  const v = readVariables(usercomEnv, env, problems);
  if (!v.USERCOM_API_KEY) return { status: "absent" };
  const config: UserComConfig = {
    baseUrl: v.USERCOM_API_URL,
    apiKey: v.USERCOM_API_KEY,
    apiVersion: v.USERCOM_API_VERSION,
    unknownAttributes: v.USERCOM_UNKNOWN_ATTRIBUTES ?? (v.USERCOM_API_VERSION === 1 ? "create" : "refuse"),
    knownAttributes: v.USERCOM_KNOWN_ATTRIBUTES,
    lookupConcurrency: v.USERCOM_LOOKUP_CONCURRENCY ?? defaultLookupConcurrency(v.USERCOM_RATE_LIMIT),
    massUpdateChunkSize: v.USERCOM_MASS_UPDATE_CHUNK_SIZE,
    massUpdateMethod: v.USERCOM_MASS_UPDATE_METHOD,
    timeoutMs: v.USERCOM_TIMEOUT_MS,
    ratePerSecond: v.USERCOM_RATE_LIMIT,
  };
  return problems.length > 0 ? { status: "invalid", problems } : { status: "configured", config };
}

/**
 * One catalog entry, `name` or `name:type`. Text after the last ":" must be a type, so that a
 * misspelt type is reported rather than read as part of the name; a name containing ":" is written
 * with its type.
 */
function catalogEntry(entry: string): ListEntry<KnownAttribute> {
  const colon = entry.lastIndexOf(":");
  const suffix =
    colon >= 0
      ? entry
          .slice(colon + 1)
          .trim()
          .toLowerCase()
      : "";
  const type = USERCOM_VALUE_TYPES.find((t) => t === suffix);
  if (colon >= 0 && type === undefined) {
    return { problem: `: "${entry}" has an unknown type "${suffix}" (known: ${USERCOM_VALUE_TYPES.join(", ")})` };
  }
  const name = type === undefined ? entry : entry.slice(0, colon).trim();
  if (name.length === 0 || Array.from(name).length > 255) {
    return { problem: `: attribute names have 1 to 255 characters; got "${name}"` };
  }
  return [type === undefined ? { name } : { name, type }];
}

/** Sandbox credentials: 64 characters like real User.com keys, derived from the vendor id. */
export const SANDBOX_API_KEY = "usercom-sandbox-api-key-".padEnd(64, "0");
/** A key the sandbox knows but which may not use the users API (answers 403). */
export const SANDBOX_KEY_WITHOUT_PERMISSION = "usercom-sandbox-key-without-permission-".padEnd(64, "0");

/** Where the sandbox serves the public API, as on a real app host. */
export const SANDBOX_API_PATH = "/api/public";

/** Variables that point the adapter at a running sandbox (the sandbox itself is loaded only when one starts). */
export function usercomSandboxEnv(sandboxUrl: string): Env {
  return { USERCOM_API_URL: `${sandboxUrl}${SANDBOX_API_PATH}`, USERCOM_API_KEY: SANDBOX_API_KEY };
}
