import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import type { Redis } from "ioredis";
import type { AttributeOperation } from "../../../domain/operations.js";
import { NO_RETRIES } from "../../../http/client.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import { connectRedis, whenReady } from "../../../redis/connection.js";
import { KeyedMutex, type KeyedLock } from "../../../reliability/keyed-lock.js";
import { redisKeyedLocks } from "../../../reliability/redis-keyed-lock.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../../../../test/support/redis.js";
import { LeanplumAdapter } from "../adapter.js";
import { startLeanplumSandbox, type LeanplumSandbox } from "../sandbox.js";
import { command, context, sandboxConfig } from "./support.js";

/**
 * Two Leanplum adapters standing for two replicas (each with its own lock instance and Redis
 * connection) write to one Leanplum app, which answers concurrent requests for one user with 429.
 */
const set = (attribute: string, value: string): AttributeOperation => ({ kind: "SET", attribute, value: { kind: "string", value } });

let redis: TestRedis | undefined;
let sandbox: LeanplumSandbox;
const connections: Redis[] = [];
const adapters: LeanplumAdapter[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  sandbox = await startLeanplumSandbox({ seedUserIds: ["1"] });
});
afterAll(async () => {
  for (const adapter of adapters) adapter.close();
  for (const opened of connections) if (opened.status !== "end") opened.disconnect();
  await sandbox.close();
  await stopTestRedis(redis);
});
beforeEach(() => {
  sandbox.clearJournal();
  sandbox.setLatency(0);
});

/** A "replica": its own connection and lock factory, as main.ts would build in shared mode. */
async function replica(name: string): Promise<LeanplumAdapter> {
  const connection = connectRedis({ url: redis!.url, keyPrefix: "lp" }, "commands", name);
  connections.push(connection);
  await whenReady(connection, 5_000);
  return adapterWith(redisKeyedLocks(connection, { keyPrefix: "lp" }));
}

function adapterWith(locks: (name: string) => KeyedLock): LeanplumAdapter {
  const adapter = new LeanplumAdapter(sandboxConfig(sandbox), {
    pacers: new PacerRegistry({ maxWaitMs: 60_000 }),
    retry: NO_RETRIES,
    locks,
  });
  adapters.push(adapter);
  return adapter;
}

describe("Leanplum's per-user serialization across replicas (RedisKeyedLock)", () => {
  it("sends concurrent updates for one user from two replicas one at a time: Leanplum never answers 429", async () => {
    const [a, b] = [await replica("a"), await replica("b")];
    sandbox.setLatency(50);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).update(command("shared-1", [set("seq", String(i))]), context())),
    );
    expect(outcomes.map((o) => o.ok)).toEqual(Array.from({ length: 8 }, () => true));
    expect(sandbox.journal().map((e) => e.status)).toEqual(Array.from({ length: 8 }, () => 200));
  });

  it("holds a multi batch's users against another replica's single updates", async () => {
    const [a, b] = [await replica("multi-a"), await replica("multi-b")];
    sandbox.setLatency(30);
    const users = Array.from({ length: 10 }, (_, i) => `m-${i}`);
    const [bulk, ...singles] = await Promise.all([
      a.setForMany(users, { attribute: "tier", value: { kind: "string", value: "gold" } }, context()),
      ...users.slice(0, 5).map((user) => b.update(command(user, [set("seen", "yes")]), context())),
    ]);
    expect([...bulk.values()].every((o) => o.ok)).toBe(true);
    expect(singles.every((o) => o.ok)).toBe(true);
    expect(sandbox.journal().filter((e) => e.status === 429)).toEqual([]);
  });

  it("spaces devMode requests for one user across replicas by a second, so none is refused", async () => {
    const [a, b] = [await replica("dev-a"), await replica("dev-b")];
    const devMode = { options: { devMode: true } };
    const outcomes = await Promise.all([
      a.update(command("shared-dev", [set("a", "1")], devMode), context()),
      b.update(command("shared-dev", [set("a", "2")], devMode), context()),
      a.update(command("shared-dev", [set("a", "3")], devMode), context()),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    expect(sandbox.journal().map((e) => e.status)).toEqual([200, 200, 200]);
  });

  it("is needed: two processes with only their own in-process locks collide and get 429", async () => {
    const [a, b] = [adapterWith(() => new KeyedMutex()), adapterWith(() => new KeyedMutex())];
    sandbox.setLatency(300);
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).update(command("unshared", [set("seq", String(i))]), context())),
    );
    expect(outcomes.some((o) => !o.ok && o.failure.category === "RATE_LIMITED")).toBe(true);
    expect(sandbox.journal().some((e) => e.status === 429)).toBe(true);
  });

  it("answers a retryable failure, sending nothing, when the shared lock cannot be taken", async () => {
    const connection = connectRedis({ url: redis!.url, keyPrefix: "lp" }, "commands", "down");
    connections.push(connection);
    await whenReady(connection, 5_000);
    const adapter = adapterWith(redisKeyedLocks(connection, { keyPrefix: "lp" }));
    connection.disconnect();
    const outcome = await adapter.update(command("1", [set("a", "b")]), context());
    expect(outcome).toMatchObject({
      ok: false,
      failure: { category: "VENDOR_UNAVAILABLE", vendorCode: "LOCK_UNAVAILABLE", retryable: true },
    });
    expect(outcome.ok || outcome.failure.httpStatus).toBeUndefined();
    expect(sandbox.journal()).toEqual([]);
  });
});
