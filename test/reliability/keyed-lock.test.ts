import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Redis } from "ioredis";
import { connectRedis, whenReady } from "../../src/redis/connection.js";
import { KeyedMutex, LockUnavailableError, type KeyedLock } from "../../src/reliability/keyed-lock.js";
import { RedisKeyedLock, redisKeyedLocks, type RedisKeyedLockOptions } from "../../src/reliability/redis-keyed-lock.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";

/**
 * The KeyedLock contract, against the in-process KeyedMutex and against RedisKeyedLock as two
 * "replicas" (two instances on two connections, sections alternating between them); then what only
 * the Redis lock does: FIFO across processes, a killed holder overtaken after its lease, key layout.
 */
const PREFIX = "lock-test";
let redis: TestRedis | undefined;
const connections: Redis[] = [];
let names = 0;

async function connection(name: string): Promise<Redis> {
  const opened = connectRedis({ url: redis!.url, keyPrefix: PREFIX }, "commands", name);
  connections.push(opened);
  await whenReady(opened, 5_000);
  return opened;
}

function redisLock(on: Redis, name: string, options: Partial<RedisKeyedLockOptions> = {}): RedisKeyedLock {
  return new RedisKeyedLock(on, { keyPrefix: PREFIX, name, onError: () => undefined, ...options });
}

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const opened of connections) if (opened.status !== "end") opened.disconnect();
  await stopTestRedis(redis);
});

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
/** Polls `condition` until it holds: a bounded wait, never a timing threshold. */
async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await tick(5);
  }
}

/** Locks to spread sections over: one in-process mutex, or two Redis "replicas" on separate connections. */
const implementations: Array<[string, () => Promise<KeyedLock[]>]> = [
  ["KeyedMutex", () => Promise.resolve([new KeyedMutex()])],
  [
    "RedisKeyedLock on two connections",
    async () => {
      const name = `contract-${++names}`;
      return [redisLock(await connection("a"), name), redisLock(await connection("b"), name)];
    },
  ],
];

describe.each(implementations)("%s (the KeyedLock contract)", (_name, make) => {
  it("never runs two sections for one key at once, and keeps different keys concurrent", async () => {
    const locks = await make();
    const running = new Map<string, number>();
    let peakPerKey = 0;
    let peakOverall = 0;
    let overall = 0;
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const key = `k${i % 3}`;
        return locks[i % locks.length]!.run([key], async () => {
          running.set(key, (running.get(key) ?? 0) + 1);
          overall++;
          peakPerKey = Math.max(peakPerKey, running.get(key)!);
          peakOverall = Math.max(peakOverall, overall);
          await tick(5);
          running.set(key, running.get(key)! - 1);
          overall--;
        });
      }),
    );
    expect(peakPerKey).toBe(1);
    expect(peakOverall).toBeGreaterThan(1);
  });

  it("never deadlocks multi-key sections with random overlapping key sets, one at a time per key", async () => {
    const locks = await make();
    const keys = ["a", "b", "c", "d", "e", "f"];
    let seed = 7;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const holders = new Map<string, number>();
    let clashes = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const mine = keys.filter(() => random() < 0.4);
        if (mine.length === 0) mine.push(keys[i % keys.length]!);
        return locks[i % locks.length]!.run(mine, async () => {
          for (const key of mine) {
            if (holders.has(key)) clashes++;
            holders.set(key, i);
          }
          await tick(random() < 0.5 ? 0 : 2);
          for (const key of mine) holders.delete(key);
          done++;
        });
      }),
    );
    expect({ done, clashes }).toEqual({ done: 60, clashes: 0 });
  });

  it("rejects a waiter whose signal aborts with the signal's own reason, runs nothing for it, and keeps the order for the rest", async () => {
    const locks = await make();
    const [a, b] = [locks[0]!, locks[locks.length - 1]!];
    const order: string[] = [];
    const holding = gate();
    const entered = gate();
    const first = a.run(["x"], async () => {
      entered.open();
      await holding.promise;
      order.push("first");
    });
    await entered.promise;
    const controller = new AbortController();
    const aborted = b.run(["x"], () => Promise.resolve(order.push("aborted")), controller.signal);
    await tick(20);
    const third = b.run(["x"], () => Promise.resolve(order.push("third")));
    await tick(20);
    controller.abort("cancelled by test");
    await expect(aborted).rejects.toBe("cancelled by test");
    holding.open();
    await Promise.all([first, third]);
    expect(order).toEqual(["first", "third"]);
  });

  it("keeps cooldowns per key, seen by every holder of the key", async () => {
    const locks = await make();
    const [a, b] = [locks[0]!, locks[locks.length - 1]!];
    await a.run(["u"], (held) => held.startCooldown(["u"], 60_000));
    const left = await b.run(["u", "v"], (held) => held.cooldownLeft(["u", "v"]));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(60_000);
    expect(await b.run(["v"], (held) => held.cooldownLeft(["v"]))).toBe(0);
  });
});

