import { startApp, type App } from "../app.js";
import { chooseAuthenticator } from "../auth/choose.js";
import { readAppConfig } from "../config/app-config.js";
import type { Logger } from "../logging.js";
import type { RedisSettings } from "../redis/connection.js";
import { redisBudgets } from "../pacing/redis-pacer.js";
import { redisKeyedLocks } from "../reliability/redis-keyed-lock.js";
import { openSharedState, type SharedState } from "../redis/shared-state.js";
import { Metrics } from "../observability/metrics.js";
import { startVendors, type VendorRuntime } from "../runtime.js";
import type { Env } from "../vendors/define-vendor.js";
import { vendorModules } from "../vendors/index.js";
import { GATEWAY_EXAMPLES } from "./examples.js";
import { startGateway, type Gateway } from "./gateway.js";
import { startUsersSubgraph, type UsersSubgraph } from "./users-subgraph.js";

export interface DevStackOptions {
  /** The subgraph's settings (LOG_LEVEL, SANDBOX_USER_IDS, SANDBOX_FAULTS, AUTH_…); vendors are always sandboxed. */
  readonly env: Env;
  readonly host: string;
  readonly gatewayPort: number;
  readonly attributesPort: number;
  readonly usersPort: number;
  readonly logger: Logger;
  /** Shared mode: the subgraph keeps its state in this Redis (bulk jobs on BullMQ), as replicas do. */
  readonly redis?: RedisSettings;
}

export interface DevStack {
  readonly gateway: Gateway;
  readonly attributes: App;
  readonly users: UsersSubgraph;
  readonly runtime: VendorRuntime;
  /** Shared mode's connections, when `redis` was given. */
  readonly shared?: SharedState;
  close(): Promise<void>;
}

/**
 * The composed graph on one machine: the sample users subgraph, this subgraph on the sandbox
 * vendors, and @apollo/gateway in front. The subgraph runs without the authorization directives
 * (FEDERATION_AUTH_DIRECTIVES=false), which @apollo/gateway refuses; it enforces authorization
 * itself either way.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const config = readAppConfig(options.env);
  const { logger } = options;
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const users = await startUsersSubgraph({ port: options.usersPort, host: options.host, logger: logger.child({ component: "users" }) });
    started.push(users);

    const metrics = new Metrics({ processMetrics: true });
    const attributesLogger = logger.child({ component: "attributes" });
    const shared = options.redis ? await openSharedState(options.redis, { logger: attributesLogger, name: "dev-stack" }) : undefined;
    if (shared) started.push(shared);
    const runtime = await startVendors(vendorModules, options.env, {
      sandbox: "force",
      sandboxHost: "127.0.0.1",
      sandboxUserIds: config.sandboxUserIds,
      sandboxFaults: config.sandboxFaults,
      retry: config.retry,
      circuit: config.circuit,
      logger: attributesLogger,
      onCall: metrics.recordVendorCall,
      ...(shared
        ? {
            rateBudgets: redisBudgets(shared.commands, shared.settings.keyPrefix),
            locks: redisKeyedLocks(shared.commands, { keyPrefix: shared.settings.keyPrefix }),
          }
        : {}),
    });
    started.push(runtime);
    const auth = chooseAuthenticator(config.auth, false);
    if (auth.warning) attributesLogger.warn(auth.warning);
    const banner = `Dev stack: every vendor is a sandbox. Users ${config.sandboxUserIds[0] ?? ""}…${config.sandboxUserIds.at(-1) ?? ""} exist in them.`;
    const attributes = await startApp({
      vendors: runtime.vendors,
      logger: attributesLogger,
      port: options.attributesPort,
      host: options.host,
      maxBodyBytes: config.maxBodyBytes,
      graphiql: true,
      introspection: true,
      bulk: config.bulk,
      authenticator: auth.authenticator,
      idempotency: config.idempotency,
      queryLimits: config.queryLimits,
      federationAuthDirectives: false,
      banner,
      metrics,
      runtime,
      readiness: config.readiness,
      // A browser app on another local port may call the dev stack's subgraph directly.
      corsOrigins: config.corsOrigins.length > 0 ? config.corsOrigins : DEV_CORS_ORIGINS,
      ...(shared ? { shared } : {}),
    });
    started.push(attributes);

    const gateway = await startGateway({
      subgraphs: [
        { name: "users", url: users.url },
        { name: "attributes", url: attributes.url },
      ],
      port: options.gatewayPort,
      host: options.host,
      logger: logger.child({ component: "gateway" }),
      examples: GATEWAY_EXAMPLES,
      corsOrigins: config.corsOrigins.length > 0 ? config.corsOrigins : DEV_CORS_ORIGINS,
      banner: `${banner} This is @apollo/gateway composing the users and attributes subgraphs.`,
    });
    started.push(gateway);
    return {
      gateway,
      attributes,
      users,
      runtime,
      ...(shared ? { shared } : {}),
      close: () => closeAll(started),
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

/** The dev stack's CORS_ORIGINS default: browser apps served from this machine, on any port. */
export const DEV_CORS_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*"];

/** Newest first, so the gateway stops before the subgraphs it calls. */
async function closeAll(started: ReadonlyArray<{ close(): Promise<void> }>): Promise<void> {
  for (const part of [...started].reverse()) await part.close();
}
