import { positiveInteger, positiveNumber, readVariable } from "../../config/variables.js";
import type { ConfigResult, Env, EnvVariable } from "../define-vendor.js";
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

export const usercomEnv: Record<string, EnvVariable> = {
  USERCOM_API_URL: {
    credential: true,
    description:
      "User.com public API base URL of your app, e.g. https://acme.user.com/api/public (no default: every app has its own subdomain; required when USERCOM_API_KEY is set)",
  },
  USERCOM_API_KEY: {
    description: "User.com public REST API key (64 characters, sent as `Authorization: Token …`)",
    secret: true,
    credential: true,
  },
  USERCOM_API_VERSION: {
    description: "API version: 2 sends `Accept: */*; version=2` (current docs); 1 sends no version (old docs, `user_id` in payloads)",
    default: String(DEFAULT_API_VERSION),
  },
  USERCOM_UNKNOWN_ATTRIBUTES: {
    description:
      'What your User.com app does with an undefined custom attribute: "refuse" (v2 docs: must exist; refusals become ATTRIBUTE_NOT_DEFINED) or "create" (v1 docs: created on the fly). Default: refuse with API version 2, create with version 1',
  },
  USERCOM_KNOWN_ATTRIBUTES: {
    description:
      'Optional catalog of the app\'s custom attributes, comma-separated `name` or `name:type` (type: boolean, integer, float, fixed, string, date, datetime, json). With "refuse", other names fail as ATTRIBUTE_NOT_DEFINED before anything is sent; types are checked before sending and used when reading back',
  },
  USERCOM_LOOKUP_CONCURRENCY: {
    description:
      "At most this many custom-id look-ups (GET /users-by-id/…/) in flight per batch. Default: USERCOM_RATE_LIMIT ÷ 50, at least 4 (4 at the default rate)",
  },
  USERCOM_MASS_UPDATE_CHUNK_SIZE: {
    description: "Internal ids per mass-update call (User.com documents no maximum)",
    default: String(DEFAULT_MASS_UPDATE_CHUNK_SIZE),
  },
  USERCOM_MASS_UPDATE_METHOD: {
    description: "HTTP method of /users/mass_update_custom_attributes/: PUT (docs heading, SDKs) or POST (docs samples)",
    default: DEFAULT_MASS_UPDATE_METHOD,
  },
  USERCOM_RATE_LIMIT: {
    description: "Requests per second to User.com, shared by all callers in the process (User.com publishes no limit)",
    default: String(DEFAULT_RATE_PER_SECOND),
  },
  USERCOM_TIMEOUT_MS: { description: "Timeout of one User.com request", default: String(DEFAULT_TIMEOUT_MS) },
};

export function readUserComConfig(env: Env): ConfigResult<UserComConfig> {
  const apiKey = env.USERCOM_API_KEY?.trim();
  if (!apiKey) return { status: "absent" };
  const problems: string[] = [];
  const apiVersion = readVersion(env, problems);
  const ratePerSecond = readVariable(env, "USERCOM_RATE_LIMIT", positiveNumber(DEFAULT_RATE_PER_SECOND), problems);
  const config: UserComConfig = {
    baseUrl: readBaseUrl(env, problems),
    apiKey,
    apiVersion,
    unknownAttributes: readPolicy(env, apiVersion, problems),
    knownAttributes: readCatalog(env, problems),
    lookupConcurrency: readVariable(env, "USERCOM_LOOKUP_CONCURRENCY", positiveInteger(defaultLookupConcurrency(ratePerSecond)), problems),
    massUpdateChunkSize: readVariable(env, "USERCOM_MASS_UPDATE_CHUNK_SIZE", positiveInteger(DEFAULT_MASS_UPDATE_CHUNK_SIZE), problems),
    massUpdateMethod: readMethod(env, problems),
    timeoutMs: readVariable(env, "USERCOM_TIMEOUT_MS", positiveNumber(DEFAULT_TIMEOUT_MS), problems),
    ratePerSecond,
  };
  return problems.length > 0 ? { status: "invalid", problems } : { status: "configured", config };
}

function readBaseUrl(env: Env, problems: string[]): string {
  const raw = env.USERCOM_API_URL?.trim();
  if (!raw) {
    problems.push(
      "USERCOM_API_URL is required when USERCOM_API_KEY is set: every User.com app has its own host, e.g. https://acme.user.com/api/public",
    );
    return "";
  }
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("protocol");
    if (url.username || url.password) problems.push("USERCOM_API_URL must not contain credentials; use USERCOM_API_KEY");
    if (url.search || url.hash) problems.push(`USERCOM_API_URL must not have a query or fragment; got "${raw}"`);
  } catch {
    problems.push(`USERCOM_API_URL must be an http(s) URL such as https://acme.user.com/api/public; got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

function readVersion(env: Env, problems: string[]): ApiVersion {
  const raw = env.USERCOM_API_VERSION?.trim();
  if (!raw) return DEFAULT_API_VERSION;
  const version = API_VERSIONS.find((v) => String(v) === raw);
  if (version === undefined) {
    problems.push(`USERCOM_API_VERSION must be ${API_VERSIONS.join(" or ")}; got "${raw}"`);
    return DEFAULT_API_VERSION;
  }
  return version;
}

function readPolicy(env: Env, version: ApiVersion, problems: string[]): UnknownAttributePolicy {
  const raw = env.USERCOM_UNKNOWN_ATTRIBUTES?.trim();
  // Each doc version states its own rule, so the version decides unless the deployment knows better.
  if (!raw) return version === 1 ? "create" : "refuse";
  if (raw === "create" || raw === "refuse") return raw;
  problems.push(`USERCOM_UNKNOWN_ATTRIBUTES must be "create" or "refuse"; got "${raw}"`);
  return "refuse";
}

function readMethod(env: Env, problems: string[]): MassUpdateMethod {
  const raw = env.USERCOM_MASS_UPDATE_METHOD?.trim().toUpperCase();
  if (!raw) return DEFAULT_MASS_UPDATE_METHOD;
  if (raw === "PUT" || raw === "POST") return raw;
  problems.push(`USERCOM_MASS_UPDATE_METHOD must be PUT or POST; got "${env.USERCOM_MASS_UPDATE_METHOD}"`);
  return DEFAULT_MASS_UPDATE_METHOD;
}

/**
 * `name` or `name:type`. Text after the last ":" must be a type, so that a misspelt type is
 * reported rather than read as part of the name; a name containing ":" is written with its type.
 */
export function parseCatalog(raw: string): { attributes: KnownAttribute[]; problems: string[] } {
  const attributes: KnownAttribute[] = [];
  const problems: string[] = [];
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0)) {
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
      problems.push(`USERCOM_KNOWN_ATTRIBUTES: "${entry}" has an unknown type "${suffix}" (known: ${USERCOM_VALUE_TYPES.join(", ")})`);
      continue;
    }
    const name = type === undefined ? entry : entry.slice(0, colon).trim();
    if (name.length === 0 || Array.from(name).length > 255) {
      problems.push(`USERCOM_KNOWN_ATTRIBUTES: attribute names have 1 to 255 characters; got "${name}"`);
      continue;
    }
    attributes.push(type === undefined ? { name } : { name, type });
  }
  return { attributes, problems };
}

function readCatalog(env: Env, problems: string[]): KnownAttribute[] {
  const raw = env.USERCOM_KNOWN_ATTRIBUTES;
  if (raw === undefined || raw.trim() === "") return [];
  const parsed = parseCatalog(raw);
  problems.push(...parsed.problems);
  return parsed.attributes;
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
