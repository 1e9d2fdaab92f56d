import { httpUrl, positiveNumber, readVariables, text, timeZone, variable, type VariableSpec } from "../../config/variables.js";
import type { ConfigResult, Env } from "../define-vendor.js";
import { loadCatalogFile, parseCatalog, type AttributeCatalog, type CatalogDocument } from "./catalog.js";

export interface JiguangConfig {
  /** Host only, for example https://growth.jiguang.cn; paths are added per call. */
  readonly baseUrl: string;
  readonly projectId: string;
  readonly projectSecret: string;
  /** Absent: writes pass through and Jiguang's own codes decide. */
  readonly catalog?: AttributeCatalog;
  /** IANA zone in which DATETIME values are written (Jiguang's format carries no offset). */
  readonly timeZone: string;
  /** Set: user ids are identity values mapped to CUIDs; unset: user ids are CUIDs. */
  readonly identityName?: string;
  /** The QPS Jiguang grants the project; the adapter paces at it (the budget keeps its margin for jitter). */
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
}

export const DEFAULT_BASE_URL = "https://growth.jiguang.cn";
/** Jiguang's documented limit for the attribute and Get-CUID endpoints. */
export const DEFAULT_RATE_PER_SECOND = 100;
/** Jiguang is a Chinese platform and its console shows Beijing time; China has no daylight saving time. */
export const DEFAULT_TIME_ZONE = "Asia/Shanghai";
export const DEFAULT_TIMEOUT_MS = 10_000;

export const jiguangEnv = {
  JIGUANG_API_URL: variable(
    "Jiguang Operation Growth API host",
    httpUrl({ default: DEFAULT_BASE_URL, credentialsIn: "JIGUANG_PROJECT_ID and JIGUANG_PROJECT_SECRET" }),
  ),
  JIGUANG_PROJECT_ID: variable(
    "Project ID (console: Configuration Management → Project Information); the Basic auth user",
    // Basic auth splits user and password at the first ":", so an id containing one would be misread.
    text(undefined, { accepts: (id) => !id.includes(":"), message: 'must not contain ":"' }),
    { credential: true },
  ),
  JIGUANG_PROJECT_SECRET: variable("Project secret; the Basic auth password", text(), {
    secret: true,
    credential: true,
    basicAuth: { userVariable: "JIGUANG_PROJECT_ID" },
  }),
  JIGUANG_ATTRIBUTES_FILE: variable(
    "Path of the attribute catalog (JSON or YAML: attributes: {name: {type, rule}}). With a catalog every operation is checked against the attribute's type and rule before sending; without one, writes pass through",
    text(),
  ),
  JIGUANG_ATTRIBUTES: variable(
    "The attribute catalog itself (JSON or YAML text), instead of JIGUANG_ATTRIBUTES_FILE; the sandbox uses this",
    text(),
  ),
  JIGUANG_TIMEZONE: variable("IANA time zone in which DATETIME values are written as yyyy-MM-dd HH:mm:ss", timeZone(DEFAULT_TIME_ZONE)),
  JIGUANG_IDENTITY_NAME: variable(
    "User identifier name (One ID, priority 1 in ID Mapping) whose values are the subgraph's user ids; they are mapped to CUIDs. Unset: user ids must be CUIDs",
    text(),
  ),
  JIGUANG_RATE_LIMIT: variable(
    "QPS Jiguang allows this project (attribute writes and CUID look-ups together, shared by all callers in the process (by every process, in shared mode)); the adapter paces at it, with the budget's 2% margin for jitter",
    positiveNumber(DEFAULT_RATE_PER_SECOND),
  ),
  JIGUANG_TIMEOUT_MS: variable("Timeout of one Jiguang request", positiveNumber(DEFAULT_TIMEOUT_MS)),
} as const satisfies VariableSpec;

