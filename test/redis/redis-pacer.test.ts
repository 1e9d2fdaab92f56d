import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Redis } from "ioredis";
import { RateLimitWaitTooLong } from "../../src/domain/vendor.js";
import { RateBudgetUnavailable, SHORT_PAUSE_MS } from "../../src/pacing/budget.js";
import { PacerRegistry } from "../../src/pacing/pacer.js";
import { RedisPacer, redisBudgets } from "../../src/pacing/redis-pacer.js";
import { connectRedis, whenReady } from "../../src/redis/connection.js";
import { startVendors } from "../../src/runtime.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { vendorModules } from "../../src/vendors/index.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";

/**
 * The shared rate budget against a real redis-server: every RedisPacer here has its own
 * connection, as separate replicas and workers would. Assertions count sends in sliding seconds
 * and check semantics; time bounds are generous (a shared CI machine stalls).
 */
describe("RedisPacer: one rate budget shared through Redis", () => {
  let redis: TestRedis;
  const connections: Redis[] = [];
  let keys = 0;

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const connection of connections) connection.disconnect();
    await stopTestRedis(redis);
  });

  async function connection(): Promise<Redis> {
    const made = connectRedis({ url: redis.url, keyPrefix: "test" }, "commands", `pacer-${connections.length}`);
    connections.push(made);
    await whenReady(made, 5_000);
    return made;
  }

  /**
   * Two pacers of one budget, each on its own connection. The budget already has a schedule (ended
   * long ago), as a running deployment's has; a new one starts a window late (tested on its own).
   */
  async function twoPacers(
    rate: number,
    options: ConstructorParameters<typeof RedisPacer>[3] = {},
  ): Promise<[RedisPacer, RedisPacer, string]> {
    const key = `test:rate:carnival:budget-${++keys}`;
    await redis.client.hset(key, "tat", "0");
    return [new RedisPacer(await connection(), key, rate, options), new RedisPacer(await connection(), key, rate, options), key];
  }

  /** Background callers that take slots until `ms` have passed; the time of each send (epoch ms). */
  async function drive(pacers: readonly RedisPacer[], callersEach: number, ms: number): Promise<number[]> {
    const sent: number[] = [];
    const end = performance.now() + ms;
    const caller = async (pacer: RedisPacer): Promise<void> => {
      while (performance.now() < end) {
        await pacer.acquire({ background: true });
        sent.push(performance.now());
      }
    };
    const keepAlive = setInterval(() => undefined, 100);
    await Promise.all(pacers.flatMap((pacer) => Array.from({ length: callersEach }, () => caller(pacer))));
    clearInterval(keepAlive);
    return sent.sort((a, b) => a - b);
  }

  function busiestSecond(sorted: readonly number[]): number {
    let best = 0;
    let start = 0;
    for (let end = 0; end < sorted.length; end++) {
      while (sorted[end]! - sorted[start]! >= 1000) start++;
      best = Math.max(best, end - start + 1);
    }
    return best;
  }

  async function serverNowMs(): Promise<number> {
    const [seconds, micros] = await redis.client.time();
    return Number(seconds) * 1000 + Number(micros) / 1000;
  }

  it("two processes' pacers on one budget never let more than the rate out in any sliding second, and together use most of it", async () => {
    const rate = 40;
    const [a, b] = await twoPacers(rate);
    const sent = await drive([a, b], 8, 2_600);
    expect(busiestSecond(sent)).toBeLessThanOrEqual(rate);
    // Both got slots: the budget is one schedule, not two halves or one winner.
    expect(a.stats().acquired).toBeGreaterThan(10);
    expect(b.stats().acquired).toBeGreaterThan(10);
    // Generous: 2.6 s at 40/s is ~104; a stalled machine drops late slots rather than bunching them.
    expect(sent.length).toBeGreaterThan(40);
  });

  it("keeps the limit when one process stalls with slots in hand: overdue slots are dropped, not sent together", async () => {
    const rate = 50;
    const [a, b] = await twoPacers(rate);
    // Block this event loop for 400 ms once both hold slots: every slot that passed meanwhile is overdue.
    setTimeout(() => {
      const until = performance.now() + 400;
      while (performance.now() < until) {
        // blocking on purpose
      }
    }, 700);
    const sent = await drive([a, b], 10, 2_200);
    expect(busiestSecond(sent)).toBeLessThanOrEqual(rate);
    expect(a.stats().droppedLate! + b.stats().droppedLate!).toBeGreaterThan(0);
  });

  it("low-priority callers of any process book at most the horizon ahead: a live caller of another process goes after a few of their slots, not all", async () => {
    // 50/s: slots 20.4 ms apart, a 100 ms horizon, about five slots.
    const [a, b, key] = await twoPacers(50);
    const order: string[] = [];
    const backlog = Array.from({ length: 30 }, (_, i) =>
      a.acquire({ background: true, lowPriority: true }).then(() => order.push(`bulk-${i}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    // However many are waiting, the schedule in Redis is booked no further than the horizon and one slot.
    const [tat] = await redis.client.hmget(key, "tat");
    expect(Number(tat) / 1000 - (await serverNowMs())).toBeLessThanOrEqual(100 + 20.4);
    const sentBefore = order.length;
    const live = b.acquire().then(() => order.push("live"));
    await Promise.all([...backlog, live]);
    // Without priority the live caller would come after every one of the 30 (they were all waiting
    // first); with it, after the few booked ahead.
    expect(order.indexOf("live") - sentBefore).toBeLessThanOrEqual(7);
    expect(order.filter((name) => name.startsWith("bulk"))).toHaveLength(30);
    expect(a.stats().acquired).toBe(30);
  });

  it("a low-priority caller cancelled while the schedule is booked ahead rejects with its reason and holds nothing up", async () => {
    const [a] = await twoPacers(200);
    const first = Array.from({ length: 30 }, () => a.acquire({ background: true, lowPriority: true }));
    const controller = new AbortController();
    const cancelled = a.acquire({ background: true, lowPriority: true, signal: controller.signal });
    const after = a.acquire({ background: true, lowPriority: true });
    controller.abort(new Error("job cancelled"));
    await expect(cancelled).rejects.toThrow("job cancelled");
    await Promise.all([...first, after]);
    expect(a.stats().acquired).toBe(31);
  });

  it("reserves slots in batches: far fewer Redis round trips than calls at a high rate", async () => {
    const [a, b] = await twoPacers(2_000);
    await redis.client.config("RESETSTAT");
    const sent = await drive([a, b], 40, 1_000);
    const stats = await redis.client.info("commandstats");
    const scripts = [...stats.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
    expect(sent.length).toBeGreaterThan(200);
    expect(scripts).toBeGreaterThan(0);
    expect(scripts).toBeLessThan(sent.length / 2);
    expect(a.stats().roundTrips! + b.stats().roundTrips!).toBeLessThan(sent.length / 2);
  });

  it("a vendor's long Retry-After paused by one process holds back the other, which refuses an interactive caller at once", async () => {
    const [a, b, key] = await twoPacers(100, { maxWaitMs: 500 });
    await b.acquire(); // b has talked to Redis: what it knows of the pause comes from there, not from a
    a.pause(3);
    // The pause is in Redis (a writes it in the background): wait until it is there.
    for (let i = 0; i < 100 && !(await redis.client.hget(key, "until")); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = await b.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitWaitTooLong);
    expect((refused as RateLimitWaitTooLong).waitMs).toBeGreaterThan(2_000);
    expect((refused as RateLimitWaitTooLong).waitMs).toBeLessThanOrEqual(3_000);
    const started = performance.now();
    await b.acquire({ background: true });
    expect(performance.now() - started).toBeGreaterThan(1_500);
  });

  it("refuses an interactive caller beyond its deadline without reserving anything; a background caller waits", async () => {
    const [a, , key] = await twoPacers(1, { maxWaitMs: 300 });
    await a.acquire(); // the first slot is now; the next one about 1.02 s later
    const tatBefore = await redis.client.hget(key, "tat");
    const refused = await a.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitWaitTooLong);
    expect(refused).not.toBeInstanceOf(RateBudgetUnavailable);
    expect(await redis.client.hget(key, "tat")).toBe(tatBefore);
    const started = performance.now();
    await a.acquire({ background: true });
    expect(performance.now() - started).toBeGreaterThan(700);
    expect(Number(await redis.client.hget(key, "tat"))).toBeGreaterThan(Number(tatBefore));
  });

  it("treats a low-priority caller as background work: never refused for maxWaitMs, it waits its turn", async () => {
    const [a] = await twoPacers(20, { maxWaitMs: 1 });
    await a.acquire(); // the next slot is 51 ms away, beyond the 1 ms bound
    await expect(a.acquire()).rejects.toBeInstanceOf(RateLimitWaitTooLong);
    await a.acquire({ lowPriority: true });
    expect(a.stats().acquired).toBe(2);
  });

  it("a cancelled caller gets the signal's reason and its slot goes back to the schedule", async () => {
    const [a, b, key] = await twoPacers(1);
    await a.acquire();
    const tatAfterFirst = await redis.client.hget(key, "tat");
    const controller = new AbortController();
    const waiting = a.acquire({ background: true, signal: controller.signal }).catch((error: unknown) => error);
    // Wait until its slot is reserved in Redis, then cancel.
    for (let i = 0; i < 100 && (await redis.client.hget(key, "tat")) === tatAfterFirst; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await redis.client.hget(key, "tat")).not.toBe(tatAfterFirst);
    controller.abort("cancelled by the test");
    expect(await waiting).toBe("cancelled by the test");
    for (let i = 0; i < 100 && (await redis.client.hget(key, "tat")) !== tatAfterFirst; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await redis.client.hget(key, "tat")).toBe(tatAfterFirst);
    // The other process now gets the slot the cancelled caller had, not the one after it.
    const started = performance.now();
    await b.acquire({ background: true });
    expect(performance.now() - started).toBeLessThan(1_900);
    expect(a.stats().acquired).toBe(1);
  });

  it("a cancelled caller that was already cancelled is refused without a round trip", async () => {
    const [a] = await twoPacers(10);
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    await expect(a.acquire({ signal: controller.signal })).rejects.toThrow("gone");
    expect(a.stats()).toMatchObject({ acquired: 0, roundTrips: 0 });
  });

  it("a short 429 pauses every process briefly, doubling while the vendor keeps refusing; a long one as asked", async () => {
    const [a, b, key] = await twoPacers(100);
    const untilIn = async (): Promise<number> => Number(await redis.client.hget(key, "until")) / 1000 - (await serverNowMs());
    const paused = async (): Promise<void> => {
      for (let i = 0; i < 100 && !(await redis.client.hget(key, "until")); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    a.pause(1);
    await paused();
    const first = await untilIn();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(SHORT_PAUSE_MS);
    // A 429 for a call sent after that pause: twice as long, whoever saw it.
    await new Promise((resolve) => setTimeout(resolve, first + 20));
    const before = await redis.client.hget(key, "until");
    b.pause(NaN);
    for (let i = 0; i < 100 && (await redis.client.hget(key, "until")) === before; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Number(await redis.client.hget(key, "spm"))).toBe(2 * SHORT_PAUSE_MS * 1000);
    a.pause(5);
    for (let i = 0; i < 100 && (await untilIn()) < 4_000; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await untilIn()).toBeGreaterThan(4_000);
    expect(await untilIn()).toBeLessThanOrEqual(5_000);
  });

  it("starts a budget Redis has no schedule for a window late: the vendor still counts the second before Redis lost it", async () => {
    const [a, b, key] = await twoPacers(50);
    // Process A sends a second's worth at the limit; then Redis loses its data (a restart without persistence).
    const before = await drive([a], 8, 1_000);
    expect(before.length).toBeGreaterThan(25);
    await redis.client.del(key);
    const lostAt = performance.now();
    // Process B, which never saw A's calls, asks at once: its first slot comes a window (1 s + slack) later,
    // so no sliding second holds more than the limit of A's calls and B's together.
    const after = await drive([b], 8, 1_800);
    expect(after[0]! - lostAt).toBeGreaterThanOrEqual(1_000);
    const all = [...before, ...after].sort((x, y) => x - y);
    let busiest = 0;
    for (let i = 0, j = 0; i < all.length; i++) {
      while (all[i]! - all[j]! >= 1_000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(50);
    // The new schedule then runs at the rate again: not a second budget-less start per batch.
    expect(after.length).toBeGreaterThan(10);
  });

  it("gives a low-priority caller a slot on a new budget: the late start is kept, not begun anew each time it asks", async () => {
    const pacer = new RedisPacer(await connection(), `test:rate:carnival:budget-${++keys}`, 50);
    // Its bound (the horizon, ~100 ms) is shorter than the late start: refused at first, it asks again when that comes due.
    await pacer.acquire({ lowPriority: true });
    await pacer.acquire({ lowPriority: true });
    expect(pacer.stats().acquired).toBe(2);
  });

  it("keys the budget under the prefix by the hashed credential, never the credential itself", async () => {
    const registry = new PacerRegistry({ factory: redisBudgets(await connection(), "deploy-a") });
    const budget = registry.forCredential("carnival", "very-secret-api-key", 10, { maxWaitMs: 5_000 });
    await budget.acquire();
    const stored = await redis.client.keys("deploy-a:*");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/^deploy-a:rate:carnival:[0-9a-f]{16}$/);
    expect(stored[0]).not.toContain("very-secret");
    expect(budget.maxWaitMs).toBe(5_000);
    expect(await redis.client.pttl(stored[0]!)).toBeGreaterThan(0); // idle budgets expire
  });

  it("startVendors puts every vendor's budget in Redis when given redisBudgets (shared mode's wiring)", async () => {
    const runtime = await startVendors(
      [carnival],
      {},
      { sandbox: "force", sandboxUserIds: ["1"], rateBudgets: redisBudgets(await connection(), "wired") },
    );
    try {
      const entries = runtime.pacers.entries();
      expect(entries).toHaveLength(1);
      const [key, budget] = entries[0]!;
      expect(budget).toBeInstanceOf(RedisPacer);
      expect((budget as RedisPacer).key).toBe(`wired:rate:${key}`);
      await budget.acquire();
      expect(await redis.client.exists(`wired:rate:${key}`)).toBe(1);
    } finally {
      await runtime.close();
    }
  });

  it("gives every vendor one Redis budget per credential that every process shares (Jiguang's per project, Leanplum's per app key)", async () => {
    const start = async () =>
      // Leanplum publishes no limit: its budget exists once LEANPLUM_RATE_LIMIT is set.
      startVendors(
        vendorModules,
        { LEANPLUM_RATE_LIMIT: "40" },
        { sandbox: "force", sandboxUserIds: ["1"], rateBudgets: redisBudgets(await connection(), "all") },
      );
    const [one, two] = [await start(), await start()];
    try {
      const keysOf = (runtime: typeof one) =>
        Object.fromEntries(
          runtime.pacers.entries().map(([key, budget]) => {
            expect(budget).toBeInstanceOf(RedisPacer);
            return [key.split(":")[0], (budget as RedisPacer).key];
          }),
        );
      const keys = keysOf(one);
      // One budget per vendor (its writes, look-ups and bulk calls all draw on it), the same key in both processes.
      expect(Object.keys(keys).sort()).toEqual(vendorModules.map((m) => m.id).sort());
      expect(one.pacers.entries()).toHaveLength(vendorModules.length);
      expect(keysOf(two)).toEqual(keys);
      for (const key of Object.values(keys)) expect(key).toMatch(/^all:rate:[a-z]+:[0-9a-f]{16}$/);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("while Redis is down nothing is let through: interactive callers are refused at once, background and low-priority callers wait and go once it is back", async () => {
    const [a, , key] = await twoPacers(20, { maxWaitMs: 5_000, retryMs: 50 });
    await a.acquire();
    await redis.stop("SIGKILL");
    try {
      const refused = await a.acquire().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RateBudgetUnavailable);
      expect(refused).toBeInstanceOf(RateLimitWaitTooLong); // the same typed AttributesRateLimitedError to the client
      let released = 0;
      const background = [a.acquire({ background: true }), a.acquire({ background: true, lowPriority: true })].map((waiting) =>
        waiting.then(() => released++),
      );
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(released).toBe(0);
      await redis.restart();
      await Promise.all(background);
      expect(released).toBe(2);
      // The restarted (empty) Redis holds the schedule again.
      expect(await redis.client.hget(key, "tat")).not.toBeNull();
    } finally {
      await redis.restart().catch(() => undefined);
    }
  });
});
