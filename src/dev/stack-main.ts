import "reflect-metadata";
import { ConfigError } from "../config/app-config.js";
import { createLogger } from "../logging.js";
import { portFrom } from "./ports.js";
import { startDevStack } from "./stack.js";

/**
 * `npm run dev:stack`: the users subgraph, this subgraph on sandbox vendors and @apollo/gateway.
 * GATEWAY_PORT (4000), PORT (4001, this subgraph), USERS_PORT (4002), HOST (127.0.0.1: the
 * sandbox stack lets any caller write, so it is not exposed beyond this machine unless asked).
 */
const env = process.env;
const logger = createLogger({ level: env.LOG_LEVEL?.trim() || "info" });
const problems: string[] = [];
const ports = {
  gatewayPort: portFrom(env, "GATEWAY_PORT", 4000, problems),
  attributesPort: portFrom(env, "PORT", 4001, problems),
  usersPort: portFrom(env, "USERS_PORT", 4002, problems),
};
if (problems.length > 0) {
  logger.fatal({ problems }, "invalid configuration");
  process.exit(78);
}
if (env.FEDERATION_AUTH_DIRECTIVES?.trim().toLowerCase() === "true") {
  logger.warn("FEDERATION_AUTH_DIRECTIVES=true is ignored: @apollo/gateway refuses supergraphs with @authenticated / @requiresScopes");
}

let stack;
try {
  stack = await startDevStack({ env, host: env.HOST?.trim() || "127.0.0.1", logger, ...ports });
} catch (error) {
  if (error instanceof ConfigError) {
    logger.fatal({ problems: error.problems }, error.message);
    process.exit(78);
  }
  throw error;
}
const { gateway, attributes, users } = stack;
logger.info({ gateway: gateway.url, attributes: attributes.url, users: users.url }, "dev stack ready");
// The URLs a developer wants, readable above the JSON logs.
process.stdout.write(
  [
    "",
    `  Gateway (composed graph, GraphiQL)   ${gateway.url}`,
    `  Attributes subgraph (GraphiQL)       ${attributes.url}`,
    `    metrics ${attributes.url}metrics · readiness ${attributes.url}ready`,
    `  Users subgraph                       ${users.url}`,
    "",
    "",
  ].join("\n"),
);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  void stack.close().then(() => process.exit(0));
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
