import "reflect-metadata";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../config/app-config.js";
import { createLogger } from "../logging.js";
import { describeRedisUrl } from "../redis/connection.js";
import { vendorModules } from "../vendors/index.js";
import { redisServerPath, startLocalRedis } from "./local-redis.js";
import { portFrom } from "./ports.js";
import { startDevStack } from "./stack.js";

/**
 * `npm run dev:stack`: the users subgraph, this subgraph on sandbox vendors and @apollo/gateway.
 * GATEWAY_PORT (4000), PORT (4001, this subgraph), USERS_PORT (4002), HOST (127.0.0.1: the
 * sandbox stack lets any caller write, so it is not exposed beyond this machine unless asked).
 *
 * Shared mode when it can: with REDIS_URL, or else a redis-server of its own when Debian's
 * `redis-server` is installed, the subgraph keeps its state in Redis and a bulk worker process
 * (`dist/worker-main.js`, WORKER_PORT 4003 for its /health, /ready and /metrics) takes bulk work
 * from it, on the stack's sandboxes. Without either, everything stays in this process.
 */
const env = process.env;
const logger = createLogger({ level: env.LOG_LEVEL?.trim() || "info" });
const problems: string[] = [];
const ports = {
  gatewayPort: portFrom(env, "GATEWAY_PORT", 4000, problems),
  attributesPort: portFrom(env, "PORT", 4001, problems),
  usersPort: portFrom(env, "USERS_PORT", 4002, problems),
};
const workerPort = portFrom(env, "WORKER_PORT", 4003, problems);
if (problems.length > 0) {
  logger.fatal({ problems }, "invalid configuration");
  process.exit(78);
}
if (env.FEDERATION_AUTH_DIRECTIVES?.trim().toLowerCase() === "true") {
  logger.warn("FEDERATION_AUTH_DIRECTIVES=true is ignored: @apollo/gateway refuses supergraphs with @authenticated / @requiresScopes");
}

const host = env.HOST?.trim() || "127.0.0.1";
const binary = env.REDIS_URL ? undefined : redisServerPath(env);
const localRedis = binary ? await startLocalRedis(binary) : undefined;
const redisUrl = env.REDIS_URL?.trim() || localRedis?.url;
if (!redisUrl) logger.info("no REDIS_URL and no redis-server installed: the stack keeps its state in this process (no worker process)");
const keyPrefix = env.REDIS_KEY_PREFIX?.trim() || "attributes";

let stack;
try {
  stack = await startDevStack({ env, host, logger, ...ports, ...(redisUrl ? { redis: { url: redisUrl, keyPrefix } } : {}) });
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal({ problems: error.problems }, error.message);
    process.exit(78);
  }
  throw error;
}
const { gateway, attributes, users } = stack;

/** The bulk worker, a process of its own as in production, pointed at this stack's sandboxes as its live vendors. */
let worker: ChildProcess | undefined;
if (redisUrl) {
  const sandboxEnv = Object.fromEntries(
    vendorModules.flatMap((module) => {
      const sandbox = stack.runtime.sandboxes.get(module.id);
      return sandbox ? Object.entries(module.sandboxEnv(sandbox.url)).filter(([, value]) => value !== undefined) : [];
    }),
  ) as Record<string, string>;
  worker = spawn(process.execPath, ["--enable-source-maps", path.join(path.dirname(fileURLToPath(import.meta.url)), "../worker-main.js")], {
    env: {
      PATH: env.PATH,
      ...sandboxEnv,
      SANDBOX: "false",
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      PORT: String(workerPort),
      HOST: host,
      LOG_LEVEL: env.LOG_LEVEL ?? "info",
    },
    stdio: ["ignore", "inherit", "inherit"],
    // Its own process group: Ctrl-C reaches the stack only, which stops the worker first (a drain,
    // not the terminal's second signal). If the stack exits any other way, the worker goes with it.
    detached: true,
  });
  process.once("exit", () => worker?.kill("SIGKILL"));
}
logger.info({ gateway: gateway.url, attributes: attributes.url, users: users.url }, "dev stack ready");
// The URLs a developer wants, readable above the JSON logs.
process.stdout.write(
  [
    "",
    `  Gateway (composed graph, GraphiQL)   ${gateway.url}`,
    `  Attributes subgraph (GraphiQL)       ${attributes.url}`,
    `    metrics ${attributes.url}metrics · readiness ${attributes.url}ready`,
    `  Users subgraph                       ${users.url}`,
    redisUrl
      ? `  Shared mode: Redis ${describeRedisUrl(redisUrl)}${localRedis ? " (the stack's own)" : ""}, bulk worker http://${host}:${workerPort}/ready`
      : "  State in this process (set REDIS_URL, or install redis-server, for shared mode and a worker process)",
    "",
    "",
  ].join("\n"),
);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  const workerStopped = worker && worker.exitCode === null ? new Promise((resolve) => worker.once("exit", resolve)) : Promise.resolve();
  worker?.kill("SIGTERM");
  void workerStopped
    .then(() => stack.close())
    .then(() => localRedis?.stop())
    .then(() => process.exit(0));
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
