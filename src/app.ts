import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { unwrapResolverError } from "@apollo/server/errors";
import { introspectionFromSchema, type GraphQLFormattedError, type GraphQLSchema, type IntrospectionQuery } from "graphql";
import type http from "node:http";
import { DEFAULT_INPUT_LIMITS, type InputLimits } from "./domain/command.js";
import { RequestScope } from "./domain/scope.js";
import type { Vendor } from "./domain/vendor.js";
import { OPEN_ACCESS, type Authenticator } from "./auth/caller.js";
import type { GraphQLContext, StoredUpdate } from "./graphql/context.js";
import { InMemoryIdempotencyStore, type IdempotencyStore } from "./reliability/idempotency.js";
import { RedisIdempotencyStore } from "./reliability/redis-idempotency.js";
import { EXAMPLES } from "./graphql/examples.js";
import { operationLimits } from "./graphql/limits.js";
import { buildSubgraph } from "./graphql/schema.js";
import type { Logger } from "./logging.js";
import { BulkEngine } from "./bulk/engine.js";
import { InProcessQueue } from "./bulk/queue.js";
import { InMemoryJobStore } from "./bulk/store.js";
import { readAppConfig, type BulkSettings } from "./config/app-config.js";
import type { BulkJobs } from "./bulk/jobs.js";
import { RedisJobStore } from "./bulk/redis-store.js";
import { SharedBulkEngine } from "./bulk/shared-engine.js";
import type { SharedState } from "./redis/shared-state.js";
import { Metrics } from "./observability/metrics.js";
import { OperationObserver } from "./observability/operations.js";
import { DEFAULT_READINESS, Readiness, type ReadinessSettings } from "./observability/readiness.js";
import type { VendorRuntime } from "./runtime.js";
import type { SecretScrubber } from "./http/redaction.js";
import { CorsPolicy } from "./server/cors.js";
import { graphiqlPage } from "./server/graphiql.js";
import { createHttpServer, drainServer, EMBEDDED_GRACE_MS, listen } from "./server/http-server.js";
import { BullmqLaneScheduler } from "./delivery/bullmq-scheduler.js";
import { DeliveryEngine } from "./delivery/engine.js";
import { RedisDeliveryStore } from "./delivery/redis-store.js";
import { TimerLaneScheduler } from "./delivery/scheduler.js";
import { InMemoryDeliveryStore } from "./delivery/store.js";
import type { DeliveryRecord, DeliverySettings } from "./delivery/types.js";
import type { DeliveryOutcome } from "./domain/results.js";
import { KeyedMutex } from "./reliability/keyed-lock.js";
import { FAULT_HEADER } from "./sandbox/faults.js";
import { RedisKeyedLock } from "./reliability/redis-keyed-lock.js";

export interface AppOptions {
  readonly vendors: readonly Vendor[];
  readonly logger: Logger;
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes: number;
  readonly graphiql: boolean;
  readonly introspection: boolean;
  readonly limits?: InputLimits;
  readonly bulk?: Partial<BulkSettings> & { readonly retryBaseDelayMs?: number };
  /** GUARANTEED delivery and per-user order (DELIVERY_*); defaults for what is not set. */
  readonly delivery?: Partial<DeliverySettings>;
  /** Default: open access (tests, sandbox). main.ts chooses with chooseAuthenticator. */
  readonly authenticator?: Authenticator;
  readonly idempotency?: { readonly windowMs: number; readonly maxKeys: number; readonly inFlightWaitMs?: number };
  /** A shared store (shared mode: RedisIdempotencyStore); default an in-memory one with `idempotency`'s settings. */
  readonly idempotencyStore?: IdempotencyStore<StoredUpdate>;
  readonly queryLimits?: { readonly maxDepth: number; readonly maxFields: number };
  /** Default true; false behind @apollo/gateway (see FEDERATION_AUTH_DIRECTIVES). */
  readonly federationAuthDirectives?: boolean;
  /** Shown on top of GraphiQL, for example which vendors are sandboxed. */
  readonly banner?: string;
  /**
   * Where the app's metrics go. Default: a registry of its own without process metrics; main.ts
   * passes one with process metrics whose `recordVendorCall` also observes the vendors' HTTP calls.
   */
  readonly metrics?: Metrics;
  /** Serve GET /metrics (METRICS); default true. */
  readonly metricsEndpoint?: boolean;
  /** The running vendors: circuit breakers, pacers and targets, for metrics and GET /ready. */
  readonly runtime?: Pick<VendorRuntime, "summary" | "breakers" | "pacers">;
  readonly readiness?: ReadinessSettings;
  /** Every configured secret's forms: the last guard on GraphQL errors (vendor failures are scrubbed where they arise). */
  readonly scrubber?: SecretScrubber;
  /**
   * How long `close()` waits for requests in progress. main.ts passes SHUTDOWN_GRACE_MS (25 s by
   * default); without it, a short grace (EMBEDDED_GRACE_MS) for the dev stack and the tests, whose
   * teardown a request left hanging should not hold for 25 s.
   */
  readonly shutdownGraceMs?: number;
  /** Browser origins allowed to call GraphQL cross-origin (CORS_ORIGINS); none by default. */
  readonly corsOrigins?: readonly string[];
  /**
   * Shared mode (REDIS_URL): bulk jobs on BullMQ and Redis, visible to every replica, and GET
   * /ready follows Redis. The caller opens it and closes it after the app.
   */
  readonly shared?: SharedState;
}

