import { JWT_DEFAULTS, type JwtSettings } from "../auth/caller.js";
import type { RetryPolicy } from "../http/client.js";
import type { DeliverySettings } from "../delivery/types.js";
import { parseRandomFaults, type RandomFault } from "../sandbox/faults.js";
import type { CircuitSettings } from "../reliability/circuit-breaker.js";
import { READINESS_POLICIES, type ReadinessSettings } from "../observability/readiness.js";
import type { RedisSettings } from "../redis/connection.js";
import { corsOriginProblems } from "../server/cors.js";
import {
  flag,
  httpsUrl,
  integer,
  list,
  oneOf,
  parsedBy,
  readVariable,
  readVariables,
  schemeUrl,
  text,
  variable,
  type Env,
  type ListEntry,
  type ValuesOf,
} from "./variables.js";

export type SandboxMode = "auto" | "force" | "off";

/**
 * The application's settings. Fields read from one variable have that variable's type (APP_ENV's
 * readers); the others combine several, or are another module's settings.
 */
export interface AppConfig {
  readonly port: AppValues["PORT"];
  readonly host: AppValues["HOST"];
  /** auto: sandboxes when no vendor has credentials; force: SANDBOX=true; off: SANDBOX=false. */
  readonly sandbox: AppValues["SANDBOX"];
  readonly logLevel: AppValues["LOG_LEVEL"];
  /** Write each log line before going on (true), or buffer lines and write them off the request path (false). */
  readonly logSync: AppValues["LOG_SYNC"];
  readonly production: boolean;
  readonly maxBodyBytes: AppValues["MAX_BODY_BYTES"];
  /** GRAPHIQL, defaulting by NODE_ENV. */
  readonly graphiql: boolean;
  /** INTROSPECTION, defaulting by NODE_ENV. */
  readonly introspection: boolean;
  /** Users that exist in the sandboxes of vendors that never create users. */
  readonly sandboxUserIds: Readonly<AppValues["SANDBOX_USER_IDS"]>;
  /** Random faults every sandbox answers with (SANDBOX_FAULTS). */
  readonly sandboxFaults: Readonly<AppValues["SANDBOX_FAULTS"]>;
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
  readonly federationAuthDirectives: AppValues["FEDERATION_AUTH_DIRECTIVES"];
  /** Serve Prometheus metrics at GET /metrics. */
  readonly metrics: AppValues["METRICS"];
  readonly readiness: ReadinessSettings;
  /** Browser origins allowed to call GraphQL cross-origin (CORS_ORIGINS). */
  readonly corsOrigins: Readonly<AppValues["CORS_ORIGINS"]>;
  /** Shared mode: every piece of cross-request state in this Redis (REDIS_URL); absent: in process. */
  readonly redis?: RedisSettings;
  /** How long a shutdown waits for requests in progress before closing their connections (SHUTDOWN_GRACE_MS). */
  readonly shutdownGraceMs: AppValues["SHUTDOWN_GRACE_MS"];
}

export interface AuthSettings {
  /** Verify callers' JWTs with these settings; undefined when neither secret nor JWKS URL is set. */
  readonly jwt?: JwtSettings;
  /** AUTH_DISABLED=true: everyone may do everything. Required to run live vendors without auth. */
  readonly disabled: boolean;
}

