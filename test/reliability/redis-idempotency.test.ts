import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { connectRedis, whenReady } from "../../src/redis/connection.js";
import { checkEvictionPolicy } from "../../src/redis/eviction.js";
import type { IdempotencyBegin } from "../../src/reliability/idempotency.js";
import { RedisIdempotencyStore, type RedisIdempotencyOptions } from "../../src/reliability/redis-idempotency.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";

/**
 * What only a shared store does: replicas (stores on separate connections) see each other's keys,
 * duplicates wait for a call in flight elsewhere (bounded), and a holder that dies never lets
 * anything be sent twice. The behaviours both stores share are in idempotency-store-contract.test.ts.
 */
type Begin = IdempotencyBegin<string>;
type First = Extract<Begin, { kind: "first" }>;
type Replay = Extract<Begin, { kind: "replay" }>;
const first = (begin: Begin): First => {
  if (begin.kind !== "first") throw new Error(`expected first, got ${JSON.stringify(begin)}`);
  return begin;
};
const replay = (begin: Begin): Replay => {
  if (begin.kind !== "replay") throw new Error(`expected replay, got ${JSON.stringify(begin)}`);
  return begin;
};
/** Whether `promise` is still pending after `ms`: only ever asserted where it must stay pending far longer. */
const stillPendingAfter = async (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([promise.then(() => false), new Promise<boolean>((resolve) => setTimeout(resolve, ms, true))]);

const PREFIX = "idem-test";
let redis: TestRedis | undefined;
const connections: Redis[] = [];

async function replica(
  options: Partial<RedisIdempotencyOptions> = {},
): Promise<{ store: RedisIdempotencyStore<string>; connection: Redis }> {
  const connection = connectRedis({ url: redis!.url, keyPrefix: PREFIX }, "commands", `replica-${connections.length}`);
  connections.push(connection);
  await whenReady(connection, 5_000);
  const store = new RedisIdempotencyStore<string>(connection, {
    keyPrefix: PREFIX,
    windowMs: 60_000,
    inFlightWaitMs: 20_000,
    onError: () => undefined,
    ...options,
  });
  return { store, connection };
}

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  // A second disconnect would leave ioredis's 2 s close timer behind: only those still open.
  for (const connection of connections) if (connection.status !== "end") connection.disconnect();
  await stopTestRedis(redis);
});

let keys = 0;
const newKey = (): string => `k${++keys}`;

