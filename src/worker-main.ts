import "reflect-metadata";
import { bulkJobs, deliveryEngine } from "./app.js";
import { ConfigError, listenProblem } from "./config/app-config.js";
import { checkConfiguration } from "./config/check.js";
import { DEFAULT_INPUT_LIMITS } from "./domain/command.js";
import { secretForms } from "./http/redaction.js";
import { createLogger, stopOnSignals } from "./logging.js";
import { Metrics } from "./observability/metrics.js";
import { Readiness } from "./observability/readiness.js";
import { checkEvictionPolicy } from "./redis/eviction.js";
import { openSharedState } from "./redis/shared-state.js";
import { processSecrets, startConfiguredVendors } from "./runtime.js";
import { listen, drainServer } from "./server/http-server.js";
import { createOpsServer } from "./server/ops-server.js";
import { vendorModules } from "./vendors/index.js";

/**
 * `npm run worker`: a bulk worker and nothing else. It takes chunks of bulk jobs, and queued
 * deliveries' attempts, from shared mode's queues (REDIS_URL) and sends them to the vendors, sharing their rate budgets with every
 * replica; it serves GET /health, /ready and /metrics on PORT, no GraphQL. On SIGTERM it stops
 * taking chunks, finishes the ones in flight within SHUTDOWN_GRACE_MS and gives back the rest.
 */
async function main(): Promise<void> {
  const bootLogger = createLogger({
    level: "info",
    secrets: secretForms(processSecrets(process.env, vendorModules)),
    service: "attributes-worker",
  });
  const check = checkConfiguration(vendorModules, process.env, { process: "worker" });
  if (!check.ok) {
    bootLogger.fatal({ problems: check.problems }, new ConfigError(check.problems).message);
    bootLogger.flush();
    process.exit(78);
  }
  const config = check.config;
  const redis = config.redis!;
  const metrics = new Metrics({ processMetrics: true });
  const logger = createLogger({
    level: config.logLevel,
    sync: config.logSync,
    secrets: secretForms(processSecrets(process.env, vendorModules)),
    onDrop: metrics.recordLogDrop,
    service: "attributes-worker",
  });
  for (const warning of check.warnings) logger.warn(warning);
  const shared = await openSharedState(redis, { logger, name: "worker" });
  const { warning } = await checkEvictionPolicy(shared.commands);
  if (warning) logger.warn(warning);
  const runtime = await startConfiguredVendors(vendorModules, process.env, config, { shared, logger, onCall: metrics.recordVendorCall });
  metrics.observeRuntime(runtime);
  // A worker always runs one, whatever BULK_WORKER says (that variable is for subgraph replicas).
  const bulk = bulkJobs(
    { vendors: runtime.vendors, logger, shared, bulk: config.bulk },
    { ...config.bulk, worker: true },
    DEFAULT_INPUT_LIMITS,
    metrics,
  );
  // Queued deliveries (GUARANTEED updates retried, and the updates queued behind them) too.
  const deliveries = deliveryEngine(
    { vendors: runtime.vendors, logger, shared },
    config.delivery,
    { enabled: true, lockMs: config.bulk.workerLockMs },
    metrics,
  );
  const readiness = new Readiness(runtime.summary, runtime.breakers, config.readiness);
  readiness.addDependency(shared.readiness);
  const server = createOpsServer({
    logger,
    readiness: async () => {
      const report = await readiness.check();
      return { ready: report.status === "ready", report };
    },
    ...(config.metrics ? { metrics: () => metrics.render() } : {}),
  });
  let url: string;
  try {
    ({ url } = await listen(server, config.port, config.host));
  } catch (error) {
    const problem = listenProblem(error, "PORT", config.port, config.host);
    if (!problem) throw error;
    logger.fatal(problem);
    logger.flush();
    process.exit(78);
  }
  logger.info({ url, concurrency: config.bulk.workerConcurrency, ready: `${url}ready` }, `attributes bulk worker ready at ${url}`);

  stopOnSignals(logger, {
    graceMs: config.shutdownGraceMs,
    draining: "finishing chunks in flight",
    secondSignal: "exiting now; chunks in flight are recovered by another worker",
    drain: () => {
      readiness.markDraining();
      return Promise.all([
        bulk.stop({ graceMs: config.shutdownGraceMs }),
        deliveries.stop(config.shutdownGraceMs),
        drainServer(server, 1_000),
      ])
        .then(() => shared.close())
        .then(() => runtime.close());
    },
  });
}

await main();
