import { JWT_DEFAULTS, type JwtSettings } from "../auth/caller.js";
import type { RetryPolicy } from "../http/client.js";
import type { DeliverySettings } from "../delivery/types.js";
import { parseRandomFaults, type RandomFault } from "../sandbox/faults.js";
import type { CircuitSettings } from "../reliability/circuit-breaker.js";
import { READINESS_POLICIES, type ReadinessSettings } from "../observability/readiness.js";
import type { RedisSettings } from "../redis/connection.js";
import { corsOriginProblems } from "../server/cors.js";
import { flag, integer, oneOf, parsedBy, readVariable, readVariables, text, variable, type Env, type ValuesOf } from "./variables.js";

export type SandboxMode = "auto" | "force" | "off";

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** auto: sandboxes when no vendor has credentials; force: SANDBOX=true; off: SANDBOX=false. */
  readonly sandbox: SandboxMode;
  readonly logLevel: string;
  /** Write each log line before going on (true), or buffer lines and write them off the request path (false). */
  readonly logSync: boolean;
  readonly production: boolean;
  readonly maxBodyBytes: number;
  readonly graphiql: boolean;
  readonly introspection: boolean;
  /** Users that exist in the sandboxes of vendors that never create users. */
  readonly sandboxUserIds: readonly string[];
  /** Random faults every sandbox answers with (SANDBOX_FAULTS). */
  readonly sandboxFaults: readonly RandomFault[];
  readonly bulk: BulkSettings;
  readonly delivery: DeliverySettings;
  readonly retry: RetryPolicy;
  /** Bounds on every vendor exchange: the answer's size, and an interactive call's wait for the rate budget. */
  readonly vendorLimits: { readonly maxResponseBytes: number; readonly maxWaitMs?: number };
  readonly circuit: CircuitSettings;
  readonly auth: AuthSettings;
  /** maxKeys bounds the in-memory store only; inFlightWaitMs applies to the shared (Redis) store only. */
  readonly idempotency: { readonly windowMs: number; readonly maxKeys: number; readonly inFlightWaitMs: number };
  readonly queryLimits: { readonly maxDepth: number; readonly maxFields: number };
  /** Declare @authenticated / @requiresScopes (Apollo Router); off for @apollo/gateway, which refuses them. */
  readonly federationAuthDirectives: boolean;
  /** Serve Prometheus metrics at GET /metrics. */
  readonly metrics: boolean;
  readonly readiness: ReadinessSettings;
  /** Browser origins allowed to call GraphQL cross-origin (CORS_ORIGINS). */
  readonly corsOrigins: readonly string[];
  /** Shared mode: every piece of cross-request state in this Redis (REDIS_URL); absent: in process. */
  readonly redis?: RedisSettings;
  /** How long a shutdown waits for requests in progress before closing their connections (SHUTDOWN_GRACE_MS). */
  readonly shutdownGraceMs: number;
}

export interface AuthSettings {
  /** Verify callers' JWTs with these settings; undefined when neither secret nor JWKS URL is set. */
  readonly jwt?: JwtSettings;
  /** AUTH_DISABLED=true: everyone may do everything. Required to run live vendors without auth. */
  readonly disabled: boolean;
}