export interface App {
  readonly url: string;
  readonly port: number;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly server: http.Server;
  readonly bulk: BulkJobs;
  readonly deliveries: DeliveryEngine;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  /**
   * Drains and stops (see startApp); later calls return the first call's promise. `graceMs`
   * overrides the app's shutdown grace.
   */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

/** Builds the schema once, starts Apollo and the HTTP server. Used by main.ts and by the tests. */
export async function startApp(options: AppOptions): Promise<App> {
  const { schema } = await buildSubgraph({ authDirectives: options.federationAuthDirectives ?? true });
  const logger = options.logger;
  const metrics = options.metrics ?? new Metrics();
  if (options.runtime) metrics.observeRuntime(options.runtime);
  const observer = new OperationObserver(logger, metrics);
  // The documented defaults, for whatever the caller does not set (tests set little; main.ts all).
  const defaults = readAppConfig({});
  const queryLimits = options.queryLimits ?? defaults.queryLimits;
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    logger,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    // main.ts (and the dev stack) stop the server on SIGINT/SIGTERM in order; Apollo's own handlers
    // would race them, and a second concurrent stop() never resolves in @apollo/server 5.
    stopOnTerminationSignals: false,
    validationRules: [operationLimits(queryLimits.maxDepth, queryLimits.maxFields)],
    // Federated inline tracing (ftv1) is added by Apollo Server itself for subgraph schemas, with
    // error messages masked; test/ops/tracing.test.ts holds it to that.
    // No cache hints: users' attributes change through this very subgraph, so no response is
    // cacheable (no Cache-Control header: gateways and Router treat that as uncacheable). The default
    // cache-control plugin would still hook every field resolution of every operation to compute it.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), observer.plugin<GraphQLContext>()],
    formatError: (formatted, error) => {
      const original = unwrapResolverError(error);
      // Errors outside the typed unions are either GraphQL validation errors or bugs; log bugs.
      if (formatted.extensions?.code === "INTERNAL_SERVER_ERROR") {
        logger.error({ err: original }, "unexpected error in a resolver");
      }
      // Apollo's own text names its constructor option; an operator sets a variable.
      const explained = formatted.message.startsWith("GraphQL introspection is not allowed")
        ? { ...formatted, message: INTROSPECTION_OFF }
        : formatted;
      return options.scrubber ? scrubbedError(explained, options.scrubber) : explained;
    },
  });
  await apollo.start();

  const limits = options.limits ?? DEFAULT_INPUT_LIMITS;
  const onAdapterCrash = (vendor: string, error: unknown): void => logger.error({ vendor, err: error }, "vendor adapter threw");
  const bulkSettings = { ...defaults.bulk, ...options.bulk };
  const bulk = bulkJobs(options, bulkSettings, limits, metrics);
  const deliveries = deliveryEngine(
    options,
    { ...defaults.delivery, ...options.delivery },
    { enabled: bulkSettings.worker, lockMs: bulkSettings.workerLockMs },
    metrics,
  );
  const authenticator = options.authenticator ?? OPEN_ACCESS;
  const idempotencySettings = options.idempotency ?? defaults.idempotency;
  const idempotency =
    options.idempotencyStore ??
    (options.shared
      ? new RedisIdempotencyStore<StoredUpdate>(options.shared.commands, {
          keyPrefix: options.shared.settings.keyPrefix,
          windowMs: idempotencySettings.windowMs,
          inFlightWaitMs: idempotencySettings.inFlightWaitMs ?? defaults.idempotency.inFlightWaitMs,
          onError: (error, during) => logger.error({ err: error, during }, "idempotency store error"),
        })
      : new InMemoryIdempotencyStore<StoredUpdate>(idempotencySettings.windowMs, idempotencySettings.maxKeys));
  const readiness = new Readiness(
    options.runtime?.summary ?? options.vendors.map((vendor) => ({ vendor: vendor.id, mode: vendor.mode })),
    options.runtime?.breakers ?? new Map(),
    options.readiness ?? DEFAULT_READINESS,
  );
  if (options.shared) readiness.addDependency(options.shared.readiness);
  const scrubber = options.scrubber;
  const scrub = scrubber ? (text: string) => scrubber.scrub(text) : (text: string) => text;
  const server = createHttpServer({
    apollo,
    logger,
    maxBodyBytes: options.maxBodyBytes,
    context: async (requestId, authorization, headers) => ({
      requestId,
      scope: new RequestScope(),
      vendors: options.vendors,
      limits,
      // Per operation, so the operation's log line lists its deliveries.
      dispatchHooks: observer.dispatchHooks({ onAdapterCrash }),
      bulk,
      idempotency,
      deliveries,
      scrub,
      ...sandboxFaultOf(options, headers),
      caller: await authenticator.authenticate(authorization),
    }),
    ...(options.graphiql
      ? { graphiqlHtml: graphiqlPage(EXAMPLES, options.banner ?? "", options.introspection ? graphiqlIntrospection(schema) : undefined) }
      : {}),
    ...(options.metricsEndpoint === false ? {} : { metrics: () => metrics.render() }),
    ...(options.corsOrigins?.length ? { cors: new CorsPolicy(options.corsOrigins) } : {}),
    readiness: async () => {
      const report = await readiness.check();
      return { ready: report.status === "ready", report };
    },
  });
  const { url, port } = await listen(server, options.port, options.host);

  /**
   * The drain: GET /ready answers 503 `draining` at once; the listener stops accepting; idle
   * keep-alive connections close; requests in progress are answered (with `Connection: close`)
   * for up to the grace, then whatever is left is closed. Bulk jobs stop at the same time. Apollo
   * stops last.
   */
  const shutdown = async (graceMs: number): Promise<void> => {
    const deadline = Date.now() + graceMs;
    readiness.markDraining();
    const drained = drainServer(server, graceMs);
    const stopBulk = async (): Promise<void> => {
      const remainingGraceMs = Math.max(0, deadline - Date.now());
      logger.info({ graceMs: remainingGraceMs }, "stopping bulk jobs and queued deliveries");
      // Chunks and attempts in flight finish within the same grace as requests; then their waits are given up.
      await Promise.all([bulk.stop({ graceMs: remainingGraceMs }), deliveries.stop(remainingGraceMs)]);
    };
    const [outcome] = await Promise.all([drained, stopBulk()]);
    logger.info(
      { inProgress: outcome.inProgress, cutOff: outcome.cutOff, graceMs },
      outcome.cutOff > 0
        ? `HTTP drained: ${outcome.cutOff} request(s) still in progress after the grace were cut off`
        : "HTTP drained: every request in progress was answered",
    );
    await apollo.stop();
  };
  const shutdownGraceMs = options.shutdownGraceMs ?? EMBEDDED_GRACE_MS;
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    apollo,
    server,
    bulk,
    deliveries,
    metrics,
    readiness,
    close(closeOptions) {
      closing ??= shutdown(closeOptions?.graceMs ?? shutdownGraceMs);
      return closing;
    },
  };
}

