import { JWT_DEFAULTS, type JwtSettings } from "../auth/caller.js";
import type { RetryPolicy } from "../http/client.js";
import type { DeliverySettings } from "../delivery/types.js";
import { parseRandomFaults, type RandomFault } from "../sandbox/faults.js";
import type { CircuitSettings } from "../reliability/circuit-breaker.js";
import { READINESS_POLICIES, type ReadinessPolicy, type ReadinessSettings } from "../observability/readiness.js";
import type { Env } from "../vendors/define-vendor.js";
import type { RedisSettings } from "../redis/connection.js";
import { corsOriginProblems } from "../server/cors.js";

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

/** Every application-level variable, documented where it is read (vendors document their own). */
export const APP_ENV = {
  PORT: { description: "Port of the GraphQL endpoint", default: "4001" },
  HOST: { description: "Interface to listen on", default: "0.0.0.0" },
  SANDBOX: {
    description: "true: always use the built-in sandbox vendors; false: never. Unset: sandboxes only when no vendor has credentials",
    default: "(unset)",
  },
  LOG_LEVEL: { description: "pino level: fatal, error, warn, info, debug, trace, silent", default: "info" },
  LOG_SYNC: {
    description:
      "true: write every log line to stdout before going on; false: write lines asynchronously (flushed on exit; a hard kill may lose the last lines)",
    default: "false",
  },
  NODE_ENV: { description: "production turns GraphiQL and introspection off by default", default: "(unset)" },
  MAX_BODY_BYTES: {
    description: "Largest accepted request body; larger ones get 413 (room for 100,000 bulk user ids)",
    default: "8388608",
  },
  GRAPHIQL: { description: "Serve GraphiQL at GET /", default: "true, false in production" },
  INTROSPECTION: { description: "Allow introspection queries", default: "true, false in production" },
  SANDBOX_USER_IDS: {
    description: "Comma-separated user ids, or ranges such as 1-100, that exist in the sandbox vendors",
    default: "1-100",
  },
  SANDBOX_FAULTS: {
    description:
      "Random faults the sandbox vendors answer with, e.g. 503:0.02,429;retry-after=1:0.01,hang;ms=2000:0.005,reset:0.005,malformed:0.005,500-after-apply:0.005",
    default: "(none)",
  },
  BULK_MAX_USER_IDS: { description: "Most user ids one bulkSetCustomAttribute call may name", default: "100000" },
  BULK_JOB_CONCURRENCY: { description: "Bulk jobs running at once in this process", default: "2" },
  BULK_FAN_OUT_CONCURRENCY: {
    description: "Users in flight per vendor without a native bulk path (the vendor's rate limit still applies)",
    default: "32",
  },
  VENDOR_RETRY_LIMIT: {
    description: "Automatic retries of one vendor request (only where a repeat cannot change the outcome)",
    default: "2",
  },
  VENDOR_RETRY_BASE_DELAY_MS: { description: "First retry delay before exponential growth and jitter", default: "200" },
  VENDOR_RETRY_MAX_DELAY_MS: { description: "Longest delay between retries", default: "2000" },
  VENDOR_MAX_RETRY_AFTER_MS: {
    description: "Longest Retry-After waited for inside one request; longer ones are returned as AttributesRateLimitedError",
    default: "5000",
  },
  VENDOR_MAX_RESPONSE_BYTES: {
    description:
      "Largest vendor answer read, after decompression; a longer one is cut off there and the call fails with AttributesVendorUnavailableError (RESPONSE_TOO_LARGE)",
    default: "1048576",
  },
  VENDOR_MAX_WAIT_MS: {
    description:
      "Longest a single update waits for a slot in a vendor's rate budget; a longer wait fails at once with AttributesRateLimitedError and retryAfterSeconds, nothing sent (bulk jobs wait as long as the vendor asks)",
    default: "each vendor's timeout",
  },
  CIRCUIT_FAILURE_THRESHOLD: {
    description:
      "Consecutive unavailability failures that open a vendor's circuit (override per vendor: <VENDOR>_CIRCUIT_FAILURE_THRESHOLD)",
    default: "5",
  },
  CIRCUIT_COOLDOWN_MS: {
    description: "How long an open circuit fails fast before a probe (override per vendor: <VENDOR>_CIRCUIT_COOLDOWN_MS)",
    default: "30000",
  },
  AUTH_JWT_SECRET: { description: "HS256 secret that signs callers' JWTs (at least 32 characters). Secret", default: "(unset)" },
  AUTH_JWKS_URL: { description: "JWKS URL with the keys that sign callers' JWTs (instead of AUTH_JWT_SECRET)", default: "(unset)" },
  AUTH_ISSUER: { description: "Required `iss` of callers' JWTs", default: "(any)" },
  AUTH_AUDIENCE: { description: "Required `aud` of callers' JWTs", default: "(any)" },
  AUTH_REQUIRE_EXP: {
    description: "true: refuse callers' JWTs without an `exp` claim (a token that never expires); false: accept them",
    default: "true",
  },
  AUTH_CLOCK_SKEW_SECONDS: {
    description: "Clock difference tolerated when checking a JWT's exp and nbf, from 0 to 300 seconds",
    default: "30",
  },
  AUTH_DISABLED: {
    description: "true: no caller authorization. Required to run live vendors without AUTH_JWT_SECRET or AUTH_JWKS_URL",
    default: "false",
  },
  IDEMPOTENCY_WINDOW_SECONDS: { description: "How long an idempotency key remembers its result", default: "86400" },
  IDEMPOTENCY_MAX_KEYS: {
    description:
      "Most idempotency keys held at once in process memory (0.3–1.3 KB each); a key is forgotten only when its window ends, so when all are in use a new key is refused with AttributesIdempotencyStoreFullError. Not used in shared mode (REDIS_URL): keys live in Redis",
    default: "50000",
  },
  IDEMPOTENCY_IN_FLIGHT_WAIT_MS: {
    description:
      "Shared mode: longest a repeat waits for the outcome of a call holding the same idempotency key on another replica before it is answered AttributesIdempotencyKeyInProgressError (nothing sent)",
    default: "15000",
  },
  FEDERATION_AUTH_DIRECTIVES: {
    description:
      "Declare @authenticated / @requiresScopes in the subgraph schema for Apollo Router; set false behind @apollo/gateway, which refuses supergraphs containing them (the subgraph enforces authorization either way)",
    default: "true",
  },
  MAX_QUERY_DEPTH: { description: "Deepest selection nesting accepted in one operation", default: "12" },
  MAX_QUERY_FIELDS: { description: "Most fields selected in one operation, fragments expanded", default: "2000" },
  BULK_MAX_ATTEMPTS: { description: "Attempts per user on transient failures (rate limited, unavailable) in bulk jobs", default: "3" },
  BULK_WORKER: {
    description:
      "Shared mode: run a bulk worker in this subgraph process (false: this replica submits, follows and cancels jobs; `npm run worker` processes run them)",
    default: "true",
  },
  BULK_WORKER_CONCURRENCY: { description: "Shared mode: chunks of users one worker process runs at once", default: "4" },
  BULK_WORKER_LOCK_MS: {
    description:
      "Shared mode: a worker renews its lock on a chunk every half of this; a chunk whose lock lapses (its worker was killed) is run again by another worker",
    default: "30000",
  },
  BULK_JOB_RETENTION_SECONDS: { description: "Shared mode: how long a finished bulk job stays readable in Redis", default: "604800" },
  BULK_MAX_FAILURES_KEPT: {
    description:
      "Failures a bulk job keeps with their details per vendor, the first ones recorded (0 to 100000); every failure is still counted, by error code",
    default: "1000",
  },
  DELIVERY_RETRY_WINDOW_SECONDS: {
    description:
      "GUARANTEED delivery: how long a queued update is retried, from when it was queued; after it, the delivery is EXPIRED with its last error",
    default: "14400",
  },
  DELIVERY_MAX_ATTEMPTS: { description: "GUARANTEED delivery: attempts per queued update at most, the first one included", default: "100" },
  DELIVERY_RETRY_BASE_DELAY_MS: {
    description: "GUARANTEED delivery: delay before the first retry; each next one doubles (jittered), up to DELIVERY_RETRY_MAX_DELAY_MS",
    default: "1000",
  },
  DELIVERY_RETRY_MAX_DELAY_MS: {
    description: "GUARANTEED delivery: longest delay between two attempts, unless the vendor's Retry-After asks for longer",
    default: "300000",
  },
  DELIVERY_MAX_QUEUED: {
    description:
      "Most updates queued at once across vendors (GUARANTEED retries, and updates waiting behind them); beyond it an update is answered with its failure instead of queued",
    default: "100000",
  },
  DELIVERY_RETENTION_SECONDS: {
    description: "How long a settled queued delivery stays readable with attributeDelivery",
    default: "604800",
  },
  DELIVERY_WORKER_CONCURRENCY: {
    description: "Users' delivery lanes one process retries at once (shared mode: processes running a worker, see BULK_WORKER)",
    default: "16",
  },
  METRICS: { description: "Serve Prometheus metrics at GET /metrics", default: "true" },
  CORS_ORIGINS: {
    description:
      "Browser origins allowed to call the GraphQL endpoint from another origin, comma-separated: https://app.example.com, http://localhost:* (any port), or * (any). Unset: none (behind a router, the router owns CORS); the dev stack allows http://localhost:* and http://127.0.0.1:*",
    default: "(unset)",
  },
  REDIS_URL: {
    description:
      "Shared mode: redis:// or rediss:// URL (with the password, if any) of the Redis 7 that every replica and worker shares. Unset: state stays in this process",
    default: "(unset)",
  },
  REDIS_KEY_PREFIX: { description: "Prefix of every Redis key this deployment writes", default: "attributes" },
  REDIS_TLS_CA_FILE: {
    description: "PEM file of the CA that signed a rediss:// server's certificate, when not a public one",
    default: "(unset)",
  },
  READINESS_POLICY: {
    description:
      "Live vendors that must be reachable (circuit not open) for GET /ready to answer 200: any (at least one), all, or none (reported only). Sandboxed vendors are always ready",
    default: "any",
  },
  READINESS_PROBE_TIMEOUT_MS: {
    description: "Longest wait for one vendor reachability probe (a TCP connection to its base URL's host; nothing is sent)",
    default: "2000",
  },
  READINESS_CACHE_MS: { description: "How long a vendor reachability probe's result is reused by GET /ready", default: "10000" },
  SHUTDOWN_GRACE_MS: {
    description:
      "On SIGTERM/SIGINT, longest wait for requests in progress to be answered before their connections are closed (keep it below the orchestrator's termination grace period, 30 s in Kubernetes)",
    default: "25000",
  },
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
  const production = env.NODE_ENV === "production";
  const port = integer(env, "PORT", 4001, problems, 0, 65_535);
  const sandboxRaw = env.SANDBOX?.trim().toLowerCase();
  let sandbox: SandboxMode = "auto";
  if (sandboxRaw === "true" || sandboxRaw === "1") sandbox = "force";
  else if (sandboxRaw === "false" || sandboxRaw === "0") sandbox = "off";
  else if (sandboxRaw) problems.push(`SANDBOX must be true or false; got "${env.SANDBOX}"`);
  const config: AppConfig = {
    port,
    host: env.HOST?.trim() || "0.0.0.0",
    sandbox,
    logLevel: env.LOG_LEVEL?.trim() || "info",
    logSync: flag(env, "LOG_SYNC", false, problems),
    production,
    maxBodyBytes: integer(env, "MAX_BODY_BYTES", 8 * 1_048_576, problems, 1_024, 256 * 1_048_576),
    graphiql: flag(env, "GRAPHIQL", !production, problems),
    introspection: flag(env, "INTROSPECTION", !production, problems),
    sandboxUserIds: userIds(env.SANDBOX_USER_IDS ?? "1-100", problems),
    sandboxFaults: sandboxFaults(env.SANDBOX_FAULTS ?? "", problems),
    bulk: {
      maxUserIds: integer(env, "BULK_MAX_USER_IDS", 100_000, problems, 1, 10_000_000),
      jobConcurrency: integer(env, "BULK_JOB_CONCURRENCY", 2, problems, 1, 64),
      fanOutConcurrency: integer(env, "BULK_FAN_OUT_CONCURRENCY", 32, problems, 1, 1_024),
      maxAttempts: integer(env, "BULK_MAX_ATTEMPTS", 3, problems, 1, 10),
      maxFailuresKept: integer(env, "BULK_MAX_FAILURES_KEPT", 1_000, problems, 0, 100_000),
      worker: flag(env, "BULK_WORKER", true, problems),
      workerConcurrency: integer(env, "BULK_WORKER_CONCURRENCY", 4, problems, 1, 256),
      workerLockMs: integer(env, "BULK_WORKER_LOCK_MS", 30_000, problems, 1_000, 600_000),
      retentionSeconds: integer(env, "BULK_JOB_RETENTION_SECONDS", 7 * 86_400, problems, 60, 90 * 86_400),
    },
    delivery: {
      windowMs: integer(env, "DELIVERY_RETRY_WINDOW_SECONDS", 14_400, problems, 1, 30 * 86_400) * 1000,
      maxAttempts: integer(env, "DELIVERY_MAX_ATTEMPTS", 100, problems, 1, 10_000),
      baseDelayMs: integer(env, "DELIVERY_RETRY_BASE_DELAY_MS", 1_000, problems, 1, 3_600_000),
      maxDelayMs: integer(env, "DELIVERY_RETRY_MAX_DELAY_MS", 300_000, problems, 1, 86_400_000),
      maxQueued: integer(env, "DELIVERY_MAX_QUEUED", 100_000, problems, 1, 100_000_000),
      retentionMs: integer(env, "DELIVERY_RETENTION_SECONDS", 7 * 86_400, problems, 60, 90 * 86_400) * 1000,
      workerConcurrency: integer(env, "DELIVERY_WORKER_CONCURRENCY", 16, problems, 1, 1_024),
    },
    retry: {
      limit: integer(env, "VENDOR_RETRY_LIMIT", 2, problems, 0, 10),
      baseDelayMs: integer(env, "VENDOR_RETRY_BASE_DELAY_MS", 200, problems, 0, 60_000),
      maxDelayMs: integer(env, "VENDOR_RETRY_MAX_DELAY_MS", 2_000, problems, 0, 600_000),
      maxRetryAfterMs: integer(env, "VENDOR_MAX_RETRY_AFTER_MS", 5_000, problems, 0, 600_000),
    },
    vendorLimits: {
      maxResponseBytes: integer(env, "VENDOR_MAX_RESPONSE_BYTES", 1_048_576, problems, 1_024, 64 * 1_048_576),
      ...(env.VENDOR_MAX_WAIT_MS?.trim() ? { maxWaitMs: integer(env, "VENDOR_MAX_WAIT_MS", 10_000, problems, 0, 600_000) } : {}),
    },
    circuit: circuitSettings(env, "", { failureThreshold: 5, cooldownMs: 30_000 }, problems),
    auth: authSettings(env, problems),
    federationAuthDirectives: flag(env, "FEDERATION_AUTH_DIRECTIVES", true, problems),
    idempotency: {
      windowMs: integer(env, "IDEMPOTENCY_WINDOW_SECONDS", 86_400, problems, 1, 30 * 86_400) * 1000,
      maxKeys: integer(env, "IDEMPOTENCY_MAX_KEYS", 50_000, problems, 1, 10_000_000),
      inFlightWaitMs: integer(env, "IDEMPOTENCY_IN_FLIGHT_WAIT_MS", 15_000, problems, 0, 600_000),
    },
    queryLimits: {
      maxDepth: integer(env, "MAX_QUERY_DEPTH", 12, problems, 2, 100),
      maxFields: integer(env, "MAX_QUERY_FIELDS", 2_000, problems, 10, 100_000),
    },
    metrics: flag(env, "METRICS", true, problems),
    corsOrigins: corsOrigins(env, problems),
    ...redisSettings(env, problems),
    readiness: {
      policy: readinessPolicy(env.READINESS_POLICY, problems),
      probeTimeoutMs: integer(env, "READINESS_PROBE_TIMEOUT_MS", 2_000, problems, 50, 60_000),
      cacheMs: integer(env, "READINESS_CACHE_MS", 10_000, problems, 0, 600_000),
    },
    shutdownGraceMs: integer(env, "SHUTDOWN_GRACE_MS", 25_000, problems, 0, 3_600_000),
  };
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(config.logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${config.logLevel}"`);
  }
  return { config, problems };
}

