import { createLogger } from "../logging.js";
import { portFrom } from "./ports.js";
import { startUsersSubgraph } from "./users-subgraph.js";

/**
 * Runs the sample users subgraph alone (the compose example starts it from the subgraph's image
 * with this command). PORT (default 4002), HOST (default 0.0.0.0), LOG_LEVEL.
 */
const problems: string[] = [];
const port = portFrom(process.env, "PORT", 4002, problems);
const logger = createLogger({ level: process.env.LOG_LEVEL?.trim() || "info", service: "users-subgraph" });
if (problems.length > 0) {
  logger.fatal({ problems }, "invalid configuration");
  process.exit(78); // EX_CONFIG, as the subgraph
}
const users = await startUsersSubgraph({ port, host: process.env.HOST?.trim() || "0.0.0.0", logger });
logger.info({ url: users.url }, `users subgraph ready at ${users.url}`);

const stop = (signal: string): void => {
  logger.info({ signal }, "shutting down");
  void users.close().then(() => process.exit(0));
};
process.once("SIGINT", () => stop("SIGINT"));
process.once("SIGTERM", () => stop("SIGTERM"));
