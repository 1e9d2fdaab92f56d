/**
 * One sending process of bench/rate-budget.ts: `concurrency` background callers that each take a
 * slot from the credential's rate budget and PUT one Carnival user through the project's own
 * HttpClient (which pauses the budget on every 429), from `startAt` for `seconds`. Configured by
 * BENCH_SENDER (JSON, SenderConfig); answers its sends and statuses over IPC.
 */
import { Redis } from "ioredis";
import { RateLimiterQueue, RateLimiterRedis } from "rate-limiter-flexible";
import type { Waiter } from "../../src/domain/vendor.js";
import { basicAuth, HttpClient } from "../../src/http/client.js";
import type { RateBudget, RateBudgetStats } from "../../src/pacing/budget.js";
import { Pacer } from "../../src/pacing/pacer.js";
import { RedisPacer } from "../../src/pacing/redis-pacer.js";

export type BudgetImpl = "local" | "lua" | "rlflex" | "rlflex-even";

export interface SenderConfig {
  readonly impl: BudgetImpl;
  readonly rate: number;
  /** Milliseconds of slack (default: the shipped WINDOW_SLACK_MS). */
  readonly slackMs?: number;
  /** "short": the shipped reaction to a 429; "full": every 429 pauses the whole Retry-After (1 s), as before. */
  readonly reaction: "short" | "full";
  readonly redisUrl?: string;
  readonly key: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly startAt: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly users: number;
  readonly lateToleranceMs?: number;
  readonly maxBatch?: number;
}

export interface SenderResult {
  /** When each call was let go (epoch ms, sub-millisecond). */
  readonly sends: number[];
  readonly statuses: Record<number, number>;
  readonly stats: RateBudgetStats;
  readonly cpuMs: number;
}

/** rate-limiter-flexible's Redis limiter (a fixed one-second window) behind its FIFO queue, as a budget. */
class RateLimiterFlexibleBudget implements RateBudget {
  readonly maxWaitMs = Infinity;
  private readonly limiter: RateLimiterRedis;
  private readonly queue: RateLimiterQueue;
  private acquired = 0;

  constructor(
    redis: Redis,
    private readonly key: string,
    readonly ratePerSecond: number,
    execEvenly: boolean,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: "bench-rlflex",
      points: Math.floor(ratePerSecond),
      duration: 1,
      execEvenly,
    });
    this.queue = new RateLimiterQueue(this.limiter);
  }

  async acquire(): Promise<void> {
    await this.queue.removeTokens(1, this.key);
    this.acquired++;
  }

  /** The library's own way: the key is blocked for the whole `Retry-After` (whole seconds). */
  pause(seconds: number): void {
    void this.limiter.block(this.key, Math.max(1, Math.ceil(Number.isFinite(seconds) ? seconds : 1))).catch(() => undefined);
  }

  peekDelayMs(): number {
    return 0;
  }

  stats(): RateBudgetStats {
    return { acquired: this.acquired, waitedMs: 0 };
  }
}

/** Every 429 pauses for the whole Retry-After (1 s without one): the reaction before this change. */
class FullPause implements RateBudget {
  constructor(private readonly inner: RateBudget) {}
  get ratePerSecond(): number {
    return this.inner.ratePerSecond;
  }
  get maxWaitMs(): number {
    return this.inner.maxWaitMs;
  }
  acquire(waiter?: Waiter): Promise<void> {
    return this.inner.acquire(waiter);
  }
  pause(seconds: number): void {
    // Just over a second counts as "long" (budget.ts): honoured in full.
    this.inner.pause(Number.isFinite(seconds) && seconds > 1 ? seconds : 1.000001);
  }
  peekDelayMs(): number {
    return this.inner.peekDelayMs();
  }
  stats(): RateBudgetStats {
    return this.inner.stats();
  }
}

function budgetFor(config: SenderConfig, redis: Redis | undefined): RateBudget {
  const slack = config.slackMs === undefined ? {} : { windowSlackMs: config.slackMs };
  let budget: RateBudget;
  switch (config.impl) {
    case "local":
      budget = new Pacer(config.rate, slack);
      break;
    case "lua":
      budget = new RedisPacer(redis!, config.key, config.rate, {
        ...slack,
        ...(config.lateToleranceMs === undefined ? {} : { lateToleranceMs: config.lateToleranceMs }),
        ...(config.maxBatch === undefined ? {} : { maxBatch: config.maxBatch }),
      });
      break;
    case "rlflex":
    case "rlflex-even":
      return new RateLimiterFlexibleBudget(redis!, config.key, config.rate, config.impl === "rlflex-even");
  }
  return config.reaction === "full" ? new FullPause(budget) : budget;
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_SENDER ?? "{}") as SenderConfig;
  const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }) : undefined;
  if (redis) await new Promise<void>((resolve) => (redis.status === "ready" ? resolve() : redis.once("ready", () => resolve())));
  const budget = budgetFor(config, redis);
  const client = new HttpClient({
    vendor: "carnival",
    baseUrl: config.baseUrl,
    timeoutMs: 10_000,
    headers: { authorization: basicAuth("", config.apiKey) },
    pacer: budget,
    pauseOn429: true,
  });
  const sends: number[] = [];
  const statuses: Record<number, number> = {};
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, config.startAt - Date.now())));
  const cpuBefore = cpuMs();
  const endAt = performance.now() + config.seconds * 1000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < endAt) {
      await budget.acquire({ background: true });
      if (performance.now() >= endAt) break;
      sends.push(performance.timeOrigin + performance.now());
      const user = String((next++ % config.users) + 1);
      const result = await client.send({
        method: "PUT",
        path: `users/${user}`,
        json: { user: { custom: { plan: { type: "string", value: "gold" } } } },
        operation: "put",
        background: true,
      });
      const status = result.kind === "response" ? result.status : 0;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  // Budget waits do not keep a process alive (their timers are unref'd): this does, until the end.
  const keepAlive = setInterval(() => undefined, 1_000);
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  clearInterval(keepAlive);
  const result: SenderResult = { sends, statuses, stats: budget.stats(), cpuMs: Math.round(cpuMs() - cpuBefore) };
  client.close();
  redis?.disconnect();
  process.send!(result, () => process.exit(0));
}

await main();
