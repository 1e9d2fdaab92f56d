import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { Redis as IORedis, type Redis } from "ioredis";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { newBitmap, setBit } from "../../src/bulk/bitmap.js";
import { RedisJobStore } from "../../src/bulk/redis-store.js";
import { SharedBulkEngine, type SharedBulkEngineOptions } from "../../src/bulk/shared-engine.js";
import { PackedUserIds } from "../../src/bulk/user-ids.js";
import type { Vendor } from "../../src/domain/vendor.js";
import { connectRedis, whenReady } from "../../src/redis/connection.js";
import { startVendors, type VendorRuntime } from "../../src/runtime.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";

/**
 * Shared mode's bulk engine on a real Redis: two engines on separate connections stand for two
 * replicas (one of them running a BullMQ worker); what one submits, the other follows and cancels,
 * and every user is counted once even when a chunk runs again.
 */
const KEY_PREFIX = "test";
let redis: TestRedis | undefined;
let runtime: VendorRuntime;
const connections: Redis[] = [];
const engines: SharedBulkEngine[] = [];
const users = (n: number, from = 1) => Array.from({ length: n }, (_, i) => String(from + i));

async function replica(
  vendors: readonly Vendor[],
  worker: boolean,
  extra: Partial<Pick<SharedBulkEngineOptions, "enqueueWaitMs" | "unqueuedAfterMs" | "sweepIntervalMs">> & { bullmqUrl?: string } = {},
): Promise<{ engine: SharedBulkEngine; store: RedisJobStore }> {
  const settings = { url: redis!.url, keyPrefix: KEY_PREFIX };
  const [commands, subscriber, bullmq] = (["commands", "subscriber", "bullmq"] as const).map((role) =>
    role === "bullmq" && extra.bullmqUrl
      ? // A server that never answers: ioredis would keep each half-closed socket for its 2 s disconnect timeout.
        new IORedis(extra.bullmqUrl, { maxRetriesPerRequest: null, disconnectTimeout: 10 })
      : connectRedis(settings, role, `test-${role}`),
  );
  connections.push(commands!, subscriber!, bullmq!);
  await whenReady(commands!, 5_000);
  const store = new RedisJobStore(commands!, { keyPrefix: KEY_PREFIX, maxFailuresKept: 5, retentionSeconds: 3_600 });
  const engine = new SharedBulkEngine({
    store,
    commands: commands!,
    subscriber: subscriber!,
    bullmq: bullmq!,
    keyPrefix: KEY_PREFIX,
    vendors,
    fanOutChunkSize: 50,
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
    worker: worker ? { concurrency: 4, lockDurationMs: 2_000, stalledIntervalMs: 1_000 } : false,
    ...(extra.enqueueWaitMs === undefined ? {} : { enqueueWaitMs: extra.enqueueWaitMs }),
    ...(extra.unqueuedAfterMs === undefined ? {} : { unqueuedAfterMs: extra.unqueuedAfterMs }),
    ...(extra.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: extra.sweepIntervalMs }),
  });
  engines.push(engine);
  return { engine, store };
}

async function finished(engine: SharedBulkEngine, id: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await engine.get(id);
    if (job && !["QUEUED", "RUNNING"].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} unfinished: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  redis = await startTestRedis();
  runtime = await startVendors(
    [carnival],
    {},
    { sandbox: "force", sandboxHost: "127.0.0.1", sandboxUserIds: users(400), sandboxRateLimits: { carnival: 100_000 } },
  );
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  for (const connection of connections.splice(0)) connection.disconnect();
  await redis!.client.flushall();
  (runtime.sandboxes.get("carnival") as CarnivalSandbox).clearJournal();
});
afterAll(async () => {
  await runtime.close();
  await stopTestRedis(redis);
});

