import "reflect-metadata";
import { Writable } from "node:stream";
import { startApp, type App, type AppOptions } from "../../src/app.js";
import type { InputLimits } from "../../src/domain/command.js";
import { createLogger, type Logger } from "../../src/logging.js";
import type { Authenticator } from "../../src/auth/caller.js";
import type { RetryPolicy } from "../../src/http/client.js";
import type { Metrics } from "../../src/observability/metrics.js";
import type { ReadinessSettings } from "../../src/observability/readiness.js";
import type { CircuitSettings } from "../../src/reliability/circuit-breaker.js";
import { secretForms } from "../../src/http/redaction.js";
import type { RateBudgetFactory } from "../../src/pacing/pacer.js";
import { secretValues, startVendors, type VendorRuntime } from "../../src/runtime.js";
import type { SandboxServer } from "../../src/sandbox/kit.js";
import type { Env, VendorModule } from "../../src/vendors/define-vendor.js";
import { vendorModules } from "../../src/vendors/index.js";

export interface TestSubgraph {
  readonly app: App;
  readonly runtime: VendorRuntime;
  readonly url: string;
  /** Every log line written so far (JSON strings), for leak and content checks. */
  readonly logLines: string[];
  readonly logger: Logger;
  /** Every GraphQL response body received through `gql`, for leak checks. */
  readonly responses: string[];
  sandbox<S extends SandboxServer = SandboxServer>(vendorId: string): S;
  /** POSTs a GraphQL operation over real HTTP and returns the parsed body. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface GraphQLResponse<T> {
  readonly status: number;
  readonly data?: T;
  readonly errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface StartTestSubgraphOptions {
  /** Default: every registered vendor. */
  readonly modules?: readonly VendorModule[];
  /** Default: SANDBOX=true with no other variables. */
  readonly env?: Env;
  readonly sandbox?: "auto" | "force" | "off";
  readonly sandboxUserIds?: readonly string[];
  readonly limits?: InputLimits;
  readonly maxBodyBytes?: number;
  readonly graphiql?: boolean;
  readonly sandboxRateLimits?: Readonly<Record<string, number>>;
  readonly bulk?: AppOptions["bulk"];
  /** Default: 2 quick retries, as in production but with millisecond delays. */
  readonly retry?: RetryPolicy;
  /** Default: a threshold high enough that fault tests do not trip it unless they mean to. */
  readonly circuit?: CircuitSettings;
  readonly authenticator?: Authenticator;
  readonly idempotency?: AppOptions["idempotency"];
  /** A shared idempotency store (RedisIdempotencyStore), as a replica in shared mode has. */
  readonly idempotencyStore?: AppOptions["idempotencyStore"];
  readonly queryLimits?: AppOptions["queryLimits"];
  readonly federationAuthDirectives?: boolean;
  /** Wire the app as main.ts does: these metrics observe vendor calls, breakers and pacers, and GET /ready probes. */
  readonly metrics?: Metrics;
  readonly readiness?: ReadinessSettings;
  /** Where vendor rate budgets live: in process by default; shared mode passes redisBudgets(…). */
  readonly rateBudgets?: RateBudgetFactory;
  /** INTROSPECTION; default true. */
  readonly introspection?: boolean;
  /** CORS_ORIGINS; none by default. */
  readonly corsOrigins?: readonly string[];
  /** VENDOR_MAX_RESPONSE_BYTES; default the production default. */
  readonly maxResponseBytes?: number;
  /** VENDOR_MAX_WAIT_MS; default each vendor's timeout. */
  readonly maxWaitMs?: number;
  /** DELIVERY_*: the queue of GUARANTEED deliveries; default the production settings. */
  readonly delivery?: AppOptions["delivery"];
  /** Shared mode: bulk jobs in this Redis (the caller opens it, and closes it after the subgraph). */
  readonly shared?: AppOptions["shared"];
}

