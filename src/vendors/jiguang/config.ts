import { httpUrl, positiveNumber, readVariable } from "../../config/variables.js";
import type { ConfigResult, Env, EnvVariable } from "../define-vendor.js";
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
  /** The QPS Jiguang grants the project; the adapter paces below it (see PACING_HEADROOM). */
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
}

export const DEFAULT_BASE_URL = "https://growth.jiguang.cn";
/** Jiguang's documented limit for the attribute and Get-CUID endpoints. */
export const DEFAULT_RATE_PER_SECOND = 100;
/** Jiguang is a Chinese platform and its console shows Beijing time; China has no daylight saving time. */
export const DEFAULT_TIME_ZONE = "Asia/Shanghai";
export const DEFAULT_TIMEOUT_MS = 10_000;

export const jiguangEnv: Record<string, EnvVariable> = {
  JIGUANG_API_URL: { description: "Jiguang Operation Growth API host", default: DEFAULT_BASE_URL },
  JIGUANG_PROJECT_ID: {
    description: "Project ID (console: Configuration Management → Project Information); the Basic auth user",
    credential: true,
  },
  JIGUANG_PROJECT_SECRET: {
    description: "Project secret; the Basic auth password",
    secret: true,
    credential: true,
    basicAuth: { userVariable: "JIGUANG_PROJECT_ID" },
  },
  JIGUANG_ATTRIBUTES_FILE: {
    description:
      "Path of the attribute catalog (JSON or YAML: attributes: {name: {type, rule}}). With a catalog every operation is checked against the attribute's type and rule before sending; without one, writes pass through",
  },
  JIGUANG_ATTRIBUTES: {
    description: "The attribute catalog itself (JSON or YAML text), instead of JIGUANG_ATTRIBUTES_FILE; the sandbox uses this",
  },
  JIGUANG_TIMEZONE: {
    description: "IANA time zone in which DATETIME values are written as yyyy-MM-dd HH:mm:ss",
    default: DEFAULT_TIME_ZONE,
  },
  JIGUANG_IDENTITY_NAME: {
    description:
      "User identifier name (One ID, priority 1 in ID Mapping) whose values are the subgraph's user ids; they are mapped to CUIDs. Unset: user ids must be CUIDs",
  },
  JIGUANG_RATE_LIMIT: {
    description:
      "QPS Jiguang allows this project (attribute writes and CUID look-ups together, shared by all callers in the process); the adapter sends at most 90% of it",
    default: String(DEFAULT_RATE_PER_SECOND),
  },
  JIGUANG_TIMEOUT_MS: { description: "Timeout of one Jiguang request", default: String(DEFAULT_TIMEOUT_MS) },
};

export function readJiguangConfig(env: Env): ConfigResult<JiguangConfig> {
  const projectId = env.JIGUANG_PROJECT_ID?.trim();
  const projectSecret = env.JIGUANG_PROJECT_SECRET?.trim();
  if (!projectId && !projectSecret) return { status: "absent" };
  const problems: string[] = [];
  if (!projectId) problems.push("JIGUANG_PROJECT_SECRET is set but JIGUANG_PROJECT_ID is not; set both or neither");
  if (!projectSecret) problems.push("JIGUANG_PROJECT_ID is set but JIGUANG_PROJECT_SECRET is not; set both or neither");
  // Basic auth splits user and password at the first ":", so an id containing one would be misread.
  if (projectId?.includes(":")) problems.push('JIGUANG_PROJECT_ID must not contain ":"');

  const catalog = readCatalog(env, problems);
  const timeZone = readTimeZone(env, problems);
  const identityName = env.JIGUANG_IDENTITY_NAME?.trim() || undefined;
  const config: JiguangConfig = {
    baseUrl: readVariable(env, "JIGUANG_API_URL", httpUrl(DEFAULT_BASE_URL), problems),
    projectId: projectId ?? "",
    projectSecret: projectSecret ?? "",
    ...(catalog ? { catalog } : {}),
    timeZone,
    ...(identityName ? { identityName } : {}),
    ratePerSecond: readVariable(env, "JIGUANG_RATE_LIMIT", positiveNumber(DEFAULT_RATE_PER_SECOND), problems),
    timeoutMs: readVariable(env, "JIGUANG_TIMEOUT_MS", positiveNumber(DEFAULT_TIMEOUT_MS), problems),
  };
  return problems.length > 0 ? { status: "invalid", problems } : { status: "configured", config };
}

function readCatalog(env: Env, problems: string[]): AttributeCatalog | undefined {
  const file = env.JIGUANG_ATTRIBUTES_FILE?.trim();
  const inline = env.JIGUANG_ATTRIBUTES?.trim();
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

function readTimeZone(env: Env, problems: string[]): string {
  const raw = env.JIGUANG_TIMEZONE?.trim();
  if (!raw) return DEFAULT_TIME_ZONE;
  const zone = canonicalTimeZone(raw);
  if (!zone) problems.push(`JIGUANG_TIMEZONE must be an IANA time zone such as ${DEFAULT_TIME_ZONE}; got "${raw}"`);
  return zone ?? DEFAULT_TIME_ZONE;
}

/** The zone's canonical name as Intl knows it, or `undefined` when Intl does not know it. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
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
