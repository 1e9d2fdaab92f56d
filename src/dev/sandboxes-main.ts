import http from "node:http";
import { parseRandomFaults } from "../sandbox/faults.js";
import { readAppConfig } from "../config/app-config.js";
import { createLogger } from "../logging.js";
import { vendorModules } from "../vendors/index.js";
import { portFrom } from "./ports.js";

/**
 * Every vendor's sandbox as one process of its own, for several subgraph replicas and bulk workers
 * that must all see the same fake vendors (compose.yaml's `sandboxes` service; in one process,
 * `SANDBOX=true` starts private ones instead). Vendor i listens on SANDBOX_BASE_PORT + i (registry
 * order: carnival 4101, jiguang 4102, leanplum 4103, usercom 4104); point each process at them with
 * the variables the start-up log prints (each vendor's `sandboxEnv`), as a live vendor. GET /health
 * on PORT answers 200 while they run. HOST (0.0.0.0), SANDBOX_USER_IDS, SANDBOX_FAULTS, LOG_LEVEL.
 */
const env = process.env;
const logger = createLogger({ level: env.LOG_LEVEL?.trim() || "info", service: "sandbox-vendors" });
const problems: string[] = [];
const port = portFrom(env, "PORT", 4001, problems);
const basePort = portFrom(env, "SANDBOX_BASE_PORT", 4101, problems);
const faults = parseRandomFaults(env.SANDBOX_FAULTS ?? "");
problems.push(...faults.problems);
if (problems.length > 0) {
  logger.fatal({ problems }, "invalid configuration");
  process.exit(78);
}
const host = env.HOST?.trim() || "0.0.0.0";
const { sandboxUserIds } = readAppConfig({ SANDBOX_USER_IDS: env.SANDBOX_USER_IDS });
const sandboxes = await Promise.all(
  vendorModules.map(async (module, index) => {
    // SANDBOX_BASE_PORT=0: each on a free port (tests).
    const sandbox = await module.startSandbox({ host, port: basePort === 0 ? 0 : basePort + index, seedUserIds: sandboxUserIds });
    if (faults.faults.length > 0) sandbox.setRandomFaults(faults.faults);
    return { module, sandbox };
  }),
);
for (const { module, sandbox } of sandboxes) {
  logger.info(
    { vendor: module.id, url: sandbox.url, variables: Object.keys(module.sandboxEnv(sandbox.url)) },
    `${module.displayName} sandbox at ${sandbox.url}`,
  );
}
const health = http.createServer((req, res) => {
  res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "application/json" });
  res.end(JSON.stringify(req.url === "/health" ? { status: "ok" } : { error: "not found" }));
});
await new Promise<void>((resolve) => health.listen(port, host, () => resolve()));
logger.info({ health: `http://${host}:${port}/health` }, `sandbox vendors ready at http://${host}:${port}/`);

const stop = (signal: string): void => {
  logger.info({ signal }, "shutting down");
  health.close();
  void Promise.all(sandboxes.map(({ sandbox }) => sandbox.close())).then(() => process.exit(0));
};
process.once("SIGINT", () => stop("SIGINT"));
process.once("SIGTERM", () => stop("SIGTERM"));
