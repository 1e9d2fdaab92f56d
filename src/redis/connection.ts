import { readFileSync } from "node:fs";
import { Redis, type RedisOptions } from "ioredis";

/** How this process reaches the Redis that shared mode keeps its state in. */
export interface RedisSettings {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). */
  readonly url: string;
  /** Every key this subgraph writes starts with it, so several deployments can share one Redis. */
  readonly keyPrefix: string;
  /** PEM file of the CA that signed the server's certificate, for rediss:// with a private CA. */
  readonly tlsCaFile?: string;
}

export type RedisRole = "commands" | "subscriber" | "bullmq";

/**
 * A connection for one role. Commands fail fast while Redis is unreachable (a caller gets a typed
 * error within a second instead of a request hung on a queue); a subscriber and BullMQ's own
 * connections wait and retry forever, as BullMQ requires (`maxRetriesPerRequest: null`).
 */
export function connectRedis(settings: RedisSettings, role: RedisRole, name: string): Redis {
  const options: RedisOptions = {
    connectionName: `attributes-subgraph:${name}`,
    // Reconnect with a short capped backoff: a restarted Redis is back in use within a second.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    lazyConnect: false,
    // A subscriber re-subscribes after a reconnect by itself, and BullMQ's blocking reads wait: both queue while offline.
    ...(role === "commands"
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }
      : { maxRetriesPerRequest: null }),
    ...(settings.url.startsWith("rediss:") && settings.tlsCaFile ? { tls: { ca: readFileSync(settings.tlsCaFile) } } : {}),
  };
  return new Redis(settings.url, options);
}

/**
 * Resolves once the connection is ready for commands (a commands connection refuses them before:
 * it has no offline queue), or rejects after `timeoutMs`.
 */
export function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis was not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}

/** The URL with any password masked, for logs and /ready. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "redacted";
    if (parsed.username && parsed.username !== "default") parsed.username = "user";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