export function readJiguangConfig(env: Env): ConfigResult<JiguangConfig> {
  const problems: string[] = [];
  const v = readVariables(jiguangEnv, env, problems);
  const projectId = v.JIGUANG_PROJECT_ID;
  const projectSecret = v.JIGUANG_PROJECT_SECRET;
  if (!projectId && !projectSecret) return { status: "absent" };
  if (!projectId) problems.push("JIGUANG_PROJECT_SECRET is set but JIGUANG_PROJECT_ID is not; set both or neither");
  if (!projectSecret) problems.push("JIGUANG_PROJECT_ID is set but JIGUANG_PROJECT_SECRET is not; set both or neither");
  const catalog = loadCatalog(v.JIGUANG_ATTRIBUTES_FILE, v.JIGUANG_ATTRIBUTES, problems);
  const config: JiguangConfig = {
    baseUrl: v.JIGUANG_API_URL,
    projectId: projectId ?? "",
    projectSecret: projectSecret ?? "",
    ...(catalog ? { catalog } : {}),
    timeZone: v.JIGUANG_TIMEZONE,
    ...(v.JIGUANG_IDENTITY_NAME ? { identityName: v.JIGUANG_IDENTITY_NAME } : {}),
    ratePerSecond: v.JIGUANG_RATE_LIMIT,
    timeoutMs: v.JIGUANG_TIMEOUT_MS,
  };
  return problems.length > 0 ? { status: "invalid", problems } : { status: "configured", config };
}

/**
 * The catalog, from the file or the inline text: one of two variables, so it is loaded once both
 * are read (and only for a configured vendor, since loading reads a file).
 */
function loadCatalog(file: string | undefined, inline: string | undefined, problems: string[]): AttributeCatalog | undefined {
  if (file && inline) {
    problems.push("set JIGUANG_ATTRIBUTES_FILE or JIGUANG_ATTRIBUTES, not both");
    return undefined;
  }
  const result = file ? loadCatalogFile(file) : inline ? parseCatalog(inline, "attribute catalog in JIGUANG_ATTRIBUTES") : undefined;
  if (!result) return undefined;
  if (!result.ok) {
    problems.push(...result.problems);
    return undefined;
  }
  return result.catalog;
}

/** Credentials and catalog of the sandbox project (the sandbox itself is loaded only when one starts). */
export const SANDBOX_PROJECT_ID = "jiguang-sandbox-project";
export const SANDBOX_PROJECT_SECRET = "jiguang-sandbox-secret";

/**
 * The sandbox project's Data Center: every type and every rule, plus the names the other
 * sandboxes' examples use. The adapter gets the same catalog through JIGUANG_ATTRIBUTES
 * (see jiguangSandboxEnv), so both sides agree as they would in a correctly configured deployment.
 */
export const SANDBOX_CATALOG: CatalogDocument = {
  attributes: {
    plan: { type: "STRING", rule: "overwrite" },
    nickname: { type: "STRING", rule: "overwrite" },
    vip_level: { type: "NUMBER", rule: "overwrite" },
    is_member: { type: "BOOL", rule: "overwrite" },
    last_login: { type: "DATETIME", rule: "overwrite" },
    favourite_genres: { type: "LIST", rule: "overwrite" },
    first_channel: { type: "STRING", rule: "once" },
    first_order_amount: { type: "NUMBER", rule: "once" },
    is_early_adopter: { type: "BOOL", rule: "once" },
    signup_time: { type: "DATETIME", rule: "once" },
    first_interests: { type: "LIST", rule: "once" },
    points: { type: "NUMBER", rule: "accumulate" },
    interests: { type: "LIST", rule: "append" },
  },
};

/**
 * Variables that point the adapter at a running sandbox. The sandbox enforces its own catalog, so
 * the adapter is given that one (inline, which also works from dist/, where no data file is
 * copied) and any operator catalog file is set aside.
 */
export function jiguangSandboxEnv(sandboxUrl: string): Env {
  return {
    JIGUANG_API_URL: sandboxUrl,
    JIGUANG_PROJECT_ID: SANDBOX_PROJECT_ID,
    JIGUANG_PROJECT_SECRET: SANDBOX_PROJECT_SECRET,
    JIGUANG_ATTRIBUTES: JSON.stringify(SANDBOX_CATALOG),
    JIGUANG_ATTRIBUTES_FILE: undefined,
  };
}