describe("shared bulk jobs", () => {
  it("runs a job submitted on one replica on another's worker, with exact counts, readable everywhere", async () => {
    const a = await replica(runtime.vendors, false);
    const b = await replica(runtime.vendors, true);
    const submitted = await a.engine.submit({
      userIds: [...users(300), "ghost-1", "1"],
      change: { attribute: "tier", value: { kind: "int", value: 3 } },
    });
    expect(submitted.kind).toBe("accepted");
    const id = submitted.kind === "accepted" ? submitted.job.id : "";
    const job = await finished(a.engine, id);
    expect(job).toMatchObject({ status: "PARTIALLY_FAILED", duplicateUserIds: 1 });
    expect(job.progress[0]).toMatchObject({ total: 301, succeeded: 300, failed: 1, cancelled: 0, failedByCategory: { USER_NOT_FOUND: 1 } });
    expect((await b.engine.get(id))!.status).toBe("PARTIALLY_FAILED");
    const sandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
    expect(sandbox.journal().filter((entry) => entry.method === "PUT")).toHaveLength(301);
  });

  /**
   * Submits `userCount` users on a replica without a worker, cancels them there once the workers have sent
   * something (Carnival slowed, so every chunk is still in flight), and checks what any cancel must leave:
   * the job CANCELLED, every user counted once, some cancelled, and every user the vendor received counted
   * by its outcome, never as cancelled. Returns the job as `workers[0]` reads it.
   */
  async function cancelInFlight(userCount: number, workers: Array<{ engine: SharedBulkEngine }>, a: { engine: SharedBulkEngine }) {
    const sandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
    sandbox.setResponseDelay(50);
    try {
      const submitted = await a.engine.submit({
        userIds: users(userCount),
        change: { attribute: "tier", value: { kind: "int", value: 4 } },
      });
      const id = submitted.kind === "accepted" ? submitted.job.id : "";
      for (let i = 0; i < 400 && sandbox.requestCount() < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      await a.engine.cancel(id);
      const job = await finished(workers[0]!.engine, id);
      const [progress] = job.progress;
      expect(job).toMatchObject({ status: "CANCELLED", cancelRequested: true, cancelReason: "CANCEL_REQUESTED" });
      expect(progress!.succeeded + progress!.failed + progress!.cancelled).toBe(userCount);
      expect(progress!.cancelled).toBeGreaterThan(0);
      for (const worker of workers) expect((await worker.engine.get(id))!.status).toBe("CANCELLED");
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(sandbox.journal().filter((entry) => entry.method === "PUT")).toHaveLength(progress!.succeeded + progress!.failed);
      return job;
    } finally {
      sandbox.setResponseDelay(0);
    }
  }

  it("cancels from another replica: every worker stops its chunks in flight, users never sent count as cancelled, counts add up", async () => {
    const a = await replica(runtime.vendors, false);
    // Two workers of 4 chunks each take all 8 chunks of 50 users at once: every user is in a chunk in flight, so only
    // the cancel's message to each worker can stop them (Carnival's 100/s budget would need 4 s to send them all).
    // How soon it lands is not asserted here, where workers and sandbox share a loaded event loop.
    const workers = [await replica(runtime.vendors, true), await replica(runtime.vendors, true)];
    await cancelInFlight(400, workers, a);
  });

  it("stops a worker's chunks in flight when it missed the cancel message (pub/sub drops it for a subscriber not subscribed)", async () => {
    const a = await replica(runtime.vendors, false);
    const b = await replica(runtime.vendors, true);
    // b's subscriber as a worker just started (not subscribed yet) or reconnecting finds it: the message never comes.
    // All 4 chunks are in flight on b (Carnival's 100/s would need 2 s for them): only its reading of the flag stops them.
    await connections.at(-2)!.unsubscribe();
    await cancelInFlight(200, [b], a);
  });

  it("counts each user once when a chunk runs again after its worker died, and resends only where that is safe", async () => {
    const a = await replica(runtime.vendors, false);
    const submitted = await a.engine.submit({ userIds: users(120), change: { attribute: "tier", value: { kind: "int", value: 5 } } });
    const id = submitted.kind === "accepted" ? submitted.job.id : "";
    // A worker that took chunk 0, settled its first ten users, and died before the rest.
    expect(await a.store.claim(id, "carnival", 0)).toMatchObject({ kind: "run", rerun: false });
    await a.store.record(
      id,
      "carnival",
      users(10).map((_, i) => ({ index: i, kind: "succeeded" as const })),
    );
    // Carnival's SET is repeat-safe: the chunk runs again and sends the 40 users left, counting the first ten once.
    const b = await replica(runtime.vendors, true);
    const job = await finished(b.engine, id);
    expect(job.progress[0]).toMatchObject({ total: 120, succeeded: 120, failed: 0, cancelled: 0 });
    const sandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
    expect(sandbox.journal().filter((entry) => entry.method === "PUT")).toHaveLength(110);
  });

  it("ends users of a dead worker's chunk as AttributesDeliveryOutcomeUnknownError where a repeat is not safe, sending nothing again", async () => {
    const unsafe = runtime.vendors.map((v): Vendor => ({
      ...v,
      adapter: { ...v.adapter!, update: (command, context) => v.adapter!.update(command, context), isRepeatSafe: () => false },
    }));
    const a = await replica(unsafe, false);
    const submitted = await a.engine.submit({ userIds: users(60), change: { attribute: "tier", value: { kind: "int", value: 6 } } });
    const id = submitted.kind === "accepted" ? submitted.job.id : "";
    await a.store.claim(id, "carnival", 0);
    const b = await replica(unsafe, true);
    const job = await finished(b.engine, id);
    expect(job.progress[0]).toMatchObject({ total: 60, succeeded: 10, failed: 50, failedByCategory: { OUTCOME_UNKNOWN: 50 } });
    const sandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
    expect(sandbox.journal().filter((entry) => entry.method === "PUT")).toHaveLength(10);
  });

  it("keeps the first failures only, counts every one, and expires a finished job after the retention, its bookkeeping at once", async () => {
    const b = await replica(runtime.vendors, true);
    const ghosts = Array.from({ length: 20 }, (_, i) => `ghost-${i}`);
    const submitted = await b.engine.submit({
      userIds: [...users(30), ...ghosts],
      change: { attribute: "tier", value: { kind: "int", value: 8 } },
    });
    const id = submitted.kind === "accepted" ? submitted.job.id : "";
    const job = await finished(b.engine, id);
    expect(job.progress[0]).toMatchObject({
      total: 50,
      succeeded: 30,
      failed: 20,
      failuresKept: 5,
      failedByCategory: { USER_NOT_FOUND: 20 },
    });
    const keys = await redis!.client.keys(`${KEY_PREFIX}:bulk:{${id}}:*`);
    // Kept with the job, for a retry of its failures: the ids, and who failed (by error code).
    expect(keys.map((key) => key.slice(key.indexOf("}:") + 2)).sort()).toEqual([
      "ends",
      "f:carnival",
      "fb:carnival:USER_NOT_FOUND",
      "ids",
      "job",
      "v:carnival",
    ]);
    for (const key of keys) {
      const ttl = await redis!.client.ttl(key);
      expect(ttl).toBeGreaterThan(3_500);
      expect(ttl).toBeLessThanOrEqual(3_600);
    }
  });

  it("cancels a retry's chunks counting only the vendor's selected users: never taken, released, and in flight", async () => {
    const { store } = await replica(runtime.vendors, false);
    // 120 users in chunks of 50; the vendor's selection is every third one (40 users).
    const ids = users(120);
    const selection = newBitmap(120);
    for (let i = 0; i < 120; i += 3) setBit(selection, i);
    const job = await store.create(
      {
        spec: { attribute: "tier", value: { kind: "int", value: 9 }, vendors: ["carnival"] },
        userIds: PackedUserIds.from(ids, ids.length),
        duplicateUserIds: 0,
        selections: new Map([["carnival", selection]]),
      },
      { carnival: 50 },
    );
    expect(job).toMatchObject({ users: 120, progress: [{ total: 40 }] });
    // Chunk 0: a worker settled users 0 and 3, then stopped and released it. Chunk 1: in flight. Chunk 2: never taken.
    await store.claim(job.id, "carnival", 0);
    await store.record(job.id, "carnival", [
      { index: 0, kind: "succeeded" },
      { index: 3, kind: "succeeded" },
    ]);
    await store.release(job.id, "carnival", 0);
    await store.claim(job.id, "carnival", 1);
    expect(await store.selected(job.id, "carnival", 48, 6)).toEqual([true, false, false, true, false, false]);

    expect(await store.requestCancel(job.id, "CANCEL_REQUESTED")).toEqual({ known: true });
    // Chunk 0's 15 unsettled selected users and chunk 2's 6; chunk 1's 17 are its worker's.
    expect((await store.get(job.id))!.progress[0]).toMatchObject({ total: 40, succeeded: 2, cancelled: 21 });
    const inFlight = Array.from({ length: 17 }, (_, i) => ({ index: 51 + i * 3, kind: "succeeded" as const }));
    expect(await store.record(job.id, "carnival", inFlight)).toEqual({ counted: 17, finished: "CANCELLED" });
    expect((await store.get(job.id))!.progress[0]).toMatchObject({ total: 40, succeeded: 19, failed: 0, cancelled: 21 });
  });

  it("queues a job its submitter stored but never queued (it died in between): a worker's sweep runs it, counting each user once", async () => {
    const a = await replica(runtime.vendors, false);
    // The state a submitter leaves when it dies after storing the job: no chunk on the queue.
    const job = await a.store.create(
      {
        spec: { attribute: "tier", value: { kind: "int", value: 4 }, vendors: ["carnival"] },
        userIds: PackedUserIds.from(users(120), 120),
        duplicateUserIds: 0,
      },
      { carnival: 50 },
    );
    const b = await replica(runtime.vendors, true, { unqueuedAfterMs: 200, sweepIntervalMs: 100 });
    const done = await finished(b.engine, job.id);
    expect(done).toMatchObject({ status: "SUCCEEDED", progress: [{ total: 120, succeeded: 120, failed: 0 }] });
    const sandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
    expect(sandbox.journal().filter((entry) => entry.method === "PUT")).toHaveLength(120);
    expect(await a.store.unqueued(Date.now(), 10)).toEqual([]);
  });

  it("answers a submit in bounded time when the queue cannot be reached, and the stored job runs once a worker sweeps it", async () => {
    // BullMQ's connection waits for Redis indefinitely; here it reaches a server that never answers, while the job store can.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    const a = await replica(runtime.vendors, false, { bullmqUrl: `redis://127.0.0.1:${silentPort}`, enqueueWaitMs: 300 });
    const started = Date.now();
    const submitted = await a.engine.submit({ userIds: users(60), change: { attribute: "tier", value: { kind: "int", value: 5 } } });
    expect(Date.now() - started).toBeLessThan(10_000); // bounded: the wait is 300 ms, not "until Redis is back"
    expect(submitted).toMatchObject({ kind: "accepted", job: { status: "QUEUED" } });
    const id = submitted.kind === "accepted" ? submitted.job.id : "";
    expect(await a.store.unqueued(Date.now(), 10)).toEqual([id]);
    connections.find((connection) => connection.options.port === silentPort)!.disconnect();
    for (const socket of sockets) socket.destroy();
    silent.close();
    const b = await replica(runtime.vendors, true, { unqueuedAfterMs: 200, sweepIntervalMs: 100 });
    expect(await finished(b.engine, id)).toMatchObject({ status: "SUCCEEDED", progress: [{ total: 60, succeeded: 60 }] });
    const sandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
    expect(sandbox.journal().filter((entry) => entry.method === "PUT")).toHaveLength(60);
  });

  it("survives every process stopping: a job submitted with no worker anywhere runs when a worker starts", async () => {
    const a = await replica(runtime.vendors, false);
    const submitted = await a.engine.submit({ userIds: users(80), change: { attribute: "tier", value: { kind: "int", value: 7 } } });
    const id = submitted.kind === "accepted" ? submitted.job.id : "";
    await a.engine.stop();
    expect((await a.store.get(id))!.status).toBe("QUEUED");
    const b = await replica(runtime.vendors, true);
    expect((await finished(b.engine, id)).status).toBe("SUCCEEDED");
    // No failure: nothing to retry, so the ids go at once with the bookkeeping.
    const keys = await redis!.client.keys(`${KEY_PREFIX}:bulk:{${id}}:*`);
    expect(keys.map((key) => key.slice(key.indexOf("}:") + 2)).sort()).toEqual(["job", "v:carnival"]);
  });
});