describe("RedisKeyedLock across processes", () => {
  it("admits sections in arrival order across replicas, each arriving after the previous one queued", async () => {
    const name = `fifo-${++names}`;
    const [one, two] = [await connection("fifo-1"), await connection("fifo-2")];
    // One instance per arrival (as many processes): each arrival's ticket is visible in Redis.
    const locks = Array.from({ length: 7 }, (_, i) => redisLock(i % 2 === 0 ? one : two, name));
    const queue = locks[0]!.queueKey("user-1");
    const order: number[] = [];
    const holding = gate();
    const entered = gate();
    const runs = [
      locks[0]!.run(["user-1"], async () => {
        entered.open();
        await holding.promise;
        order.push(0);
      }),
    ];
    await entered.promise;
    for (let i = 1; i < locks.length; i++) {
      runs.push(locks[i]!.run(["user-1"], () => Promise.resolve(void order.push(i))));
      await until(async () => (await redis!.client.llen(queue)) === i + 1, `arrival ${i} to queue`);
    }
    holding.open();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("lets the next section proceed one lease after a holder stops renewing (its process was killed)", async () => {
    const name = `killed-${++names}`;
    const doomed = await connection("doomed");
    const killed = redisLock(doomed, name, { leaseMs: 400 });
    const survivor = redisLock(await connection("survivor"), name, { leaseMs: 400 });
    const never = gate();
    const entered = gate();
    const stuck = killed
      .run(["user-9"], async () => {
        entered.open();
        await never.promise;
      })
      .catch(() => undefined);
    await entered.promise;
    doomed.disconnect(); // no more renewals: the lease runs out
    let ran = false;
    await survivor.run(["user-9"], () => Promise.resolve(void (ran = true)));
    expect(ran).toBe(true);
    never.open();
    await stuck;
  });

  it("overtakes a waiter that was killed while queued once it reaches the head", async () => {
    const name = `killed-waiter-${++names}`;
    const [holderConnection, doomed, third] = [await connection("holder"), await connection("doomed-waiter"), await connection("third")];
    const holder = redisLock(holderConnection, name, { leaseMs: 400 });
    const waiter = redisLock(doomed, name, { leaseMs: 400 });
    const last = redisLock(third, name, { leaseMs: 400 });
    const holding = gate();
    const entered = gate();
    const first = holder.run(["k"], async () => {
      entered.open();
      await holding.promise;
    });
    await entered.promise;
    const dead = waiter.run(["k"], () => Promise.resolve("never")).catch((error: unknown) => error);
    await until(async () => (await redis!.client.llen(holder.queueKey("k"))) === 2, "the doomed waiter to queue");
    doomed.disconnect();
    const after = last.run(["k"], () => Promise.resolve("ran"));
    holding.open();
    await first;
    expect(await after).toBe("ran");
    expect(await dead).toBeInstanceOf(LockUnavailableError);
  });

  it("refuses with LockUnavailableError, running nothing, when Redis is unreachable", async () => {
    const opened = await connection("unreachable");
    const lock = redisLock(opened, `down-${++names}`);
    opened.disconnect();
    let ran = false;
    await expect(lock.run(["k"], () => Promise.resolve(void (ran = true)))).rejects.toBeInstanceOf(LockUnavailableError);
    expect(ran).toBe(false);
  });

  it("keeps its state under <prefix>:lock:{name}: and leaves nothing behind but cooldowns once idle", async () => {
    const name = `layout-${++names}`;
    const locks = redisKeyedLocks(await connection("layout"), { keyPrefix: PREFIX });
    const lock = locks(name) as RedisKeyedLock;
    expect(locks(name)).toBe(lock);
    expect(lock.queueKey("u1")).toBe(`${PREFIX}:lock:{${name}}:q:u1`);
    expect(lock.leaseKey).toBe(`${PREFIX}:lock:{${name}}:leases`);
    expect(lock.cooldownKey("u1")).toBe(`${PREFIX}:lock:{${name}}:cool:u1`);
    const seen = await lock.run(["u1", "u2"], async (held) => {
      await held.startCooldown(["u1"], 30_000);
      return {
        queued: await redis!.client.lrange(lock.queueKey("u1"), 0, -1),
        leases: await redis!.client.zcard(lock.leaseKey),
        queueTtl: await redis!.client.pttl(lock.queueKey("u2")),
      };
    });
    expect(seen.queued).toHaveLength(1);
    expect(seen.leases).toBe(1);
    expect(seen.queueTtl).toBeGreaterThan(0);
    expect((await redis!.client.keys(`${PREFIX}:lock:{${name}}:*`)).sort()).toEqual([lock.cooldownKey("u1")]);
  });
});
