import "reflect-metadata";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { deliveryEngine } from "../../src/app.js";
import type { DeliveryEngine } from "../../src/delivery/engine.js";
import { RedisDeliveryStore } from "../../src/delivery/redis-store.js";
import { DEFAULT_DELIVERY_SETTINGS, type DeliveryMode, type DeliverySettings } from "../../src/delivery/types.js";
import type { UpdateCommand } from "../../src/domain/command.js";
import type { Vendor } from "../../src/domain/vendor.js";
import { createLogger } from "../../src/logging.js";
import { Metrics } from "../../src/observability/metrics.js";
import { openSharedState, type SharedState } from "../../src/redis/shared-state.js";
import { startVendors, type VendorRuntime } from "../../src/runtime.js";
import type { SandboxRequest } from "../../src/sandbox/kit.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { leanplum } from "../../src/vendors/leanplum/index.js";
import type { LeanplumSandbox } from "../../src/vendors/leanplum/sandbox.js";
import { asQueued, bodyText, callContext, incrementCommand, setCommand, setPlan, settled, sleep, waitFor } from "../delivery/helpers.js";
import { deliveryStoreContract, lane, record } from "../delivery/store-contract.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";

/**
 * Shared mode's delivery queue on a real Redis: engines built by the app's own deliveryEngine()
 * (RedisDeliveryStore, BullmqLaneScheduler, RedisKeyedLock), each on its own connections, stand
 * for replicas; what one queues, every other one sees, orders behind, cancels and delivers. Then
 * RedisDeliveryStore against the contract InMemoryDeliveryStore meets (test/delivery/store.test.ts).
 */
const KEY_PREFIX = "deliveries-test";
const SETTINGS: DeliverySettings = {
  ...DEFAULT_DELIVERY_SETTINGS,
  windowMs: 20_000,
  baseDelayMs: 50,
  maxDelayMs: 200,
  workerConcurrency: 4,
};

let redis: TestRedis | undefined;
let runtime: VendorRuntime;
let carnivalVendor: Vendor;
let carnivalSandbox: CarnivalSandbox;
let leanplumSandbox: LeanplumSandbox;
const states: SharedState[] = [];
const engines: DeliveryEngine[] = [];
const logLines: Array<{ level: number; msg: string; err?: unknown }> = [];
const logger = createLogger({ level: "info", destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } });

/** A replica: its own Redis connections, and a worker or not (BULK_WORKER). */
async function replica(worker: boolean, settings: Partial<DeliverySettings> = {}): Promise<DeliveryEngine> {
  const shared = await openSharedState({ url: redis!.url, keyPrefix: KEY_PREFIX }, { logger, name: `replica-${states.length}` });
  states.push(shared);
  const engine = deliveryEngine(
    { vendors: runtime.vendors, logger, shared },
    { ...SETTINGS, ...settings },
    { enabled: worker, lockMs: 2_000 },
    new Metrics(),
  );
  engines.push(engine);
  return engine;
}

const deliver = (engine: DeliveryEngine, command: UpdateCommand, mode: DeliveryMode, vendors: readonly Vendor[] = [carnivalVendor]) =>
  engine.deliver({ command, targets: vendors, mode, owner: "tester", context: callContext() });

const plan = (userId: string) => carnivalSandbox.devices(userId)?.[0]?.plan?.value;
const carnivalWrites = (userId: string) => carnivalSandbox.journal().filter((e) => e.method === "PUT" && e.path === `/v6/users/${userId}`);
const carnivalUser = (userId: string) => (r: SandboxRequest) => r.method === "PUT" && r.path === `/v6/users/${userId}`;
const leanplumCalls = (userId: string) =>
  leanplumSandbox.journal().filter((e) => (e.body as { userId?: string } | undefined)?.userId === userId);
/** Every write for the user fails with 503 until the faults are cleared. */
const down = (userId: string) =>
  carnivalSandbox.injectFault({ kind: "status", status: 503 }, { count: 1_000_000, match: carnivalUser(userId) });