function corsOrigins(env: Env, problems: string[]): string[] {
  const origins = (env.CORS_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  problems.push(...corsOriginProblems(origins));
  return origins;
}

function redisSettings(env: Env, problems: string[]): { redis?: RedisSettings } {
  const url = env.REDIS_URL?.trim();
  const caFile = env.REDIS_TLS_CA_FILE?.trim();
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
  const keyPrefix = env.REDIS_KEY_PREFIX?.trim() || "attributes";
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(keyPrefix)) problems.push("REDIS_KEY_PREFIX must be 1 to 64 of A-Z a-z 0-9 _ . -");
  return { redis: { url, keyPrefix, ...(caFile ? { tlsCaFile: caFile } : {}) } };
}

function readinessPolicy(raw: string | undefined, problems: string[]): ReadinessPolicy {
  const value = raw?.trim().toLowerCase();
  if (!value) return "any";
  const policy = READINESS_POLICIES.find((p) => p === value);
  if (!policy) problems.push(`READINESS_POLICY must be one of ${READINESS_POLICIES.join(", ")}; got "${raw}"`);
  return policy ?? "any";
}

function sandboxFaults(spec: string, problems: string[]): RandomFault[] {
  const parsed = parseRandomFaults(spec);
  problems.push(...parsed.problems);
  return parsed.faults;
}