describe("RedisIdempotencyStore across replicas", () => {
  it("replays on replica B what replica A completed, sending nothing on B", async () => {
    const [a, b] = [await replica(), await replica()];
    const key = newKey();
    await first(await a.store.begin(key, "f")).complete("from A");
    expect(await replay(await b.store.begin(key, "f")).result).toBe("from A");
    expect(await b.store.begin(key, "g")).toEqual({ kind: "conflict" });
  });

  it("stores a key as one hash under <prefix>:idem:, with the window as its TTL, never extended", async () => {
    const { store } = await replica({ windowMs: 45_000 });
    const key = newKey();
    const claim = first(await store.begin(key, "f"));
    const redisKey = `${PREFIX}:idem:${key}`;
    expect(store.redisKey(key)).toBe(redisKey);
    const ttl = await redis!.client.pttl(redisKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(45_000);
    await claim.complete("R");
    expect(await redis!.client.hget(redisKey, "result")).toBe(JSON.stringify("R"));
    expect(await redis!.client.hget(redisKey, "fp")).toBe("f");
    // Neither a completion nor a retake extends the window.
    await first(await replay(await store.begin(key, "f")).retake()).complete("R2");
    expect(await redis!.client.pttl(redisKey)).toBeLessThanOrEqual(ttl);
  });

  it("makes a duplicate on B wait while A's call is in flight, then gives it A's outcome", async () => {
    const [a, b] = [await replica(), await replica()];
    const key = newKey();
    const claim = first(await a.store.begin(key, "f"));
    const duplicate = b.store.begin(key, "f");
    // B waits (up to its 20 s bound) rather than answering while A holds the key.
    expect(await stillPendingAfter(duplicate, 300)).toBe(true);
    await claim.complete("A's outcome");
    expect(await replay(await duplicate).result).toBe("A's outcome");
  });

  it("hands a first call's key to a duplicate waiting on another replica when that call is abandoned", async () => {
    const [a, b] = [await replica(), await replica()];
    const key = newKey();
    const claim = first(await a.store.begin(key, "f"));
    const duplicate = b.store.begin(key, "f");
    expect(await stillPendingAfter(duplicate, 100)).toBe(true);
    await claim.abandon();
    const taken = first(await duplicate);
    expect(taken.previous).toBeUndefined();
    await taken.complete("B sent it");
    expect(await replay(await a.store.begin(key, "f")).result).toBe("B sent it");
  });

  it("gives exactly one of concurrent retakes on A and B the claim", async () => {
    const [a, b] = [await replica(), await replica()];
    for (let round = 0; round < 10; round++) {
      const key = newKey();
      await first(await a.store.begin(key, "f")).complete("old");
      const [ra, rb] = [replay(await a.store.begin(key, "f")), replay(await b.store.begin(key, "f"))];
      const retakes = [ra.retake(), rb.retake()];
      const winner = first(await Promise.race(retakes));
      await winner.complete("new");
      const both = await Promise.all(retakes);
      expect(both.filter((t) => t.kind === "first")).toHaveLength(1);
      expect(await replay(both.find((t) => t !== winner)!).result).toBe("new");
    }
  });

  it("answers in-progress after the bounded wait while the holder is alive, and the outcome once it completes", async () => {
    const [a, b] = [await replica({ leaseMs: 1_000 }), await replica({ inFlightWaitMs: 200, leaseMs: 1_000 })];
    const key = newKey();
    const claim = first(await a.store.begin(key, "f"));
    // Several lease periods pass: A renews its lease, so B is told the call is running, not lost.
    for (let i = 0; i < 8; i++)
      expect(await b.store.begin(key, "f")).toEqual({ kind: "in-progress", holderLost: false, retryAfterSeconds: 1 });
    await claim.complete("late but recorded");
    expect(await replay(await b.store.begin(key, "f")).result).toBe("late but recorded");
  });

  it("never hands out a key whose holder died: after its lease, repeats are told the outcome is unknown until the window ends", async () => {
    const holder = await replica({ leaseMs: 300, windowMs: 30_000 });
    const b = await replica({ inFlightWaitMs: 20_000 });
    const key = newKey();
    const claim = first(await holder.store.begin(key, "f"));
    // The holder's process is killed: its connection is gone, so its lease is never renewed.
    holder.connection.disconnect();
    const answer = await b.store.begin(key, "f");
    expect(answer).toMatchObject({ kind: "in-progress", holderLost: true });
    const { retryAfterSeconds } = answer as Extract<Begin, { kind: "in-progress" }>;
    expect(retryAfterSeconds).toBeGreaterThan(1);
    expect(retryAfterSeconds).toBeLessThanOrEqual(30);
    // Again and again, on any replica: nothing is claimed, so nothing is sent twice.
    const c = await replica();
    expect(await c.store.begin(key, "f")).toMatchObject({ kind: "in-progress", holderLost: true });
    expect(await b.store.begin(key, "f")).toMatchObject({ kind: "in-progress", holderLost: true });
    await claim.abandon(); // fails on the dead connection; stops its timer
  });

  it("never hands out a retaken key whose holder died either: the resent vendors' outcome is unknown", async () => {
    const holder = await replica({ leaseMs: 300 });
    const key = newKey();
    await first(await holder.store.begin(key, "f")).complete("429 from one vendor");
    const retake = first(await replay(await holder.store.begin(key, "f")).retake());
    holder.connection.disconnect();
    const b = await replica();
    expect(await b.store.begin(key, "f")).toMatchObject({ kind: "in-progress", holderLost: true });
    await retake.abandon();
  });

  it("still records the outcome of a holder whose lease lapsed (a long pause), and replays it from then on", async () => {
    const [a, b] = [await replica(), await replica()];
    const key = newKey();
    const claim = first(await a.store.begin(key, "f"));
    await redis!.client.hset(`${PREFIX}:idem:${key}`, "lease", "0"); // as if A had not renewed for a whole lease
    expect(await b.store.begin(key, "f")).toMatchObject({ kind: "in-progress", holderLost: true });
    await claim.complete("recorded after all");
    expect(await replay(await b.store.begin(key, "f")).result).toBe("recorded after all");
  });

  it("answers the claim when a holder's record fails (Redis unreachable) without losing it, and reports the failure", async () => {
    const errors: string[] = [];
    const { store, connection } = await replica({ onError: (_error, during) => errors.push(during) });
    const claim = first(await store.begin(newKey(), "f"));
    connection.disconnect(); // commands connections have no offline queue: every command now fails at once
    await expect(claim.complete("lost")).resolves.toBeUndefined();
    expect(errors).toContain("complete");
    // A begin while Redis is unreachable fails fast rather than answering what it cannot know.
    await expect(store.begin(newKey(), "f")).rejects.toThrow();
  });
});

describe("checkEvictionPolicy", () => {
  it("accepts noeviction and warns about any policy that may evict keys with a TTL", async () => {
    const connection = connectRedis({ url: redis!.url, keyPrefix: PREFIX }, "commands", "eviction");
    connections.push(connection);
    await whenReady(connection, 5_000);
    await redis!.client.config("SET", "maxmemory-policy", "noeviction");
    expect(await checkEvictionPolicy(connection)).toEqual({ policy: "noeviction" });
    for (const policy of ["volatile-lru", "allkeys-lru", "volatile-ttl"]) {
      await redis!.client.config("SET", "maxmemory-policy", policy);
      const check = await checkEvictionPolicy(connection);
      expect(check.policy).toBe(policy);
      expect(check.warning).toContain(`maxmemory-policy is ${policy}`);
    }
    await redis!.client.config("SET", "maxmemory-policy", "noeviction");
  });

  it("reports unknown, with a warning, when CONFIG is refused (as on some managed Redis)", async () => {
    await redis!.client.call("ACL", "SETUSER", "app", "on", ">app-password", "~*", "+@all", "-config");
    const limited = new Redis(`redis://app:app-password@127.0.0.1:${redis!.port}`, { maxRetriesPerRequest: 1 });
    try {
      const check = await checkEvictionPolicy(limited);
      expect(check.policy).toBe("unknown");
      expect(check.warning).toMatch(/noeviction/);
    } finally {
      limited.disconnect();
    }
  });
});