export interface BulkSettings {
  readonly maxUserIds: number;
  readonly jobConcurrency: number;
  readonly fanOutConcurrency: number;
  readonly maxAttempts: number;
  /** Failures whose details a job keeps per vendor, the first ones (BULK_MAX_FAILURES_KEPT); all are counted. */
  readonly maxFailuresKept: number;
  /** Shared mode: run a BullMQ worker in this process (BULK_WORKER). */
  readonly worker: boolean;
  /** Shared mode: chunks one worker process runs at once (BULK_WORKER_CONCURRENCY). */
  readonly workerConcurrency: number;
  /** Shared mode: how long a chunk's lock lasts without renewal before its worker counts as dead (BULK_WORKER_LOCK_MS). */
  readonly workerLockMs: number;
  /** Shared mode: seconds a finished job stays readable (BULK_JOB_RETENTION_SECONDS). */
  readonly retentionSeconds: number;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every application-level variable: its documentation and how it is read (vendors declare their own). */
export const APP_ENV = {
  PORT: variable("Port of the GraphQL endpoint", integer(4001, 0, 65_535)),
  HOST: variable("Interface to listen on", text("0.0.0.0")),
  SANDBOX: variable(
    "true: always use the built-in sandbox vendors; false: never. Unset: sandboxes only when no vendor has credentials",
    sandboxMode(),
    "(unset)",
  ),
  LOG_SYNC: variable(
    "true: write every log line to stdout before going on; false: write lines asynchronously (flushed on exit; a hard kill may lose the last lines)",
    flag(false),
  ),
  LOG_LEVEL: variable("pino level: fatal, error, warn, info, debug, trace, silent", oneOf(LOG_LEVELS, "info")),
  NODE_ENV: variable("production turns GraphiQL and introspection off by default", text(), "(unset)"),
  MAX_BODY_BYTES: variable(
    "Largest accepted request body; larger ones get 413 (room for 100,000 bulk user ids)",
    integer(8 * 1_048_576, 1_024, 256 * 1_048_576),
  ),
  GRAPHIQL: variable("Serve GraphiQL at GET /", flag(), "true, false in production"),
  INTROSPECTION: variable("Allow introspection queries", flag(), "true, false in production"),
  SANDBOX_USER_IDS: variable(
    "Comma-separated user ids, or ranges such as 1-100, that exist in the sandbox vendors",
    parsedBy(userIds, "1-100", "1-100"),
  ),
  SANDBOX_FAULTS: variable(
    "Random faults the sandbox vendors answer with, e.g. 503:0.02,429;retry-after=1:0.01,hang;ms=2000:0.005,reset:0.005,malformed:0.005,500-after-apply:0.005",
    parsedBy(sandboxFaults, "", "(none)"),
  ),
  BULK_MAX_USER_IDS: variable("Most user ids one bulkSetCustomAttribute call may name", integer(100_000, 1, 10_000_000)),
  BULK_JOB_CONCURRENCY: variable("Bulk jobs running at once in this process", integer(2, 1, 64)),
  BULK_FAN_OUT_CONCURRENCY: variable(
    "Users in flight per vendor without a native bulk path (the vendor's rate limit still applies)",
    integer(32, 1, 1_024),
  ),
  VENDOR_RETRY_LIMIT: variable(
    "Automatic retries of one vendor request (only where a repeat cannot change the outcome)",
    integer(2, 0, 10),
  ),
  VENDOR_RETRY_BASE_DELAY_MS: variable("First retry delay before exponential growth and jitter", integer(200, 0, 60_000)),
  VENDOR_RETRY_MAX_DELAY_MS: variable("Longest delay between retries", integer(2_000, 0, 600_000)),
  VENDOR_MAX_RETRY_AFTER_MS: variable(
    "Longest Retry-After waited for inside one request; longer ones are returned as AttributesRateLimitedError",
    integer(5_000, 0, 600_000),
  ),
  VENDOR_MAX_RESPONSE_BYTES: variable(
    "Largest vendor answer read, after decompression; a longer one is cut off there and the call fails with AttributesVendorUnavailableError (RESPONSE_TOO_LARGE)",
    integer(1_048_576, 1_024, 64 * 1_048_576),
  ),
  VENDOR_MAX_WAIT_MS: variable(
    "Longest a single update waits for a slot in a vendor's rate budget; a longer wait fails at once with AttributesRateLimitedError and retryAfterSeconds, nothing sent (bulk jobs wait as long as the vendor asks)",
    integer(undefined, 0, 600_000),
    "each vendor's timeout",
  ),
  CIRCUIT_FAILURE_THRESHOLD: variable(
    "Consecutive unavailability failures that open a vendor's circuit (override per vendor: <VENDOR>_CIRCUIT_FAILURE_THRESHOLD)",
    circuitThreshold(5),
  ),
  CIRCUIT_COOLDOWN_MS: variable(
    "How long an open circuit fails fast before a probe (override per vendor: <VENDOR>_CIRCUIT_COOLDOWN_MS)",
    circuitCooldown(30_000),
  ),
  AUTH_JWT_SECRET: variable("HS256 secret that signs callers' JWTs (at least 32 characters). Secret", text(), "(unset)"),
  AUTH_JWKS_URL: variable("JWKS URL with the keys that sign callers' JWTs (instead of AUTH_JWT_SECRET)", text(), "(unset)"),
  AUTH_ISSUER: variable("Required `iss` of callers' JWTs", text(), "(any)"),
  AUTH_AUDIENCE: variable("Required `aud` of callers' JWTs", text(), "(any)"),
  AUTH_REQUIRE_EXP: variable(
    "true: refuse callers' JWTs without an `exp` claim (a token that never expires); false: accept them",
    flag(JWT_DEFAULTS.requireExp),
  ),
  AUTH_CLOCK_SKEW_SECONDS: variable(
    "Clock difference tolerated when checking a JWT's exp and nbf, from 0 to 300 seconds",
    integer(JWT_DEFAULTS.clockSkewSeconds, 0, 300),
  ),
  AUTH_DISABLED: variable(
    "true: no caller authorization. Required to run live vendors without AUTH_JWT_SECRET or AUTH_JWKS_URL",
    flag(false),
  ),
  IDEMPOTENCY_WINDOW_SECONDS: variable("How long an idempotency key remembers its result", integer(86_400, 1, 30 * 86_400)),
  IDEMPOTENCY_MAX_KEYS: variable(
    "Most idempotency keys held at once in process memory (0.3–1.3 KB each); a key is forgotten only when its window ends, so when all are in use a new key is refused with AttributesIdempotencyStoreFullError. Not used in shared mode (REDIS_URL): keys live in Redis",
    integer(50_000, 1, 10_000_000),
  ),
  IDEMPOTENCY_IN_FLIGHT_WAIT_MS: variable(
    "Shared mode: longest a repeat waits for the outcome of a call holding the same idempotency key on another replica before it is answered AttributesIdempotencyKeyInProgressError (nothing sent)",
    integer(15_000, 0, 600_000),
  ),
  FEDERATION_AUTH_DIRECTIVES: variable(
    "Declare @authenticated / @requiresScopes in the subgraph schema for Apollo Router; set false behind @apollo/gateway, which refuses supergraphs containing them (the subgraph enforces authorization either way)",
    flag(true),
  ),
  MAX_QUERY_DEPTH: variable("Deepest selection nesting accepted in one operation", integer(12, 2, 100)),
  MAX_QUERY_FIELDS: variable("Most fields selected in one operation, fragments expanded", integer(2_000, 10, 100_000)),
  BULK_MAX_ATTEMPTS: variable("Attempts per user on transient failures (rate limited, unavailable) in bulk jobs", integer(3, 1, 10)),
  BULK_WORKER: variable(
    "Shared mode: run a bulk worker in this subgraph process (false: this replica submits, follows and cancels jobs; `npm run worker` processes run them)",
    flag(true),
  ),
  BULK_WORKER_CONCURRENCY: variable("Shared mode: chunks of users one worker process runs at once", integer(4, 1, 256)),
  BULK_WORKER_LOCK_MS: variable(
    "Shared mode: a worker renews its lock on a chunk every half of this; a chunk whose lock lapses (its worker was killed) is run again by another worker",
    integer(30_000, 1_000, 600_000),
  ),
  BULK_JOB_RETENTION_SECONDS: variable(
    "Shared mode: how long a finished bulk job stays readable in Redis",
    integer(7 * 86_400, 60, 90 * 86_400),
  ),
  BULK_MAX_FAILURES_KEPT: variable(
    "Failures a bulk job keeps with their details per vendor, the first ones recorded (0 to 100000); every failure is still counted, by error code",
    integer(1_000, 0, 100_000),
  ),
  DELIVERY_RETRY_WINDOW_SECONDS: variable(
    "GUARANTEED delivery: how long a queued update is retried, from when it was queued; after it, the delivery is EXPIRED with its last error",
    integer(14_400, 1, 30 * 86_400),
  ),
  DELIVERY_MAX_ATTEMPTS: variable(
    "GUARANTEED delivery: attempts per queued update at most, the first one included",
    integer(100, 1, 10_000),
  ),
  DELIVERY_RETRY_BASE_DELAY_MS: variable(
    "GUARANTEED delivery: delay before the first retry; each next one doubles (jittered), up to DELIVERY_RETRY_MAX_DELAY_MS",
    integer(1_000, 1, 3_600_000),
  ),
  DELIVERY_RETRY_MAX_DELAY_MS: variable(
    "GUARANTEED delivery: longest delay between two attempts, unless the vendor's Retry-After asks for longer",
    integer(300_000, 1, 86_400_000),
  ),
  DELIVERY_MAX_QUEUED: variable(
    "Most updates queued at once across vendors (GUARANTEED retries, and updates waiting behind them); beyond it an update is answered with its failure instead of queued",
    integer(100_000, 1, 100_000_000),
  ),
  DELIVERY_RETENTION_SECONDS: variable(
    "How long a settled queued delivery stays readable with attributeDelivery",
    integer(7 * 86_400, 60, 90 * 86_400),
  ),
  DELIVERY_WORKER_CONCURRENCY: variable(
    "Users' delivery lanes one process retries at once (shared mode: processes running a worker, see BULK_WORKER)",
    integer(16, 1, 1_024),
  ),
  METRICS: variable("Serve Prometheus metrics at GET /metrics", flag(true)),
  CORS_ORIGINS: variable(
    "Browser origins allowed to call the GraphQL endpoint from another origin, comma-separated: https://app.example.com, http://localhost:* (any port), or * (any). Unset: none (behind a router, the router owns CORS); the dev stack allows http://localhost:* and http://127.0.0.1:*",
    parsedBy(corsOrigins, "", "(unset)"),
  ),
  REDIS_URL: variable(
    "Shared mode: redis:// or rediss:// URL (with the password, if any) of the Redis 7 that every replica and worker shares. Unset: state stays in this process",
    text(),
    "(unset)",
  ),
  REDIS_KEY_PREFIX: variable("Prefix of every Redis key this deployment writes", redisKeyPrefix()),
  REDIS_TLS_CA_FILE: variable("PEM file of the CA that signed a rediss:// server's certificate, when not a public one", text(), "(unset)"),
  READINESS_POLICY: variable(
    "Live vendors that must be reachable (circuit not open) for GET /ready to answer 200: any (at least one), all, or none (reported only). Sandboxed vendors are always ready",
    oneOf(READINESS_POLICIES, "any", { ignoreCase: true }),
  ),
  READINESS_PROBE_TIMEOUT_MS: variable(
    "Longest wait for one vendor reachability probe (a TCP connection to its base URL's host; nothing is sent)",
    integer(2_000, 50, 60_000),
  ),
  READINESS_CACHE_MS: variable("How long a vendor reachability probe's result is reused by GET /ready", integer(10_000, 0, 600_000)),
  SHUTDOWN_GRACE_MS: variable(
    "On SIGTERM/SIGINT, longest wait for requests in progress to be answered before their connections are closed (keep it below the orchestrator's termination grace period, 30 s in Kubernetes)",
    integer(25_000, 0, 3_600_000),
  ),
} as const;

/**
 * One line for a listener that could not bind (a busy or forbidden port), naming the variable
 * that chooses it; undefined for any other error.
 */
export function listenProblem(error: unknown, variable: string, port: number, host: string): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE")
    return `${variable}=${port} is already in use on ${host}: stop what listens there, or set ${variable} to a free port`;
  if (code === "EACCES") return `${variable}=${port} may not be used by this user on ${host}: set ${variable} to a port above 1023`;
  if (code === "EADDRNOTAVAIL") return `HOST=${host} is not an address of this machine: set HOST (and ${variable})`;
  return undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

export function readAppConfig(env: Env): AppConfig {
  const { config, problems } = parseAppConfig(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The configuration with defaults wherever a value is bad, and every problem found: for checks that report all stages at once. */
export function parseAppConfig(env: Env): { config: AppConfig; problems: string[] } {
  const problems: string[] = [];
  const v = readVariables(APP_ENV, env, problems);
  const production = v.NODE_ENV === "production";
  const config: AppConfig = {
    port: v.PORT,
    host: v.HOST,
    sandbox: v.SANDBOX,
    logLevel: v.LOG_LEVEL,
    logSync: v.LOG_SYNC,
    production,
    maxBodyBytes: v.MAX_BODY_BYTES,
    graphiql: v.GRAPHIQL ?? !production,
    introspection: v.INTROSPECTION ?? !production,
    sandboxUserIds: v.SANDBOX_USER_IDS,
    sandboxFaults: v.SANDBOX_FAULTS,
    bulk: {
      maxUserIds: v.BULK_MAX_USER_IDS,
      jobConcurrency: v.BULK_JOB_CONCURRENCY,
      fanOutConcurrency: v.BULK_FAN_OUT_CONCURRENCY,
      maxAttempts: v.BULK_MAX_ATTEMPTS,
      maxFailuresKept: v.BULK_MAX_FAILURES_KEPT,
      worker: v.BULK_WORKER,
      workerConcurrency: v.BULK_WORKER_CONCURRENCY,
      workerLockMs: v.BULK_WORKER_LOCK_MS,
      retentionSeconds: v.BULK_JOB_RETENTION_SECONDS,
    },
    delivery: {
      windowMs: v.DELIVERY_RETRY_WINDOW_SECONDS * 1000,
      maxAttempts: v.DELIVERY_MAX_ATTEMPTS,
      baseDelayMs: v.DELIVERY_RETRY_BASE_DELAY_MS,
      maxDelayMs: v.DELIVERY_RETRY_MAX_DELAY_MS,
      maxQueued: v.DELIVERY_MAX_QUEUED,
      retentionMs: v.DELIVERY_RETENTION_SECONDS * 1000,
      workerConcurrency: v.DELIVERY_WORKER_CONCURRENCY,
    },
    retry: {
      limit: v.VENDOR_RETRY_LIMIT,
      baseDelayMs: v.VENDOR_RETRY_BASE_DELAY_MS,
      maxDelayMs: v.VENDOR_RETRY_MAX_DELAY_MS,
      maxRetryAfterMs: v.VENDOR_MAX_RETRY_AFTER_MS,
    },
    vendorLimits: {
      maxResponseBytes: v.VENDOR_MAX_RESPONSE_BYTES,
      ...(v.VENDOR_MAX_WAIT_MS === undefined ? {} : { maxWaitMs: v.VENDOR_MAX_WAIT_MS }),
    },
    circuit: { failureThreshold: v.CIRCUIT_FAILURE_THRESHOLD, cooldownMs: v.CIRCUIT_COOLDOWN_MS },
    auth: authSettings(v, problems),
    federationAuthDirectives: v.FEDERATION_AUTH_DIRECTIVES,
    idempotency: {
      windowMs: v.IDEMPOTENCY_WINDOW_SECONDS * 1000,
      maxKeys: v.IDEMPOTENCY_MAX_KEYS,
      inFlightWaitMs: v.IDEMPOTENCY_IN_FLIGHT_WAIT_MS,
    },
    queryLimits: { maxDepth: v.MAX_QUERY_DEPTH, maxFields: v.MAX_QUERY_FIELDS },
    metrics: v.METRICS,
    corsOrigins: v.CORS_ORIGINS,
    ...redisSettings(v, problems),
    readiness: { policy: v.READINESS_POLICY, probeTimeoutMs: v.READINESS_PROBE_TIMEOUT_MS, cacheMs: v.READINESS_CACHE_MS },
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  };
  return { config, problems };
}

type AppValues = ValuesOf<typeof APP_ENV>;

/** Rules between variables, once each is valid on its own. */
function redisSettings(v: AppValues, problems: string[]): { redis?: RedisSettings } {
  const url = v.REDIS_URL;
  const caFile = v.REDIS_TLS_CA_FILE;
  if (!url) {
    if (caFile) problems.push("REDIS_TLS_CA_FILE is set but REDIS_URL is not");
    return {};
  }
  try {
    const protocol = new URL(url).protocol;
    if (protocol !== "redis:" && protocol !== "rediss:") problems.push("REDIS_URL must start with redis:// or rediss://");
    if (caFile && protocol !== "rediss:") problems.push("REDIS_TLS_CA_FILE needs a rediss:// REDIS_URL");
  } catch {
    problems.push("REDIS_URL must be a redis:// or rediss:// URL");
  }
  return { redis: { url, keyPrefix: v.REDIS_KEY_PREFIX, ...(caFile ? { tlsCaFile: caFile } : {}) } };
}

function authSettings(v: AppValues, problems: string[]): AuthSettings {
  const secret = v.AUTH_JWT_SECRET;
  const jwksUrl = v.AUTH_JWKS_URL;
  if (secret && jwksUrl) problems.push("set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both");
  if (secret && secret.length < 32) problems.push("AUTH_JWT_SECRET must be at least 32 characters");
  if (jwksUrl) {
    try {
      if (new URL(jwksUrl).protocol !== "https:" && !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(jwksUrl)) {
        problems.push("AUTH_JWKS_URL must use https (plain http only on loopback)");
      }
    } catch {
      problems.push(`AUTH_JWKS_URL must be a URL; got "${jwksUrl}"`);
    }
  }
  if (v.AUTH_DISABLED && (secret || jwksUrl)) problems.push("AUTH_DISABLED=true contradicts AUTH_JWT_SECRET / AUTH_JWKS_URL");
  const jwt: JwtSettings | undefined =
    secret || jwksUrl
      ? {
          ...(secret ? { secret } : {}),
          ...(jwksUrl ? { jwksUrl } : {}),
          ...(v.AUTH_ISSUER ? { issuer: v.AUTH_ISSUER } : {}),
          ...(v.AUTH_AUDIENCE ? { audience: v.AUTH_AUDIENCE } : {}),
          requireExp: v.AUTH_REQUIRE_EXP,
          clockSkewSeconds: v.AUTH_CLOCK_SKEW_SECONDS,
        }
      : undefined;
  return { disabled: v.AUTH_DISABLED, ...(jwt ? { jwt } : {}) };
}

/** Circuit settings from `<prefix>CIRCUIT_…` (a vendor's override), falling back to the given defaults. */
export function circuitSettings(env: Env, prefix: string, fallback: CircuitSettings, problems: string[]): CircuitSettings {
  return {
    failureThreshold: readVariable(env, `${prefix}CIRCUIT_FAILURE_THRESHOLD`, circuitThreshold(fallback.failureThreshold), problems),
    cooldownMs: readVariable(env, `${prefix}CIRCUIT_COOLDOWN_MS`, circuitCooldown(fallback.cooldownMs), problems),
  };
}

function circuitThreshold(fallback: number) {
  return integer(fallback, 1, 1_000);
}

function circuitCooldown(fallback: number) {
  return integer(fallback, 100, 3_600_000);
}

/** SANDBOX: true → force, false → off, unset → auto. */
function sandboxMode() {
  return parsedBy<SandboxMode>((text) => {
    const word = text.trim().toLowerCase();
    if (word === "true" || word === "1") return { value: "force", problems: [] };
    if (word === "false" || word === "0") return { value: "off", problems: [] };
    return { value: "auto", problems: word ? [`SANDBOX must be true or false; got "${text}"`] : [] };
  }, "");
}

function redisKeyPrefix() {
  return parsedBy<string>(
    (text) => {
      const prefix = text.trim() || "attributes";
      return {
        value: prefix,
        problems: /^[A-Za-z0-9_.-]{1,64}$/.test(prefix) ? [] : ["REDIS_KEY_PREFIX must be 1 to 64 of A-Z a-z 0-9 _ . -"],
      };
    },
    "",
    "attributes",
  );
}

function corsOrigins(text: string): { value: string[]; problems: string[] } {
  const origins = text
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  return { value: origins, problems: corsOriginProblems(origins) };
}

function sandboxFaults(text: string): { value: RandomFault[]; problems: string[] } {
  const { faults, problems } = parseRandomFaults(text);
  return { value: faults, problems };
}

function userIds(text: string): { value: string[]; problems: string[] } {
  const ids: string[] = [];
  const problems: string[] = [];
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (!range) {
      ids.push(part);
      continue;
    }
    const [from, to] = [Number(range[1]), Number(range[2])];
    if (to < from || to - from > 100_000) {
      problems.push(`SANDBOX_USER_IDS range ${part} must ascend and span at most 100000 ids`);
      continue;
    }
    for (let id = from; id <= to; id++) ids.push(String(id));
  }
  return { value: ids, problems };
}
