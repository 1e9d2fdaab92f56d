import type { Redis } from "ioredis";
import type { Logger } from "../logging.js";
import type { Dependency } from "../observability/readiness.js";
import { connectRedis, describeRedisUrl, whenReady, type RedisSettings } from "./connection.js";

/**
 * Shared mode's connections to Redis, one per role: commands (fail fast while Redis is away, so a
 * caller gets a typed answer instead of a hung request), the cancel channel's subscriber, and
 * BullMQ's (which waits and retries, as BullMQ requires).
 */
export interface SharedState {
  readonly settings: RedisSettings;
  readonly commands: Redis;
  readonly subscriber: Redis;
  readonly bullmq: Redis;
  /** GET /ready's view of Redis: unready while the commands connection is not up. */
  readonly readiness: Dependency;
  close(): Promise<void>;
}

/**
 * Opens the connections and waits for Redis up to `readyTimeoutMs`. A Redis that is not up yet does
 * not stop the process from starting (compose starts everything at once): the connections keep
 * trying, and GET /ready answers 503 until they are up.
 */
export async function openSharedState(
  settings: RedisSettings,
  options: { readonly logger: Logger; readonly name: string; readonly readyTimeoutMs?: number },
): Promise<SharedState> {
  const { logger, name } = options;
  const commands = connectRedis(settings, "commands", `${name}:commands`);
  const subscriber = connectRedis(settings, "subscriber", `${name}:subscriber`);
  const bullmq = connectRedis(settings, "bullmq", `${name}:bullmq`);
  const where = describeRedisUrl(settings.url);
  let lastError: string | undefined;
  for (const connection of [commands, subscriber, bullmq]) {
    connection.on("error", (error: Error) => {
      // ioredis repeats the same error on every reconnect attempt: log each distinct one once.
      if (error.message !== lastError) logger.warn({ redis: where, err: error }, "Redis connection error");
      lastError = error.message;
    });
  }
  commands.on("ready", () => {
    if (lastError !== undefined) logger.info({ redis: where }, "Redis reachable again");
    lastError = undefined;
  });
  try {
    await whenReady(commands, options.readyTimeoutMs ?? 10_000);
    logger.info({ redis: where }, "shared mode: state in Redis");
  } catch {
    logger.warn({ redis: where }, "shared mode: Redis is not reachable yet; GET /ready answers 503 until it is");
  }
  return {
    settings,
    commands,
    subscriber,
    bullmq,
    readiness: {
      name: "redis",
      async check() {
        if (commands.status !== "ready") return { ready: false, detail: { url: where, status: commands.status } };
        const started = performance.now();
        await commands.ping();
        return { ready: true, detail: { url: where, pingMs: Math.round((performance.now() - started) * 100) / 100 } };
      },
    },
    async close() {
      await Promise.all([commands, subscriber, bullmq].map((connection) => connection.quit().catch(() => connection.disconnect())));
    },
  };
}