function authSettings(env: Env, problems: string[]): AuthSettings {
  const secret = env.AUTH_JWT_SECRET?.trim() || undefined;
  const jwksUrl = env.AUTH_JWKS_URL?.trim() || undefined;
  const disabled = flag(env, "AUTH_DISABLED", false, problems);
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
  if (disabled && (secret || jwksUrl)) problems.push("AUTH_DISABLED=true contradicts AUTH_JWT_SECRET / AUTH_JWKS_URL");
  const issuer = env.AUTH_ISSUER?.trim() || undefined;
  const audience = env.AUTH_AUDIENCE?.trim() || undefined;
  const requireExp = flag(env, "AUTH_REQUIRE_EXP", JWT_DEFAULTS.requireExp, problems);
  const clockSkewSeconds = integer(env, "AUTH_CLOCK_SKEW_SECONDS", JWT_DEFAULTS.clockSkewSeconds, problems, 0, 300);
  const jwt: JwtSettings | undefined =
    secret || jwksUrl
      ? {
          ...(secret ? { secret } : {}),
          ...(jwksUrl ? { jwksUrl } : {}),
          ...(issuer ? { issuer } : {}),
          ...(audience ? { audience } : {}),
          requireExp,
          clockSkewSeconds,
        }
      : undefined;
  return { disabled, ...(jwt ? { jwt } : {}) };
}

/** Circuit settings from `<prefix>CIRCUIT_…`, falling back to the given defaults. */
export function circuitSettings(env: Env, prefix: string, fallback: CircuitSettings, problems: string[]): CircuitSettings {
  return {
    failureThreshold: integer(env, `${prefix}CIRCUIT_FAILURE_THRESHOLD`, fallback.failureThreshold, problems, 1, 1_000),
    cooldownMs: integer(env, `${prefix}CIRCUIT_COOLDOWN_MS`, fallback.cooldownMs, problems, 100, 3_600_000),
  };
}

function integer(env: Env, name: string, fallback: number, problems: string[], min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}; got "${raw}"`);
    return fallback;
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  problems.push(`${name} must be true or false; got "${env[name]}"`);
  return fallback;
}

function userIds(raw: string, problems: string[]): string[] {
  const ids: string[] = [];
  for (const part of raw
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
  return ids;
}
