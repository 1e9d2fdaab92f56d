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
import { EXAMPLES } from "./graphql/examples.js";
import { operationLimits } from "./graphql/limits.js";
import { buildSubgraph } from "./graphql/schema.js";
import type { Logger } from "./logging.js";
import { BulkEngine } from "./bulk/engine.js";
import { InProcessQueue } from "./bulk/queue.js";
import { InMemoryJobStore } from "./bulk/store.js";
import { readAppConfig, type BulkSettings } from "./config/app-config.js";
import { Metrics } from "./observability/metrics.js";
import { OperationObserver } from "./observability/operations.js";
import { DEFAULT_READINESS, Readiness, type ReadinessSettings } from "./observability/readiness.js";
import type { VendorRuntime } from "./runtime.js";
import type { SecretScrubber } from "./http/redaction.js";
import { graphiqlPage } from "./server/graphiql.js";
import { closeServer, createHttpServer, listen } from "./server/http-server.js";

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
  /** Default: open access (tests, sandbox). main.ts chooses with chooseAuthenticator. */
  readonly authenticator?: Authenticator;
  readonly idempotency?: { readonly windowMs: number; readonly maxKeys: number };
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
}

export interface App {
  readonly url: string;
  readonly port: number;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly server: http.Server;
  readonly bulk: BulkEngine;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  close(): Promise<void>;
}

/** Builds the schema once, starts Apollo and the HTTP server. Used by main.ts and by the tests. */
export async function startApp(options: AppOptions): Promise<App> {
  const { schema } = await buildSubgraph(options.vendors, { authDirectives: options.federationAuthDirectives ?? true });
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
      return options.scrubber ? scrubbedError(formatted, options.scrubber) : formatted;
    },
  });
  await apollo.start();

  const limits = options.limits ?? DEFAULT_INPUT_LIMITS;
  const onAdapterCrash = (vendor: string, error: unknown): void => logger.error({ vendor, err: error }, "vendor adapter threw");
  const bulkSettings = { ...defaults.bulk, ...options.bulk };
  const bulk = new BulkEngine({
    store: new InMemoryJobStore(),
    queue: new InProcessQueue(bulkSettings.jobConcurrency),
    vendors: options.vendors,
    maxUserIds: bulkSettings.maxUserIds,
    fanOutConcurrency: bulkSettings.fanOutConcurrency,
    retry: { maxAttempts: bulkSettings.maxAttempts, baseDelayMs: options.bulk?.retryBaseDelayMs ?? 250, maxDelayMs: 10_000 },
    limits,
    onError: (jobId, error) => logger.error({ jobId, err: error }, "bulk job error"),
    onProgress: metrics.recordBulkProgress,
  });
  const authenticator = options.authenticator ?? OPEN_ACCESS;
  const idempotencySettings = options.idempotency ?? defaults.idempotency;
  const idempotency =
    options.idempotencyStore ?? new InMemoryIdempotencyStore<StoredUpdate>(idempotencySettings.windowMs, idempotencySettings.maxKeys);
  const readiness = new Readiness(
    options.runtime?.summary ?? options.vendors.map((vendor) => ({ vendor: vendor.id, mode: vendor.mode })),
    options.runtime?.breakers ?? new Map(),
    options.readiness ?? DEFAULT_READINESS,
  );
  const server = createHttpServer({
    apollo,
    logger,
    maxBodyBytes: options.maxBodyBytes,
    context: async (requestId, authorization) => ({
      requestId,
      scope: new RequestScope(),
      vendors: options.vendors,
      limits,
      // Per operation, so the operation's log line lists its deliveries.
      dispatchHooks: observer.dispatchHooks({ onAdapterCrash }),
      bulk,
      idempotency,
      caller: await authenticator.authenticate(authorization),
    }),
    ...(options.graphiql
      ? { graphiqlHtml: graphiqlPage(EXAMPLES, options.banner ?? "", options.introspection ? graphiqlIntrospection(schema) : undefined) }
      : {}),
    ...(options.metricsEndpoint === false ? {} : { metrics: () => metrics.render() }),
    readiness: async () => {
      const report = await readiness.check();
      return { ready: report.status === "ready", report };
    },
  });
  const { url, port } = await listen(server, options.port, options.host);

  return {
    url,
    port,
    apollo,
    server,
    bulk,
    metrics,
    readiness,
    async close() {
      await bulk.stop();
      await closeServer(server, apollo);
    },
  };
}

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