beforeAll(async () => {
  redis = await startTestRedis();
  runtime = await startVendors(
    [carnival, leanplum],
    {},
    {
      sandbox: "force",
      sandboxHost: "127.0.0.1",
      sandboxUserIds: Array.from({ length: 20 }, (_, i) => String(i + 1)),
      circuit: { failureThreshold: 1_000_000, cooldownMs: 1_000 },
    },
  );
  carnivalVendor = runtime.vendors.find((v) => v.id === "carnival")!;
  carnivalSandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
  leanplumSandbox = runtime.sandboxes.get("leanplum") as LeanplumSandbox;
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop(0)));
  await Promise.all(states.splice(0).map((state) => state.close()));
  await redis!.client.flushall();
  for (const sandbox of [carnivalSandbox, leanplumSandbox]) {
    sandbox.clearFaults();
    sandbox.clearJournal();
  }
  const errors = logLines.splice(0).filter((line) => line.level >= 50);
  expect(errors).toEqual([]);
});
afterAll(async () => {
  await runtime?.close();
  await stopTestRedis(redis);
});

describe("queued deliveries across replicas", () => {
  it("shows a delivery queued on one replica on another, whose worker delivers it once after the first one stopped", async () => {
    const a = await replica(true);
    const b = await replica(true);
    down("1");
    const queued = asQueued((await deliver(a, setPlan("1", "gold"), "GUARANTEED"))[0]);
    expect(queued).toMatchObject({
      vendor: "carnival",
      reason: "RETRYABLE_FAILURE",
      attempts: 1,
      durable: true,
      lastError: { httpStatus: 503 },
    });
    expect(await b.get(queued.deliveryId)).toMatchObject({
      id: queued.deliveryId,
      status: "QUEUED",
      owner: "tester",
      userId: "1",
      command: setPlan("1", "gold"),
    });
    await waitFor("a retry by a worker", async () => ((await b.get(queued.deliveryId))!.attempts.length >= 3 ? true : undefined));

    await a.stop(1_000);
    const atStop = (await b.get(queued.deliveryId))!;
    expect(atStop.status).toBe("QUEUED");
    carnivalSandbox.clearFaults();
    // Only B works the queue now.
    const done = await settled(b, queued.deliveryId);
    expect(done.status).toBe("DELIVERED");
    expect(done.attempts.length).toBeGreaterThan(atStop.attempts.length);
    expect(await a.get(queued.deliveryId)).toEqual(done);
    expect(plan("1")).toBe("gold");
    expect(carnivalWrites("1")).toHaveLength(done.attempts.length);
    expect(carnivalWrites("1").filter((w) => w.status < 300)).toHaveLength(1);
    expect(await b.stats()).toEqual([]);
  });

  it("queues a later update sent through another replica behind the earlier one; delivers both in order; counts them on both", async () => {
    const a = await replica(true);
    const b = await replica(false);
    down("2");
    const first = asQueued((await deliver(a, setPlan("2", "a"), "GUARANTEED"))[0]);
    const sent = carnivalWrites("2").length;
    const second = asQueued((await deliver(b, setPlan("2", "b"), "SYNC"))[0]);
    expect(second).toMatchObject({ reason: "BEHIND_EARLIER_DELIVERY", attempts: 0, behind: first.deliveryId, durable: true });
    expect(carnivalWrites("2")).toHaveLength(sent);

    // Another user is not held up, through either replica.
    expect(await deliver(b, setPlan("3", "free"), "SYNC")).toEqual([{ ok: true, vendor: "carnival", warnings: [], httpStatus: 202 }]);
    expect(plan("3")).toBe("free");

    const createdAt = (await b.get(first.deliveryId))!.createdAt;
    for (const replicaStats of [await a.stats(), await b.stats()]) {
      expect(replicaStats).toEqual([{ vendor: "carnival", depth: 2, oldestCreatedAt: createdAt }]);
    }

    carnivalSandbox.clearFaults();
    const firstDone = await settled(b, first.deliveryId);
    const secondDone = await settled(b, second.deliveryId);
    expect([firstDone.status, secondDone.status]).toEqual(["DELIVERED", "DELIVERED"]);
    expect(secondDone.attempts[0]!.startedAt).toBeGreaterThanOrEqual(firstDone.finishedAt!);
    expect(plan("2")).toBe("b");
    expect(
      carnivalWrites("2")
        .filter((w) => w.status < 300)
        .map(bodyText),
    ).toEqual([expect.stringContaining('"a"'), expect.stringContaining('"b"')]);
    expect(await a.stats()).toEqual([]);
  });

  it("cancels from another replica: never attempted again, and the delivery behind it goes", async () => {
    const a = await replica(true);
    const b = await replica(false);
    down("4");
    const first = asQueued((await deliver(a, setPlan("4", "never"), "GUARANTEED"))[0]);
    const second = asQueued((await deliver(a, setPlan("4", "after-cancel"), "SYNC"))[0]);
    const cancelled = (await b.cancel(first.deliveryId))!;
    expect(cancelled).toMatchObject({ status: "CANCELLED", note: "cancelled" });
    expect(await a.get(first.deliveryId)).toEqual(cancelled);
    const sentForFirst = carnivalWrites("4").length;
    expect(sentForFirst).toBe(cancelled.attempts.length);

    carnivalSandbox.clearFaults();
    expect((await settled(b, second.deliveryId)).status).toBe("DELIVERED");
    expect(plan("4")).toBe("after-cancel");
    expect(carnivalWrites("4").slice(sentForFirst).map(bodyText)).toEqual([expect.stringContaining("after-cancel")]);
    expect(await b.cancel(first.deliveryId)).toEqual(cancelled);
    expect(await a.get(first.deliveryId)).toEqual(cancelled);
  });

  it("delivers, in order, an update whose value is not well-formed Unicode queued behind another", async () => {
    const a = await replica(true);
    down("6");
    const odd = "x\uD800y";
    const first = asQueued((await deliver(a, setPlan("6", "first"), "GUARANTEED"))[0]);
    const second = asQueued((await deliver(a, setPlan("6", odd), "SYNC"))[0]);
    expect(second.behind).toBe(first.deliveryId);
    carnivalSandbox.clearFaults();
    expect((await settled(a, first.deliveryId)).status).toBe("DELIVERED");
    const done = await settled(a, second.deliveryId);
    expect(done.status).toBe("DELIVERED");
    expect(done.command).toEqual(setPlan("6", odd));
    expect(plan("6")).toBe(odd);
    expect(carnivalWrites("6").filter((w) => w.status < 300)).toHaveLength(2);
  });

  it("never works the queue on a replica without a worker; a worker that starts later delivers what it queued", async () => {
    const c = await replica(false);
    carnivalSandbox.injectFault({ kind: "status", status: 503 }, { count: 1, match: carnivalUser("5") });
    const queued = asQueued((await deliver(c, setPlan("5", "eventually"), "GUARANTEED"))[0]);
    await sleep(1_000); // five times the longest retry delay
    expect(await c.get(queued.deliveryId)).toMatchObject({ status: "QUEUED", attempts: [{ result: "failed" }] });
    expect(carnivalWrites("5")).toHaveLength(1);

    const worker = await replica(true);
    const done = await settled(worker, queued.deliveryId);
    expect(done.status).toBe("DELIVERED");
    expect(done.attempts.map((a) => a.result)).toEqual(["failed", "delivered"]);
    expect(carnivalWrites("5").map((w) => w.status)).toEqual([503, 202]);
    expect(plan("5")).toBe("eventually");
  });

  it("sends nothing while Redis cannot be reached: the lane cannot be checked, and the answer says so", async () => {
    const a = await replica(false);
    await redis!.stop("SIGTERM");
    try {
      const [answer] = await deliver(a, setPlan("7", "unseen"), "GUARANTEED");
      expect(answer).toMatchObject({
        ok: false,
        vendor: "carnival",
        failure: { category: "VENDOR_UNAVAILABLE", vendorCode: "DELIVERY_QUEUE_UNAVAILABLE", retryable: true, retryAfterSeconds: 1 },
      });
      expect(carnivalWrites("7")).toHaveLength(0);
    } finally {
      await redis!.restart();
    }
    // Reconnected: delivered as usual.
    await waitFor("the replica to reach Redis again", async () => {
      const [outcome] = await deliver(a, setPlan("7", "seen"), "SYNC");
      return outcome && "ok" in outcome && outcome.ok ? outcome : undefined;
    });
    expect(plan("7")).toBe("seen");
    // Errors logged while Redis was away (BullMQ's connection) are expected here.
    logLines.length = 0;
  });

  it("ends an INCREMENT a dead process left in flight as OUTCOME_UNKNOWN, unsent, and delivers the update behind it", async () => {
    const userId = `inc-${randomUUID()}`;
    leanplumSandbox.seedUser(userId, { logins: 10 });
    const store = new RedisDeliveryStore(redis!.client, { keyPrefix: KEY_PREFIX, queuedTtlMs: 600_000 });
    const now = Date.now();
    // Overdue by more than a sweep interval, its wake-up lost: a worker's start-up sweep finds it.
    const lost = record("leanplum", userId, {
      command: incrementCommand(userId, "logins", 1),
      repeatSafe: false,
      createdAt: now - 60_000,
      nextAttemptAt: now - 60_000,
      inFlightSince: now - 59_000,
    });
    const behind = record("leanplum", userId, {
      command: setCommand(userId, "plan", "after"),
      reason: "BEHIND_EARLIER_DELIVERY",
      createdAt: now - 50_000,
    });
    await store.append(lost, 10);
    await store.append(behind, 10);

    const worker = await replica(true);
    const done = await settled(worker, lost.id);
    expect(done).toMatchObject({ status: "FAILED", outcome: { ok: false, failure: { category: "OUTCOME_UNKNOWN", retryable: false } } });
    expect(done.attempts.map((a) => a.result)).toEqual(["lost"]);
    expect((await settled(worker, behind.id)).status).toBe("DELIVERED");
    expect(leanplumCalls(userId)).toHaveLength(1);
    expect(leanplumSandbox.user(userId)?.attributes).toEqual({ logins: 10, plan: "after" });
  });
});