export interface BulkSettings {
  readonly maxUserIds: AppValues["BULK_MAX_USER_IDS"];
  readonly jobConcurrency: AppValues["BULK_JOB_CONCURRENCY"];
  readonly fanOutConcurrency: AppValues["BULK_FAN_OUT_CONCURRENCY"];
  readonly maxAttempts: AppValues["BULK_MAX_ATTEMPTS"];
  /** Failures whose details a job keeps per vendor, the first ones (BULK_MAX_FAILURES_KEPT); all are counted. */
  readonly maxFailuresKept: AppValues["BULK_MAX_FAILURES_KEPT"];
  /** Shared mode: run a BullMQ worker in this process (BULK_WORKER). */
  readonly worker: AppValues["BULK_WORKER"];
  /** Shared mode: chunks one worker process runs at once (BULK_WORKER_CONCURRENCY). */
  readonly workerConcurrency: AppValues["BULK_WORKER_CONCURRENCY"];
  /** Shared mode: how long a chunk's lock lasts without renewal before its worker counts as dead (BULK_WORKER_LOCK_MS). */
  readonly workerLockMs: AppValues["BULK_WORKER_LOCK_MS"];
  /** Shared mode: seconds a finished job stays readable (BULK_JOB_RETENTION_SECONDS). */
  readonly retentionSeconds: AppValues["BULK_JOB_RETENTION_SECONDS"];
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every application-level variable: its documentation and how it is read (vendors declare their own). */
export const APP_ENV = {
  PORT: variable("port of the GraphQL endpoint", integer(4001, 0, 65_535)),
  HOST: variable("interface to listen on", text("0.0.0.0")),
  SANDBOX: variable(
    "`true`: always sandbox vendors; `false`: never; unset: sandbox only when no vendor has credentials",
    // true → force, false → off, unset → auto.
    flag().transform((on): SandboxMode => (on === undefined ? "auto" : on ? "force" : "off")),
  ),
  LOG_SYNC: variable(
    "`false`: log lines are written to stdout off the request path and flushed on exit (a `SIGKILL`, an out-of-memory kill or power loss can lose the last lines; if stdout stalls, lines beyond 16 MiB held are dropped and counted in `attributes_log_lines_dropped_total`); `true`: each line is written before the request goes on, at the cost of request latency whenever the disk or pipe stalls",
    flag(false),
  ),
  LOG_LEVEL: variable("pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`", oneOf(LOG_LEVELS, "info")),
  NODE_ENV: variable("`production` turns GraphiQL and introspection off by default", text()),
  MAX_BODY_BYTES: variable(
    "largest request body (room for 100,000 bulk user ids), counted after decompression (see [Requests](operations.md#requests)); larger gets 413",
    integer(8 * 1_048_576, 1_024, 256 * 1_048_576),
  ),
  GRAPHIQL: variable("serve GraphiQL at `GET /`", flag(), "(`true` (`false` in production))"),
  INTROSPECTION: variable("allow introspection", flag(), "(`true` (`false` in production))"),
  SANDBOX_USER_IDS: variable(
    "comma-separated user ids, or ranges such as `1-100`, that exist in the sandbox vendors",
    list(userIdsEntry, "1-100"),
  ),
  SANDBOX_FAULTS: variable(
    "random faults the sandboxes answer with, e.g. `503:0.02,429;retry-after=1:0.01,hang;ms=2000:0.005,reset:0.005,malformed:0.005,500-after-apply:0.005` (chaos and soak runs)",
    parsedBy(sandboxFaults, "", "(none)"),
  ),
  BULK_MAX_USER_IDS: variable("most user ids in one `bulkSetCustomAttribute` call", integer(100_000, 1, 10_000_000)),
  BULK_JOB_CONCURRENCY: variable("bulk jobs running at once in this process", integer(2, 1, 64)),
  BULK_FAN_OUT_CONCURRENCY: variable(
    "users in flight per vendor without a native bulk path (the vendor's pacer still sets the rate)",
    integer(32, 1, 1_024),
  ),
  VENDOR_RETRY_LIMIT: variable(
    "automatic retries of one vendor request of a single update, only where a repeat cannot change the outcome (bulk jobs have their own budget: `BULK_MAX_ATTEMPTS`)",
    integer(2, 0, 10),
  ),
  VENDOR_RETRY_BASE_DELAY_MS: variable("first retry delay, growing exponentially, with full jitter", integer(200, 0, 60_000)),
  VENDOR_RETRY_MAX_DELAY_MS: variable("longest delay between retries", integer(2_000, 0, 600_000)),
  VENDOR_MAX_RETRY_AFTER_MS: variable(
    "longest `Retry-After` waited for inside one call; longer ones come back as `AttributesRateLimitedError`",
    integer(5_000, 0, 600_000),
  ),
  VENDOR_MAX_RESPONSE_BYTES: variable(
    "largest vendor answer read, after decompression; a longer one is cut off there and the call fails with `AttributesVendorUnavailableError` (`vendorCode: ERR_RESPONSE_TOO_LARGE`)",
    integer(1_048_576, 1_024, 64 * 1_048_576),
  ),
  VENDOR_MAX_WAIT_MS: variable(
    "longest a single update waits for a slot in a vendor's rate budget; a longer wait fails at once with `AttributesRateLimitedError` (`vendorCode: RATE_BUDGET_WAIT`, `retryAfterSeconds` = the wait), nothing sent. Bulk jobs wait as long as the vendor asks",
    integer(undefined, 0, 600_000),
    "(each vendor's timeout)",
  ),
  CIRCUIT_FAILURE_THRESHOLD: variable(
    "consecutive unavailability failures that open a vendor's circuit; per vendor: `<VENDOR>_CIRCUIT_FAILURE_THRESHOLD` (for example `LEANPLUM_CIRCUIT_FAILURE_THRESHOLD`)",
    circuitThreshold(5),
  ),
  CIRCUIT_COOLDOWN_MS: variable(
    "how long an open circuit fails fast before one probe; per vendor: `<VENDOR>_CIRCUIT_COOLDOWN_MS`",
    circuitCooldown(30_000),
  ),
  AUTH_JWT_SECRET: variable(
    "HS256 secret of callers' JWTs (at least 32 characters).",
    text(undefined, { accepts: (secret) => secret.length >= 32, message: "must be at least 32 characters" }),
    { secret: true },
  ),
  AUTH_JWKS_URL: variable("JWKS URL of callers' JWT keys, instead of the secret: https (plain http only on loopback)", httpsUrl()),
  AUTH_ISSUER: variable("required `iss`", text(), "(any)"),
  AUTH_AUDIENCE: variable("required `aud`", text(), "(any)"),
  AUTH_REQUIRE_EXP: variable(
    "`true` refuses tokens without an `exp` claim (they would never expire); `false` accepts them (an `exp` present is checked either way)",
    flag(JWT_DEFAULTS.requireExp),
  ),
  AUTH_CLOCK_SKEW_SECONDS: variable(
    "clock difference tolerated when checking `exp` and `nbf`, from `0` to `300` seconds",
    integer(JWT_DEFAULTS.clockSkewSeconds, 0, 300),
  ),
  AUTH_DISABLED: variable("`true` switches caller authorization off; required to run live vendors without JWT settings", flag(false)),
  IDEMPOTENCY_WINDOW_SECONDS: variable(
    "how long an idempotency key remembers its result, from its first use",
    integer(86_400, 1, 30 * 86_400),
  ),
  IDEMPOTENCY_MAX_KEYS: variable(
    "in-process store only (not used in shared mode, where keys live in Redis): most keys held at once in process memory; a key is forgotten only when its window ends, so when every key is live a new one is refused with `AttributesIdempotencyStoreFullError` (and `retryAfterSeconds`). Each key holds 0.3 KB (one vendor delivered) to 1.3 KB (four vendors, two failed) of heap (`npm run bench:idempotency`): the default is at most ~64 MB, and at the default window allows ~0.6 keyed updates per second, sustained. Raise it with the heap, or shorten the window",
    integer(50_000, 1, 10_000_000),
  ),
  IDEMPOTENCY_IN_FLIGHT_WAIT_MS: variable(
    "shared mode: longest a repeat waits for the outcome of a call holding the same key on another replica; past it the repeat gets `AttributesIdempotencyKeyInProgressError` and nothing is sent",
    integer(15_000, 0, 600_000),
  ),
  FEDERATION_AUTH_DIRECTIVES: variable(
    "declare `@authenticated` / `@requiresScopes` for Apollo Router; set `false` behind `@apollo/gateway`, which refuses supergraphs that contain them (the subgraph enforces authorization either way)",
    flag(true),
  ),
  MAX_QUERY_DEPTH: variable(
    "deepest selection nesting in one operation (fragments expanded); introspection (`__schema`, `__type`) may nest up to 20, since the standard introspection query tools send is 15 deep",
    integer(12, 2, 100),
  ),
  MAX_QUERY_FIELDS: variable("most fields selected in one operation (fragments counted where spread)", integer(2_000, 10, 100_000)),
  BULK_MAX_ATTEMPTS: variable(
    "requests per user and vendor in a bulk job, retries included (rate limited, unavailable): one budget, since the vendor client does not retry bulk calls itself",
    integer(3, 1, 10),
  ),
  BULK_WORKER: variable(
    "run a bulk worker inside this subgraph process; `false` leaves bulk work to `npm run worker` processes (the replica still submits, follows and cancels jobs)",
    flag(true),
  ),
  BULK_WORKER_CONCURRENCY: variable(
    "chunks of users one worker process runs at once (each vendor's shared rate budget still sets the pace)",
    integer(4, 1, 256),
  ),
  BULK_WORKER_LOCK_MS: variable(
    "a worker renews its lock on a chunk every half of this; a chunk whose lock lapses (its worker was killed) is run again by another worker",
    integer(30_000, 1_000, 600_000),
  ),
  BULK_JOB_RETENTION_SECONDS: variable(
    "how long a finished job stays readable in Redis (7 days); its ids and bookkeeping go when it finishes",
    integer(7 * 86_400, 60, 90 * 86_400),
  ),
  BULK_MAX_FAILURES_KEPT: variable(
    "failures a job keeps with their details per vendor, the first ones recorded (`0`–`100000`); every failure is still counted, by error code",
    integer(1_000, 0, 100_000),
  ),
  DELIVERY_RETRY_WINDOW_SECONDS: variable(
    "how long a GUARANTEED update is retried, from when it was queued (4 hours); after it, the delivery is `EXPIRED` with its last error",
    integer(14_400, 1, 30 * 86_400),
  ),
  DELIVERY_MAX_ATTEMPTS: variable("attempts per queued update at most, the first one included; then `EXPIRED`", integer(100, 1, 10_000)),
  DELIVERY_RETRY_BASE_DELAY_MS: variable(
    "delay before the first retry; each next one doubles (jittered), up to `DELIVERY_RETRY_MAX_DELAY_MS`",
    integer(1_000, 1, 3_600_000),
  ),
  DELIVERY_RETRY_MAX_DELAY_MS: variable(
    "longest delay between two attempts, unless the vendor's `Retry-After` asks for longer",
    integer(300_000, 1, 86_400_000),
  ),
  DELIVERY_MAX_QUEUED: variable(
    "most updates queued at once across vendors; beyond it an update is answered with its failure (`DELIVERY_QUEUE_FULL`) instead of queued",
    integer(100_000, 1, 100_000_000),
  ),
  DELIVERY_RETENTION_SECONDS: variable(
    "how long a settled delivery stays readable with `attributeDelivery` (7 days)",
    integer(7 * 86_400, 60, 90 * 86_400),
  ),
  DELIVERY_WORKER_CONCURRENCY: variable(
    "users' delivery lanes one process retries at once (shared mode: the processes running a worker, see `BULK_WORKER`)",
    integer(16, 1, 1_024),
  ),
  METRICS: variable("serve Prometheus metrics at `GET /metrics`", flag(true)),
  CORS_ORIGINS: variable(
    "browser origins allowed to call the GraphQL endpoint from another origin, comma-separated: `https://app.example.com`, `http://localhost:*` (any port) or `*`; unset, none (behind a router, the router owns CORS); the dev stack allows `http://localhost:*` and `http://127.0.0.1:*` (see [Requests](operations.md#requests))",
    list(corsOrigin),
  ),
  REDIS_URL: variable(
    "`redis://` or `rediss://` URL (with its password, which is scrubbed like every secret) of the Redis 7 every replica and worker shares; unset, all state stays in this process",
    schemeUrl(["redis", "rediss"]),
  ),
  REDIS_KEY_PREFIX: variable(
    "prefix of every key this deployment writes, so that several deployments can share one Redis",
    text("attributes", { accepts: /^[A-Za-z0-9_.-]{1,64}$/, message: "must be 1 to 64 of A-Z a-z 0-9 _ . -" }),
  ),
  REDIS_TLS_CA_FILE: variable("PEM file of the CA that signed a `rediss://` server's certificate, when it is not a public one", text()),
  READINESS_POLICY: variable(
    "live vendors that must be reachable (circuit not open) for `GET /ready` to answer 200: `any` (at least one), `all`, or `none` (reported only); sandboxed vendors are always ready",
    oneOf(READINESS_POLICIES, "any", { ignoreCase: true }),
  ),
  READINESS_PROBE_TIMEOUT_MS: variable(
    "longest wait for one vendor reachability probe (a TCP connection to its base URL's host; nothing is sent)",
    integer(2_000, 50, 60_000),
  ),
  READINESS_CACHE_MS: variable("how long a probe's result is reused by `GET /ready`", integer(10_000, 0, 600_000)),
  SHUTDOWN_GRACE_MS: variable(
    "on `SIGTERM`/`SIGINT`, longest wait for requests in progress to be answered before their connections are closed (see [Shutdown](deployment.md#shutdown)); keep it below the orchestrator's termination grace period",
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

/** Rules between variables, once each is read: REDIS_TLS_CA_FILE belongs to a rediss:// REDIS_URL. */
function redisSettings(v: AppValues, problems: string[]): { redis?: RedisSettings } {
  const url = v.REDIS_URL;
  const caFile = v.REDIS_TLS_CA_FILE;
  if (!url) {
    if (caFile) problems.push("REDIS_TLS_CA_FILE is set but REDIS_URL is not");
    return {};
  }
  // The reader checked the scheme (a bad URL is kept as written, and reported).
  if (caFile && !/^rediss:\/\//i.test(url)) problems.push("REDIS_TLS_CA_FILE needs a rediss:// REDIS_URL");
  return { redis: { url, keyPrefix: v.REDIS_KEY_PREFIX, ...(caFile ? { tlsCaFile: caFile } : {}) } };
}

/** Rules between variables, once each is read: one way to verify JWTs, or none, or AUTH_DISABLED. */
function authSettings(v: AppValues, problems: string[]): AuthSettings {
  const secret = v.AUTH_JWT_SECRET;
  const jwksUrl = v.AUTH_JWKS_URL;
  if (secret && jwksUrl) problems.push("set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both");
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

/** One CORS_ORIGINS entry: an origin, a localhost:* pattern, or *. */
function corsOrigin(origin: string): ListEntry<string> {
  const [problem] = corsOriginProblems([origin]);
  return problem === undefined ? [origin] : { problem, whole: true };
}

function sandboxFaults(text: string): { value: RandomFault[]; problems: string[] } {
  const { faults, problems } = parseRandomFaults(text);
  return { value: faults, problems };
}

/** One SANDBOX_USER_IDS entry: an id, or an ascending range of at most 100,000 numeric ids ("1-100"). */
function userIdsEntry(entry: string): ListEntry<string> {
  const range = /^(\d+)-(\d+)$/.exec(entry);
  if (!range) return [entry];
  const [from, to] = [Number(range[1]), Number(range[2])];
  if (to < from || to - from > 100_000) return { problem: `range ${entry} must ascend and span at most 100000 ids` };
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
}