/** The whole subgraph on loopback, on sandbox vendors by default: what tests and examples talk to. */
export async function startTestSubgraph(options: StartTestSubgraphOptions = {}): Promise<TestSubgraph> {
  const logLines: string[] = [];
  const responses: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  const env = options.env ?? {};
  const modules = options.modules ?? vendorModules;
  // Sandbox credentials are known before the sandboxes start (sandboxEnv), so the logger scrubs them too.
  const knownSecrets = [...secretValues(modules, env), ...modules.flatMap((m) => secretValues([m], m.sandboxEnv("http://127.0.0.1:1")))];
  const logger = createLogger({ level: "debug", secrets: secretForms(knownSecrets), destination });
  const runtime = await startVendors(modules, env, {
    sandbox: options.sandbox ?? "force",
    sandboxHost: "127.0.0.1",
    sandboxUserIds: options.sandboxUserIds ?? ["1", "2", "3"],
    ...(options.sandboxRateLimits ? { sandboxRateLimits: options.sandboxRateLimits } : {}),
    logger,
    retry: options.retry ?? { limit: 2, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 2_000 },
    circuit: options.circuit ?? { failureThreshold: 1_000, cooldownMs: 1_000 },
    ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
    ...(options.rateBudgets ? { rateBudgets: options.rateBudgets } : {}),
    ...(options.metrics ? { onCall: options.metrics.recordVendorCall } : {}),
  });
  const app = await startApp({
    vendors: runtime.vendors,
    logger,
    port: 0,
    host: "127.0.0.1",
    maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
    graphiql: options.graphiql ?? true,
    introspection: options.introspection ?? true,
    ...(options.limits ? { limits: options.limits } : {}),
    bulk: { retryBaseDelayMs: 20, ...options.bulk },
    ...(options.authenticator ? { authenticator: options.authenticator } : {}),
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.idempotencyStore ? { idempotencyStore: options.idempotencyStore } : {}),
    ...(options.queryLimits ? { queryLimits: options.queryLimits } : {}),
    ...(options.federationAuthDirectives === undefined ? {} : { federationAuthDirectives: options.federationAuthDirectives }),
    ...(options.metrics ? { metrics: options.metrics, runtime } : {}),
    ...(options.readiness ? { readiness: options.readiness } : {}),
    scrubber: runtime.scrubber,
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    ...(options.shared ? { shared: options.shared } : {}),
    ...(options.delivery ? { delivery: options.delivery } : {}),
  });
  return {
    app,
    runtime,
    url: app.url,
    logLines,
    logger,
    responses,
    sandbox<S extends SandboxServer>(vendorId: string): S {
      const sandbox = runtime.sandboxes.get(vendorId);
      if (!sandbox) throw new Error(`no sandbox for ${vendorId}`);
      return sandbox as S;
    },
    async gql(query, variables, headers) {
      const response = await postGraphQL(app.url, query, variables, headers);
      responses.push(JSON.stringify(response));
      return response;
    },
    async close() {
      await app.close();
      await runtime.close();
      assertNoSecretLeaked(secretForms([...runtime.secrets, ...knownSecrets]), responses, logLines);
    },
  };
}

/**
 * Fails the suite when a configured credential (live or sandbox), in any form a vendor could echo
 * it (raw, URL-encoded, the base64 Basic pair: see secretForms), appears in any response or log
 * line it produced. Runs on every close, so every suite that uses this harness is scanned.
 */
export function assertNoSecretLeaked(secrets: readonly string[], responses: readonly string[], logLines: readonly string[]): void {
  const leaks: string[] = [];
  for (const secret of new Set(secrets.filter((s) => s.length >= 8))) {
    const masked = `${secret.slice(0, 3)}…(${secret.length} chars)`;
    const inResponse = responses.findIndex((r) => r.includes(secret));
    const inLog = logLines.findIndex((l) => l.includes(secret));
    if (inResponse >= 0) leaks.push(`${masked} in response #${inResponse}`);
    if (inLog >= 0) leaks.push(`${masked} in log line #${inLog}`);
  }
  if (leaks.length > 0) throw new Error(`secrets leaked: ${leaks.join("; ")}`);
}

export async function postGraphQL<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  const body = (await response.json()) as { data?: T; errors?: GraphQLResponse<T>["errors"] };
  return { status: response.status, ...body };
}

/** The selection every test uses to read an updateAttributes result in full. */
export const UPDATE_RESULT_SELECTION = `
  __typename
  ... on AttributesUpdateSuccess {
    user { id }
    allDelivered
    deliveries {
      __typename
      ... on AttributesVendorDeliverySuccess { vendor httpStatus warnings { code attribute message } }
      ... on AttributesVendorError {
        vendor code message httpStatus vendorCode retryable retryAfterSeconds attribute operation
        relatedErrors { __typename code attribute message }
      }
    }
  }
  ... on AttributesInvalidInputError { code message path problems { path message } }
  ... on AttributesNotAuthorizedError { code message requiredScope }
  ... on AttributesIdempotencyKeyReusedError { code message idempotencyKey }
`;

export const UPDATE_ATTRIBUTES = `mutation Update($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) { ${UPDATE_RESULT_SELECTION} }
}`;