/**
 * The bulk engine for the mode: in this process by default; with shared state, on BullMQ and Redis
 * (this process runs a worker unless BULK_WORKER=false).
 */
export function bulkJobs(
  options: Pick<AppOptions, "vendors" | "logger" | "shared" | "bulk">,
  settings: BulkSettings,
  limits: InputLimits,
  metrics: Metrics,
): BulkJobs {
  const logger = options.logger;
  const common = {
    vendors: options.vendors,
    maxUserIds: settings.maxUserIds,
    fanOutConcurrency: settings.fanOutConcurrency,
    retry: { maxAttempts: settings.maxAttempts, baseDelayMs: options.bulk?.retryBaseDelayMs ?? 250, maxDelayMs: 10_000 },
    limits,
    onError: (jobId: string, error: unknown) => logger.error({ jobId, err: error }, "bulk job error"),
    onProgress: metrics.recordBulkProgress,
  };
  const shared = options.shared;
  if (!shared) {
    return new BulkEngine({
      ...common,
      store: new InMemoryJobStore({ maxFailuresKept: settings.maxFailuresKept }),
      queue: new InProcessQueue(settings.jobConcurrency),
    });
  }
  const keyPrefix = shared.settings.keyPrefix;
  return new SharedBulkEngine({
    ...common,
    store: new RedisJobStore(shared.commands, {
      keyPrefix,
      maxFailuresKept: settings.maxFailuresKept,
      retentionSeconds: settings.retentionSeconds,
    }),
    commands: shared.commands,
    subscriber: shared.subscriber,
    bullmq: shared.bullmq,
    keyPrefix,
    worker: settings.worker
      ? {
          concurrency: settings.workerConcurrency,
          lockDurationMs: settings.workerLockMs,
          stalledIntervalMs: Math.min(30_000, settings.workerLockMs),
        }
      : false,
  });
}

