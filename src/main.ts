import "reflect-metadata";
import { startApp } from "./app.js";
import { chooseAuthenticator } from "./auth/choose.js";
import { ConfigError, listenProblem } from "./config/app-config.js";
import { checkConfiguration } from "./config/check.js";
import { secretForms } from "./http/redaction.js";
import { checkEvictionPolicy } from "./redis/eviction.js";
import { openSharedState } from "./redis/shared-state.js";
import { createLogger, stopOnSignals } from "./logging.js";
import { Metrics } from "./observability/metrics.js";
import { processSecrets, startConfiguredVendors } from "./runtime.js";
import { vendorModules } from "./vendors/index.js";

/** Entry point: configuration → vendors (live or sandboxed) → GraphQL server. */
async function main(): Promise<void> {
  const secrets = secretForms(processSecrets(process.env, vendorModules));
  const bootLogger = createLogger({ level: "info", secrets });
  // Every problem of every stage at once, before anything starts (EX_CONFIG on any).
  const check = checkConfiguration(vendorModules, process.env);
  if (!check.ok) {
    bootLogger.fatal({ problems: check.problems }, new ConfigError(check.problems).message);
    bootLogger.flush();
    process.exit(78);
  }
  const config = check.config;

  const metrics = new Metrics({ processMetrics: true });
  const logger = createLogger({ level: config.logLevel, sync: config.logSync, secrets, onDrop: metrics.recordLogDrop });
  for (const warning of check.warnings) logger.warn(warning);
  // Shared mode: state every replica and worker shares, in Redis.
  const shared = config.redis ? await openSharedState(config.redis, { logger, name: "subgraph" }) : undefined;
  if (shared) {
    const { warning } = await checkEvictionPolicy(shared.commands);
    if (warning) logger.warn(warning);
  }

  let runtime;
  try {
    runtime = await startConfiguredVendors(vendorModules, process.env, config, {
      ...(shared ? { shared } : {}),
      logger,
      onCall: metrics.recordVendorCall,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      bootLogger.fatal({ problems: error.problems }, error.message);
      process.exit(78);
    }
    throw error;
  }

  // Checked above with the same inputs: this cannot refuse now.
  const auth = chooseAuthenticator(
    config.auth,
    runtime.summary.some((s) => s.mode === "live"),
  );
  if (auth.warning) logger.warn(auth.warning);

  const sandboxed = runtime.summary.filter((s) => s.mode === "sandbox").map((s) => s.vendor);
  const banner =
    sandboxed.length > 0
      ? `Sandbox vendors (no real vendor is called): ${sandboxed.join(", ")}. Users ${config.sandboxUserIds.length > 0 ? `${config.sandboxUserIds[0]}…${config.sandboxUserIds.at(-1)}` : "(none)"} exist in them.`
      : `Live vendors: ${runtime.summary
          .filter((s) => s.mode === "live")
          .map((s) => s.vendor)
          .join(", ")}`;

  let app;
  try {
    app = await startApp({
      vendors: runtime.vendors,
      logger,
      port: config.port,
      host: config.host,
      maxBodyBytes: config.maxBodyBytes,
      graphiql: config.graphiql,
      introspection: config.introspection,
      bulk: config.bulk,
      authenticator: auth.authenticator,
      idempotency: config.idempotency,
      queryLimits: config.queryLimits,
      federationAuthDirectives: config.federationAuthDirectives,
      banner,
      metrics,
      metricsEndpoint: config.metrics,
      runtime,
      readiness: config.readiness,
      scrubber: runtime.scrubber,
      corsOrigins: config.corsOrigins,
      shutdownGraceMs: config.shutdownGraceMs,
      ...(shared ? { shared } : {}),
    });
  } catch (error) {
    const problem = listenProblem(error, "PORT", config.port, config.host);
    if (!problem) throw error;
    logger.fatal(problem);
    logger.flush();
    process.exit(78);
  }
  for (const entry of runtime.summary) {
    logger.info({ vendor: entry.vendor, mode: entry.mode, target: entry.target }, `vendor ${entry.vendor}: ${entry.mode}`);
  }
  if (sandboxed.length > 0) logger.warn(`SANDBOX MODE: ${sandboxed.join(", ")} answer from built-in sandbox servers, not the real vendors`);
  logger.info(
    { url: app.url, graphiql: config.graphiql, metrics: config.metrics ? `${app.url}metrics` : false, ready: `${app.url}ready` },
    `attributes subgraph ready at ${app.url}`,
  );

  // The drain (App.close): /ready turns 503, no new connections, requests in progress answered
  // for up to SHUTDOWN_GRACE_MS, then the vendors' clients and sandboxes close and the process
  // exits 0. A second signal during the drain exits at once (128 + the signal's number).
  stopOnSignals(logger, {
    graceMs: config.shutdownGraceMs,
    draining: "draining requests in progress",
    secondSignal: "exiting now, requests still in progress are cut off",
    drain: () =>
      app
        .close()
        .then(() => shared?.close())
        .then(() => runtime.close()),
  });
}

await main();