describe("RedisDeliveryStore", () => {
  deliveryStoreContract(() => new RedisDeliveryStore(redis!.client, { keyPrefix: `contract-${randomUUID()}`, queuedTtlMs: 600_000 }));

  it("keeps a queued record at most its window and retention; a settled one its retention", async () => {
    const keyPrefix = `ttl-${randomUUID()}`;
    const store = new RedisDeliveryStore(redis!.client, { keyPrefix, queuedTtlMs: 600_000 });
    const queued = record("carnival", "1");
    const done = record("carnival", "2");
    await store.append(queued, 10);
    await store.append(done, 10);
    await store.settle({ ...done, status: "DELIVERED", finishedAt: Date.now() }, 30_000);
    const ttl = (id: string) => redis!.client.pttl(`${keyPrefix}:delivery:r:${id}`);
    expect(await ttl(queued.id)).toBeGreaterThan(590_000);
    expect(await ttl(queued.id)).toBeLessThanOrEqual(600_000);
    expect(await ttl(done.id)).toBeGreaterThan(20_000);
    expect(await ttl(done.id)).toBeLessThanOrEqual(30_000);
  });

  it("drops a lane's ids whose record expired, from the lane, its counts, and the due sweep", async () => {
    const keyPrefix = `expired-${randomUUID()}`;
    // Two writers on one prefix: one keeps its records a moment, the other long.
    const brief = new RedisDeliveryStore(redis!.client, { keyPrefix, queuedTtlMs: 100 });
    const store = new RedisDeliveryStore(redis!.client, { keyPrefix, queuedTtlMs: 600_000 });
    const now = Date.now();
    const gone = record("carnival", "1", { nextAttemptAt: now - 5_000 });
    const next = record("carnival", "1", { nextAttemptAt: now - 1_000 });
    const goneAlone = record("carnival", "2", { nextAttemptAt: now - 4_000 });
    await brief.append(gone, 10);
    await store.append(next, 10);
    await brief.append(goneAlone, 10);
    await waitFor("the brief records to expire", async () =>
      (await store.get(gone.id)) === undefined && (await store.get(goneAlone.id)) === undefined ? true : undefined,
    );

    // The sweep still finds the lane behind the expired head, and forgets the lane left empty.
    expect(await store.dueLanes(now, 10)).toEqual([lane(next)]);
    expect(await store.head(lane(next))).toEqual(next);
    expect(await store.depth(lane(next))).toBe(1);
    expect(await store.depth(lane(goneAlone))).toBe(0);
    expect(await store.stats()).toEqual([{ vendor: "carnival", depth: 1, oldestCreatedAt: next.createdAt }]);
    expect(await store.dueLanes(now, 10)).toEqual([lane(next)]);
  });
});