/**
 * The client's x-sandbox-fault header, passed on to the vendors only when every configured vendor
 * is a sandbox: a fault must never reach a real vendor, nor a header a real vendor's traffic.
 */
function sandboxFaultOf(options: Pick<AppOptions, "vendors">, headers: http.IncomingHttpHeaders): { sandboxFault?: string } {
  const fault = headers[FAULT_HEADER];
  if (typeof fault !== "string" || !fault.trim()) return {};
  const configured = options.vendors.filter((vendor) => vendor.mode !== "not-configured");
  return configured.length > 0 && configured.every((vendor) => vendor.mode === "sandbox") ? { sandboxFault: fault.trim() } : {};
}

/**
 * The delivery engine for the mode: lanes, records and wake-ups in this process by default (a
 * restart loses what is queued); with shared state, in Redis with BullMQ wake-ups, worked by every
 * process that runs a worker (`worker.enabled`: BULK_WORKER, always true in `npm run worker`).
 */
export function deliveryEngine(
  options: Pick<AppOptions, "vendors" | "logger" | "shared">,
  settings: DeliverySettings,
  worker: { readonly enabled: boolean; readonly lockMs: number },
  metrics: Metrics,
): DeliveryEngine {
  const logger = options.logger;
  const onError = (error: unknown, where: object = {}): void => logger.error({ ...where, err: error }, "delivery queue error");
  const common = {
    vendors: options.vendors,
    settings,
    onError,
    onAttempt: (outcome: DeliveryOutcome, durationMs: number) => metrics.recordDelivery(outcome, durationMs),
    onSettled: (record: DeliveryRecord) => {
      metrics.recordSettled(record.vendor, record.status);
      logger.info(
        { deliveryId: record.id, vendor: record.vendor, status: record.status, attempts: record.attempts.length },
        `queued delivery ${record.status.toLowerCase()}`,
      );
    },
  };
  const shared = options.shared;
  const engine = shared
    ? new DeliveryEngine({
        ...common,
        store: new RedisDeliveryStore(shared.commands, {
          keyPrefix: shared.settings.keyPrefix,
          queuedTtlMs: settings.windowMs + settings.retentionMs,
        }),
        scheduler: new BullmqLaneScheduler({
          connection: shared.bullmq,
          keyPrefix: shared.settings.keyPrefix,
          concurrency: settings.workerConcurrency,
          lockDurationMs: worker.lockMs,
          onError,
        }),
        // A lane a killed process held is free again after this lease.
        lock: new RedisKeyedLock(shared.commands, {
          keyPrefix: shared.settings.keyPrefix,
          name: "delivery-lanes",
          leaseMs: Math.min(10_000, worker.lockMs),
          onError: (error, during) => onError(error, { during }),
        }),
        worker: worker.enabled,
      })
    : new DeliveryEngine({
        ...common,
        store: new InMemoryDeliveryStore(),
        scheduler: new TimerLaneScheduler(settings.workerConcurrency, (error, lane) => onError(error, { vendor: lane.vendor })),
        lock: new KeyedMutex(),
        worker: true,
      });
  metrics.observeDeliveryQueue(() => engine.stats());
  return engine;
}

const INTROSPECTION_OFF =
  "introspection is off in this deployment (INTROSPECTION=false, the default with NODE_ENV=production): set INTROSPECTION=true to allow it, or use the committed schema.graphql";

/**
 * The last guard before an error leaves: whatever a bug or a library put into an error's message
 * or extensions, no configured secret goes out in it.
 */
export function scrubbedError(formatted: GraphQLFormattedError, scrubber: SecretScrubber): GraphQLFormattedError {
  const text = JSON.stringify(formatted);
  const clean = scrubber.scrub(text);
  return clean === text ? formatted : (JSON.parse(clean) as GraphQLFormattedError);
}

/** What GraphiQL's own introspection query asks for, including descriptions and deprecations. */
function graphiqlIntrospection(schema: GraphQLSchema): IntrospectionQuery {
  return introspectionFromSchema(schema, {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
  });
}
