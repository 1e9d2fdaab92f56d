import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { DeliveryEngine, QUEUE_FULL } from "../../src/delivery/engine.js";
import { TimerLaneScheduler } from "../../src/delivery/scheduler.js";
import { InMemoryDeliveryStore, type DeliveryStore } from "../../src/delivery/store.js";
import type { DeliveryMode, DeliveryRecord, DeliverySettings, Lane } from "../../src/delivery/types.js";
import type { UpdateCommand } from "../../src/domain/command.js";
import type { DeliveryOutcome } from "../../src/domain/results.js";
import type { Vendor } from "../../src/domain/vendor.js";
import { KeyedMutex } from "../../src/reliability/keyed-lock.js";
import { startVendors, type VendorRuntime } from "../../src/runtime.js";
import type { SandboxRequest } from "../../src/sandbox/kit.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { leanplum } from "../../src/vendors/leanplum/index.js";
import type { LeanplumSandbox } from "../../src/vendors/leanplum/sandbox.js";
import { asQueued, bodyText, callContext, incrementCommand, setCommand, setPlan, settled, sleep, waitFor } from "./helpers.js";

/**
 * The delivery engine in process (the embedded mode's InMemoryDeliveryStore, TimerLaneScheduler
 * and KeyedMutex), against the Carnival and Leanplum sandboxes over real HTTP. No HTTP retries
 * (each attempt is one request) and a circuit breaker that never opens, so that the sandboxes'
 * journals count the engine's attempts exactly.
 */
const SETTINGS: Partial<DeliverySettings> = { windowMs: 5_000, baseDelayMs: 50, maxDelayMs: 200, maxAttempts: 100 };

let runtime: VendorRuntime;
let carnivalVendor: Vendor;
let leanplumVendor: Vendor;
let carnivalSandbox: CarnivalSandbox;
let leanplumSandbox: LeanplumSandbox;
const engines: DeliveryEngine[] = [];
const errors: unknown[] = [];
const settledRecords: DeliveryRecord[] = [];
const attemptOutcomes: DeliveryOutcome[] = [];

function engine(settings: Partial<DeliverySettings> = {}, store: DeliveryStore = new InMemoryDeliveryStore()): DeliveryEngine {
  const created = new DeliveryEngine({
    store,
    scheduler: new TimerLaneScheduler(4, (error) => errors.push(error)),
    lock: new KeyedMutex(),
    vendors: runtime.vendors,
    settings: { ...SETTINGS, ...settings },
    worker: true,
    onError: (error) => errors.push(error),
    onSettled: (record) => settledRecords.push(record),
    onAttempt: (outcome) => attemptOutcomes.push(outcome),
  });
  engines.push(created);
  return created;
}

async function deliver(
  target: DeliveryEngine,
  command: UpdateCommand,
  mode: DeliveryMode,
  options: { vendors?: readonly Vendor[]; sandboxFault?: string } = {},
) {
  return target.deliver({
    command,
    targets: options.vendors ?? [carnivalVendor],
    mode,
    owner: "tester",
    context: callContext(options.sandboxFault === undefined ? {} : { sandboxFault: options.sandboxFault }),
  });
}

const plan = (userId: string) => carnivalSandbox.devices(userId)?.[0]?.plan?.value;
const carnivalWrites = (userId: string) => carnivalSandbox.journal().filter((e) => e.method === "PUT" && e.path === `/v6/users/${userId}`);
const carnivalUser = (userId: string) => (r: SandboxRequest) => r.method === "PUT" && r.path === `/v6/users/${userId}`;
const leanplumCalls = (userId: string) =>
  leanplumSandbox.journal().filter((e) => (e.body as { userId?: string } | undefined)?.userId === userId);
const leanplumUser = (userId: string) => (r: SandboxRequest) => (r.json as { userId?: string } | undefined)?.userId === userId;
const outage = { kind: "status", status: 503 } as const;

beforeAll(async () => {
  runtime = await startVendors(
    [carnival, leanplum],
    {},
    {
      sandbox: "force",
      sandboxHost: "127.0.0.1",
      sandboxUserIds: Array.from({ length: 40 }, (_, i) => String(i + 1)),
      circuit: { failureThreshold: 1_000_000, cooldownMs: 1_000 },
    },
  );
  carnivalVendor = runtime.vendors.find((v) => v.id === "carnival")!;
  leanplumVendor = runtime.vendors.find((v) => v.id === "leanplum")!;
  carnivalSandbox = runtime.sandboxes.get("carnival") as CarnivalSandbox;
  leanplumSandbox = runtime.sandboxes.get("leanplum") as LeanplumSandbox;
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
  for (const sandbox of [carnivalSandbox, leanplumSandbox]) {
    sandbox.clearFaults();
    sandbox.clearJournal();
  }
  settledRecords.length = 0;
  attemptOutcomes.length = 0;
  expect(errors.splice(0)).toEqual([]);
});
afterAll(async () => {
  await runtime?.close();
});

describe("GUARANTEED delivery", () => {
  it("queues an update the vendor refuses while it is down, then delivers it exactly once after the outage", async () => {
    const e = engine();
    const before = Date.now();
    // The first request starts a one-second outage: it and every request during it answer 503.
    const [answer] = await deliver(e, setPlan("1", "gold"), "GUARANTEED", { sandboxFault: "down;seconds=1" });
    const queued = asQueued(answer);
    expect(queued).toMatchObject({
      queued: true,
      vendor: "carnival",
      reason: "RETRYABLE_FAILURE",
      attempts: 1,
      durable: false,
      lastError: { category: "VENDOR_UNAVAILABLE", vendor: "carnival", httpStatus: 503, retryable: true },
    });
    expect(queued.behind).toBeUndefined();
    expect(queued.nextAttemptAt).toBeGreaterThan(before);
    expect(queued.nextAttemptAt).toBeLessThan(queued.expiresAt);

    const whileQueued = (await e.get(queued.deliveryId))!;
    expect(whileQueued).toMatchObject({
      id: queued.deliveryId,
      vendor: "carnival",
      userId: "1",
      owner: "tester",
      status: "QUEUED",
      reason: "RETRYABLE_FAILURE",
      repeatSafe: true,
      command: setPlan("1", "gold"),
    });
    expect(whileQueued.expiresAt - whileQueued.createdAt).toBe(5_000);
    expect(whileQueued.attempts[0]).toMatchObject({ result: "failed", failure: { httpStatus: 503 } });

    const done = await settled(e, queued.deliveryId);
    expect(done).toMatchObject({ status: "DELIVERED", outcome: { ok: true, vendor: "carnival", httpStatus: 202 } });
    expect(done.inFlightSince).toBeUndefined();
    expect(done.finishedAt).toBeGreaterThanOrEqual(done.createdAt);
    expect(done.attempts.at(-1)).toMatchObject({ result: "delivered" });
    expect(done.attempts.slice(0, -1).every((a) => a.result === "failed" && a.failure?.httpStatus === 503)).toBe(true);
    expect(plan("1")).toBe("gold");
    // One request per attempt, the last one the only one applied.
    const writes = carnivalWrites("1");
    expect(writes).toHaveLength(done.attempts.length);
    expect(writes.map((w) => w.status)).toEqual([...done.attempts.slice(0, -1).map(() => 503), 202]);
    expect(writes.slice(0, -1).every((w) => w.fault === "down")).toBe(true);
    // The queued attempts are observed (the first was the caller's own), and the settling once.
    expect(attemptOutcomes).toHaveLength(done.attempts.length - 1);
    expect(settledRecords.map((r) => [r.id, r.status])).toEqual([[queued.deliveryId, "DELIVERED"]]);
    expect(await e.stats()).toEqual([]);
  });

  it("waits at least the vendor's Retry-After before the next attempt", async () => {
    const e = engine();
    carnivalSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 1 }, { count: 1, match: carnivalUser("4") });
    const queued = asQueued((await deliver(e, setPlan("4", "patient"), "GUARANTEED"))[0]);
    expect(queued.lastError).toMatchObject({ category: "RATE_LIMITED", retryAfterSeconds: 1, retryable: true });
    const record = (await e.get(queued.deliveryId))!;
    expect(record.nextAttemptAt - record.attempts[0]!.startedAt).toBeGreaterThanOrEqual(1_000);

    const done = await settled(e, queued.deliveryId);
    expect(done.status).toBe("DELIVERED");
    const [first, second] = carnivalWrites("4");
    expect([first!.status, second!.status]).toEqual([429, 202]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_000);
    expect(plan("4")).toBe("patient");
  });

  it("keeps a user's updates in order: a later SYNC update queues behind the queued one, unsent; other users go on", async () => {
    const e = engine();
    carnivalSandbox.injectFault(outage, { count: 1_000_000, match: carnivalUser("2") });
    const first = asQueued((await deliver(e, setPlan("2", "a"), "GUARANTEED"))[0]);
    const sentBefore = carnivalWrites("2").length;

    const second = asQueued((await deliver(e, setPlan("2", "b"), "SYNC"))[0]);
    expect(second).toMatchObject({
      vendor: "carnival",
      reason: "BEHIND_EARLIER_DELIVERY",
      attempts: 0,
      behind: first.deliveryId,
      durable: false,
    });
    expect(second.nextAttemptAt).toBeUndefined();
    expect(second.lastError).toBeUndefined();
    expect(carnivalWrites("2").length).toBe(sentBefore);
    expect((await e.get(second.deliveryId))!.command).toEqual(setPlan("2", "b"));

    // The first is retried while the second waits, never attempted.
    await waitFor("a retry of the first delivery", async () => ((await e.get(first.deliveryId))!.attempts.length >= 3 ? true : undefined));
    expect((await e.get(second.deliveryId))!).toMatchObject({ status: "QUEUED", attempts: [] });
    expect(carnivalWrites("2").every((w) => bodyText(w).includes('"a"'))).toBe(true);

    // Another user's update, SYNC and GUARANTEED, is not held up by user 2's lane.
    expect(await deliver(e, setPlan("3", "free"), "SYNC")).toEqual([{ ok: true, vendor: "carnival", warnings: [], httpStatus: 202 }]);
    expect(plan("3")).toBe("free");
    const stats = await e.stats();
    expect(stats).toEqual([{ vendor: "carnival", depth: 2, oldestCreatedAt: (await e.get(first.deliveryId))!.createdAt }]);

    carnivalSandbox.clearFaults();
    const firstDone = await settled(e, first.deliveryId);
    const secondDone = await settled(e, second.deliveryId);
    expect([firstDone.status, secondDone.status]).toEqual(["DELIVERED", "DELIVERED"]);
    expect(secondDone.attempts).toHaveLength(1);
    expect(secondDone.attempts[0]!.startedAt).toBeGreaterThanOrEqual(firstDone.finishedAt!);
    expect(plan("2")).toBe("b");
    const applied = carnivalWrites("2").filter((w) => w.status < 300);
    expect(applied.map(bodyText)).toEqual([expect.stringContaining('"a"'), expect.stringContaining('"b"')]);
    expect(await e.stats()).toEqual([]);
  });

  it("answers each vendor for itself: one queued, the other delivered", async () => {
    const e = engine();
    carnivalSandbox.injectFault(outage, { count: 2, match: carnivalUser("5") });
    const [atCarnival, atLeanplum] = await deliver(e, setPlan("5", "both"), "GUARANTEED", { vendors: [carnivalVendor, leanplumVendor] });
    const queued = asQueued(atCarnival);
    expect(atLeanplum).toMatchObject({ ok: true, vendor: "leanplum" });
    expect(leanplumSandbox.user("5")?.attributes.plan).toBe("both");
    expect((await settled(e, queued.deliveryId)).status).toBe("DELIVERED");
    expect(plan("5")).toBe("both");
    expect(leanplumCalls("5")).toHaveLength(1);
  });

  it("expires a delivery whose retry window ends while the vendor is still down, with the last error as its outcome", async () => {
    const e = engine({ windowMs: 1_000 });
    carnivalSandbox.goDown(60);
    const queued = asQueued((await deliver(e, setPlan("6", "late"), "GUARANTEED"))[0]);
    const done = await settled(e, queued.deliveryId);
    expect(done.status).toBe("EXPIRED");
    expect(done.note).toMatch(/retry window/);
    expect(done.attempts.every((a) => a.result === "failed")).toBe(true);
    expect(done.outcome).toEqual({ ok: false, vendor: "carnival", failure: done.attempts.at(-1)!.failure });
    expect(done.outcome).toMatchObject({ failure: { category: "VENDOR_UNAVAILABLE", httpStatus: 503 } });
    // Never attempted after the window: the last attempt started before it ended, and the lane is empty.
    expect(done.attempts.at(-1)!.startedAt).toBeLessThan(done.expiresAt);
    expect(carnivalWrites("6")).toHaveLength(done.attempts.length);
    expect(await e.stats()).toEqual([]);
    expect(plan("6")).toBeUndefined();
    expect(settledRecords.map((r) => r.status)).toEqual(["EXPIRED"]);
  });

  it("expires a delivery after DELIVERY_MAX_ATTEMPTS attempts", async () => {
    const e = engine({ maxAttempts: 3, windowMs: 60_000 });
    carnivalSandbox.goDown(60);
    const queued = asQueued((await deliver(e, setPlan("7", "tired"), "GUARANTEED"))[0]);
    const done = await settled(e, queued.deliveryId);
    expect(done).toMatchObject({ status: "EXPIRED", note: "3 attempts made (DELIVERY_MAX_ATTEMPTS)" });
    expect(done.attempts).toHaveLength(3);
    expect(done.outcome).toMatchObject({ ok: false, failure: { httpStatus: 503, retryable: true } });
    expect(carnivalWrites("7")).toHaveLength(3);
  });

  it("answers the failure itself when the settings leave no room for a retry (one attempt at most)", async () => {
    const e = engine({ maxAttempts: 1 });
    carnivalSandbox.injectFault(outage, { count: 1, match: carnivalUser("8") });
    const [answer] = await deliver(e, setPlan("8", "once"), "GUARANTEED");
    expect(answer).toMatchObject({ ok: false, failure: { category: "VENDOR_UNAVAILABLE", httpStatus: 503, retryable: true } });
    expect(await e.stats()).toEqual([]);
    expect(carnivalWrites("8")).toHaveLength(1);
  });

  it.each(["500-after-apply", "cut-off-after-apply", "reset-after-apply"])(
    "ends an INCREMENT whose answer was lost after it applied (%s) as OUTCOME_UNKNOWN: applied once, never queued or resent",
    async (fault) => {
      const e = engine();
      const userId = `inc-${randomUUID()}`;
      leanplumSandbox.seedUser(userId, { logins: 10 });
      const [answer] = await deliver(e, incrementCommand(userId, "logins", 1), "GUARANTEED", {
        vendors: [leanplumVendor],
        sandboxFault: fault,
      });
      expect(answer).toMatchObject({
        ok: false,
        vendor: "leanplum",
        failure: { category: "OUTCOME_UNKNOWN", retryable: false, related: [{ category: "VENDOR_UNAVAILABLE", retryable: false }] },
      });
      expect(await e.stats()).toEqual([]);
      expect(leanplumSandbox.user(userId)?.attributes.logins).toBe(11);
      expect(leanplumCalls(userId)).toHaveLength(1);
      expect(leanplumCalls(userId)[0]!.fault).toBe(fault === "500-after-apply" ? "status-after-apply" : fault);
    },
  );

  it("queues a repeat-safe SET after the same ambiguous fault, and delivers it", async () => {
    const e = engine();
    const userId = `set-${randomUUID()}`;
    leanplumSandbox.seedUser(userId);
    const queued = asQueued(
      (
        await deliver(e, setCommand(userId, "plan", "sure"), "GUARANTEED", { vendors: [leanplumVendor], sandboxFault: "500-after-apply" })
      )[0],
    );
    expect(queued.lastError).toMatchObject({ category: "VENDOR_UNAVAILABLE", httpStatus: 500, retryable: true });
    expect((await settled(e, queued.deliveryId)).status).toBe("DELIVERED");
    expect(leanplumSandbox.user(userId)?.attributes.plan).toBe("sure");
    expect(leanplumCalls(userId)).toHaveLength(2);
  });

  it("queues an INCREMENT the vendor certainly did not apply (429), and applies it exactly once", async () => {
    const e = engine();
    const userId = `inc-${randomUUID()}`;
    leanplumSandbox.seedUser(userId, { logins: 10 });
    leanplumSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { count: 2, match: leanplumUser(userId) });
    const queued = asQueued((await deliver(e, incrementCommand(userId, "logins", 5), "GUARANTEED", { vendors: [leanplumVendor] }))[0]);
    expect(queued.lastError).toMatchObject({ category: "RATE_LIMITED", retryable: true });
    expect((await e.get(queued.deliveryId))!.repeatSafe).toBe(false);
    const done = await settled(e, queued.deliveryId);
    expect(done.status).toBe("DELIVERED");
    expect(done.attempts.map((a) => a.result)).toEqual(["failed", "failed", "delivered"]);
    expect(leanplumSandbox.user(userId)?.attributes.logins).toBe(15);
    expect(leanplumCalls(userId).map((c) => c.status)).toEqual([429, 429, 200]);
  });

  it("ends a queued INCREMENT as OUTCOME_UNKNOWN when a retry's answer is lost after it applied, never resending it", async () => {
    const e = engine();
    const userId = `inc-${randomUUID()}`;
    leanplumSandbox.seedUser(userId, { logins: 10 });
    leanplumSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { count: 1, match: leanplumUser(userId) });
    leanplumSandbox.injectFault({ kind: "status-after-apply", status: 500 }, { count: 1, match: leanplumUser(userId) });
    const queued = asQueued((await deliver(e, incrementCommand(userId, "logins", 1), "GUARANTEED", { vendors: [leanplumVendor] }))[0]);
    const done = await settled(e, queued.deliveryId);
    expect(done).toMatchObject({
      status: "FAILED",
      outcome: { ok: false, failure: { category: "OUTCOME_UNKNOWN", retryable: false, related: [{ httpStatus: 500 }] } },
    });
    expect(done.attempts.map((a) => a.result)).toEqual(["failed", "failed"]);
    expect(leanplumSandbox.user(userId)?.attributes.logins).toBe(11);
    expect(leanplumCalls(userId)).toHaveLength(2);
    expect(await e.stats()).toEqual([]);
  });

  it("answers a failure no retry can fix directly, queueing nothing", async () => {
    const e = engine();
    const [missing] = await deliver(e, setPlan("ghost-1", "x"), "GUARANTEED");
    expect(missing).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND", httpStatus: 404, retryable: false } });
    expect(carnivalWrites("ghost-1")).toHaveLength(1);
    // Refused before sending (Carnival has no INCREMENT): nothing sent, no lane.
    const [unsupported] = await deliver(e, incrementCommand("9", "logins", 1), "GUARANTEED");
    expect(unsupported).toMatchObject({ ok: false, failure: { category: "UNSUPPORTED_OPERATION", retryable: false } });
    expect(carnivalWrites("9")).toHaveLength(0);
    expect(await e.stats()).toEqual([]);
    expect(settledRecords).toEqual([]);
  });

  it("fails a queued delivery whose retry meets a failure no retry can fix", async () => {
    const e = engine();
    carnivalSandbox.injectFault(outage, { count: 1, match: carnivalUser("10") });
    carnivalSandbox.injectFault({ kind: "status", status: 400 }, { count: 1, match: carnivalUser("10") });
    const queued = asQueued((await deliver(e, setPlan("10", "refused"), "GUARANTEED"))[0]);
    const done = await settled(e, queued.deliveryId);
    expect(done).toMatchObject({
      status: "FAILED",
      outcome: { ok: false, failure: { category: "VALUE_REJECTED", httpStatus: 400, retryable: false } },
    });
    expect(done.attempts).toHaveLength(2);
    expect(carnivalWrites("10").map((w) => w.status)).toEqual([503, 400]);
    expect(plan("10")).toBeUndefined();
  });
});

describe("cancel", () => {
  it("cancels a queued delivery: never attempted again, and the delivery behind it goes", async () => {
    const e = engine();
    carnivalSandbox.injectFault(outage, { count: 1_000_000, match: carnivalUser("11") });
    const first = asQueued((await deliver(e, setPlan("11", "never"), "GUARANTEED"))[0]);
    const second = asQueued((await deliver(e, setPlan("11", "after-cancel"), "SYNC"))[0]);
    expect(second.behind).toBe(first.deliveryId);

    const cancelled = (await e.cancel(first.deliveryId))!;
    expect(cancelled).toMatchObject({ id: first.deliveryId, status: "CANCELLED", note: "cancelled" });
    expect(cancelled.finishedAt).toBeGreaterThanOrEqual(cancelled.createdAt);
    expect(await e.get(first.deliveryId)).toEqual(cancelled);
    const sentForFirst = carnivalWrites("11").length;
    expect(sentForFirst).toBe(cancelled.attempts.length);

    carnivalSandbox.clearFaults();
    const done = await settled(e, second.deliveryId);
    expect(done.status).toBe("DELIVERED");
    expect(plan("11")).toBe("after-cancel");
    // After the cancel, the only request is the second delivery's.
    expect(carnivalWrites("11").slice(sentForFirst).map(bodyText)).toEqual([expect.stringContaining("after-cancel")]);
    expect(carnivalWrites("11").some((w) => w.status < 300 && bodyText(w).includes("never"))).toBe(false);
    expect(await e.get(first.deliveryId)).toEqual(cancelled);

    // A settled delivery is answered unchanged; an unknown one is not found.
    expect(await e.cancel(first.deliveryId)).toEqual(cancelled);
    expect(await e.cancel(second.deliveryId)).toEqual(done);
    expect(await e.cancel(randomUUID())).toBeUndefined();
    expect(settledRecords.map((r) => r.status)).toEqual(["CANCELLED", "DELIVERED"]);
  });
});

describe("cancel, during an attempt", () => {
  it("waits for an attempt in flight: the delivery it delivered stays DELIVERED", async () => {
    const e = engine();
    carnivalSandbox.injectFault(outage, { count: 1, match: carnivalUser("19") });
    const queued = asQueued((await deliver(e, setPlan("19", "landed"), "GUARANTEED"))[0]);
    carnivalSandbox.setResponseDelay(400);
    try {
      await waitFor("the retry to be in flight", async () =>
        (await e.get(queued.deliveryId))!.inFlightSince !== undefined ? true : undefined,
      );
      const answer = (await e.cancel(queued.deliveryId))!;
      expect(answer).toMatchObject({ status: "DELIVERED", outcome: { ok: true } });
      expect(answer.note).toBeUndefined();
      expect(await e.get(queued.deliveryId)).toEqual(answer);
      expect(plan("19")).toBe("landed");
    } finally {
      carnivalSandbox.setResponseDelay(0);
    }
  });

  it("cancels a delivery whose attempt a dead process left in flight, saying that attempt's outcome is unknown", async () => {
    const store = new InMemoryDeliveryStore();
    const now = Date.now();
    const lost: DeliveryRecord = {
      id: randomUUID(),
      vendor: "carnival",
      userId: "20",
      command: setPlan("20", "maybe"),
      repeatSafe: true,
      status: "QUEUED",
      reason: "RETRYABLE_FAILURE",
      createdAt: now - 1_000,
      expiresAt: now + 600_000,
      // Not due for a minute: no worker takes it meanwhile.
      nextAttemptAt: now + 60_000,
      attempts: [],
      inFlightSince: now - 500,
    };
    await store.append(lost, 10);
    const e = engine({}, store);
    const cancelled = (await e.cancel(lost.id))!;
    expect(cancelled).toMatchObject({ status: "CANCELLED", note: expect.stringMatching(/whether that attempt applied is unknown/) });
    expect(cancelled.inFlightSince).toBeUndefined();
    expect(cancelled.attempts).toEqual([{ startedAt: lost.inFlightSince, durationMs: expect.any(Number), result: "lost" }]);
    expect(await store.depth({ vendor: "carnival", userId: "20" })).toBe(0);
    expect(carnivalWrites("20")).toHaveLength(0);
  });
});

describe("cancel, with a long wait ahead", () => {
  it("lets the delivery behind a cancelled one go at once, not when the cancelled one's retry was due", async () => {
    const e = engine({ windowMs: 120_000 });
    const userId = `cancel-${randomUUID()}`;
    leanplumSandbox.seedUser(userId);
    // Leanplum asks for 60 s: the first delivery's next attempt is a minute away.
    leanplumSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 60 }, { count: 1, match: leanplumUser(userId) });
    const first = asQueued((await deliver(e, setCommand(userId, "plan", "first"), "GUARANTEED", { vendors: [leanplumVendor] }))[0]);
    expect(first.nextAttemptAt! - Date.now()).toBeGreaterThan(50_000);
    const second = asQueued((await deliver(e, setCommand(userId, "plan", "second"), "SYNC", { vendors: [leanplumVendor] }))[0]);
    expect((await e.cancel(first.deliveryId))!.status).toBe("CANCELLED");
    expect((await settled(e, second.deliveryId, 15_000)).status).toBe("DELIVERED");
    expect(leanplumSandbox.user(userId)?.attributes.plan).toBe("second");
    expect(leanplumCalls(userId).map((c) => c.status)).toEqual([429, 200]);
  });
});

describe("SYNC", () => {
  it("sends an update at once when its lane is empty: one request, the vendor's answer, nothing queued", async () => {
    const e = engine();
    expect(await deliver(e, setPlan("12", "now"), "SYNC")).toEqual([{ ok: true, vendor: "carnival", warnings: [], httpStatus: 202 }]);
    expect(carnivalWrites("12")).toHaveLength(1);
    expect(plan("12")).toBe("now");

    carnivalSandbox.injectFault(outage, { count: 1, match: carnivalUser("12") });
    const [failure] = await deliver(e, setPlan("12", "not-now"), "SYNC");
    expect(failure).toMatchObject({ ok: false, failure: { category: "VENDOR_UNAVAILABLE", httpStatus: 503, retryable: true } });
    expect(carnivalWrites("12")).toHaveLength(2);
    expect(plan("12")).toBe("now");
    expect(await e.stats()).toEqual([]);
    expect(settledRecords).toEqual([]);
  });
});

describe("queue limits", () => {
  it("refuses to queue beyond DELIVERY_MAX_QUEUED, sending nothing that would overtake a queued update", async () => {
    const e = engine({ maxQueued: 1 });
    carnivalSandbox.injectFault(outage, { count: 1_000_000, match: carnivalUser("13") });
    const first = asQueued((await deliver(e, setPlan("13", "queued"), "GUARANTEED"))[0]);
    const sent = carnivalWrites("13").length;

    // Behind the queued one, with no room: refused, nothing sent.
    const [behind] = await deliver(e, setPlan("13", "no-room"), "SYNC");
    expect(behind).toMatchObject({
      ok: false,
      vendor: "carnival",
      failure: { category: "VENDOR_UNAVAILABLE", vendorCode: QUEUE_FULL, retryable: true, retryAfterSeconds: 60 },
    });
    expect(carnivalWrites("13").length).toBe(sent);

    // Another user's GUARANTEED update is sent, and its failure answered: there is no room to queue it.
    carnivalSandbox.injectFault(outage, { count: 1, match: carnivalUser("14") });
    const [other] = await deliver(e, setPlan("14", "no-room-either"), "GUARANTEED");
    expect(other).toMatchObject({ ok: false, failure: { category: "VENDOR_UNAVAILABLE", httpStatus: 503, retryable: true } });
    expect((other as { failure: { message: string } }).failure.message).toMatch(
      /not queued for retries: the delivery queue holds DELIVERY_MAX_QUEUED \(1\)/,
    );
    expect(carnivalWrites("14")).toHaveLength(1);
    expect(await e.stats()).toEqual([{ vendor: "carnival", depth: 1, oldestCreatedAt: expect.any(Number) }]);

    carnivalSandbox.clearFaults();
    expect((await settled(e, first.deliveryId)).status).toBe("DELIVERED");
    expect(plan("13")).toBe("queued");
  });
});

describe("a process that stops", () => {
  it("keeps queued deliveries queued when stopped: nothing is attempted after stop", async () => {
    const store = new InMemoryDeliveryStore();
    const e = engine({}, store);
    carnivalSandbox.injectFault(outage, { count: 1_000_000, match: carnivalUser("15") });
    const queued = asQueued((await deliver(e, setPlan("15", "later"), "GUARANTEED"))[0]);
    await waitFor("a retry", async () => ((await e.get(queued.deliveryId))!.attempts.length >= 2 ? true : undefined));
    await e.stop(1_000);
    const atStop = (await e.get(queued.deliveryId))!;
    const sentAtStop = carnivalWrites("15").length;
    expect(atStop.status).toBe("QUEUED");
    expect(atStop.inFlightSince).toBeUndefined();
    carnivalSandbox.clearFaults();
    await sleep(600); // three times the longest retry delay
    expect(await e.get(queued.deliveryId)).toEqual(atStop);
    expect(carnivalWrites("15")).toHaveLength(sentAtStop);

    // The next process on the same queue (a stand-in for a durable one) finds it overdue at start and delivers it.
    await store.update({ ...atStop, nextAttemptAt: Date.now() - 60_000 });
    const after = engine({}, store);
    expect((await settled(after, queued.deliveryId)).status).toBe("DELIVERED");
    expect(plan("15")).toBe("later");
    expect(carnivalWrites("15").filter((w) => w.status < 300)).toHaveLength(1);
  });

  /** A record a process left with its attempt in flight, overdue (found by a worker's start-up sweep). */
  function leftInFlight(vendor: string, command: UpdateCommand, repeatSafe: boolean): DeliveryRecord {
    const now = Date.now();
    return {
      id: randomUUID(),
      vendor,
      userId: command.userId,
      command,
      repeatSafe,
      status: "QUEUED",
      reason: "RETRYABLE_FAILURE",
      createdAt: now - 60_000,
      expiresAt: now + 60_000,
      nextAttemptAt: now - 60_000,
      attempts: [
        {
          startedAt: now - 61_000,
          durationMs: 3,
          result: "failed",
          failure: { category: "RATE_LIMITED", vendor, message: "429", retryable: true, related: [] },
        },
      ],
      inFlightSince: now - 59_000,
    };
  }

  it("does not resend an INCREMENT whose process died with its attempt in flight: FAILED, OUTCOME_UNKNOWN; the lane goes on", async () => {
    const userId = `inc-${randomUUID()}`;
    leanplumSandbox.seedUser(userId, { logins: 10 });
    const store = new InMemoryDeliveryStore();
    const lost = leftInFlight("leanplum", incrementCommand(userId, "logins", 1), false);
    const behind: DeliveryRecord = {
      ...leftInFlight("leanplum", setCommand(userId, "plan", "after"), true),
      reason: "BEHIND_EARLIER_DELIVERY",
      attempts: [],
    };
    const { inFlightSince: _, ...waiting } = behind;
    expect(await store.append(lost, 10)).toBe("appended");
    expect(await store.append(waiting, 10)).toBe("appended");

    const e = engine({}, store);
    const done = await settled(e, lost.id);
    expect(done).toMatchObject({
      status: "FAILED",
      outcome: { ok: false, vendor: "leanplum", failure: { category: "OUTCOME_UNKNOWN", retryable: false } },
      note: expect.stringMatching(/not safe to send twice/),
    });
    expect(done.inFlightSince).toBeUndefined();
    expect(done.attempts.map((a) => a.result)).toEqual(["failed", "lost"]);
    expect((await settled(e, waiting.id)).status).toBe("DELIVERED");
    const calls = leanplumCalls(userId);
    expect(calls).toHaveLength(1);
    expect(bodyText(calls[0]!)).toContain("after");
    expect(leanplumSandbox.user(userId)?.attributes).toEqual({ logins: 10, plan: "after" });
  });

  it("expires, unsent, a delivery whose window ended while it waited behind an earlier one", async () => {
    const store = new InMemoryDeliveryStore();
    const now = Date.now();
    const head = leftInFlight("carnival", setPlan("18", "head"), true);
    const { inFlightSince: _, ...overdue } = head;
    const late: DeliveryRecord = {
      ...overdue,
      id: randomUUID(),
      command: setPlan("18", "too-late"),
      reason: "BEHIND_EARLIER_DELIVERY",
      attempts: [],
      createdAt: now - 50_000,
      expiresAt: now - 1_000,
      nextAttemptAt: now - 50_000,
    };
    await store.append(overdue, 10);
    await store.append(late, 10);
    const e = engine({}, store);
    expect((await settled(e, overdue.id)).status).toBe("DELIVERED");
    const done = await settled(e, late.id);
    expect(done).toMatchObject({ status: "EXPIRED", attempts: [], note: expect.stringMatching(/retry window ended before its turn/) });
    expect(done.outcome).toBeUndefined();
    expect(carnivalWrites("18").map(bodyText)).toEqual([expect.stringContaining('"head"')]);
    expect(plan("18")).toBe("head");
  });

  it("resends a repeat-safe update whose process died with its attempt in flight, recording the lost attempt", async () => {
    const store = new InMemoryDeliveryStore();
    const lost = leftInFlight("carnival", setPlan("16", "resent"), true);
    await store.append(lost, 10);
    const e = engine({}, store);
    const done = await settled(e, lost.id);
    expect(done.status).toBe("DELIVERED");
    expect(done.attempts.map((a) => a.result)).toEqual(["failed", "lost", "delivered"]);
    expect(done.attempts[1]!.startedAt).toBe(lost.inFlightSince);
    expect(carnivalWrites("16")).toHaveLength(1);
    expect(plan("16")).toBe("resent");
  });
});

describe("long waits", () => {
  it("waits out a Retry-After longer than a timer can hold (24.8 days) without working the lane meanwhile", async () => {
    let heads = 0;
    const store = new (class extends InMemoryDeliveryStore {
      override head(lane: Lane) {
        heads++;
        return super.head(lane);
      }
    })();
    const e = engine({ windowMs: 30 * 86_400_000 }, store);
    // 25.5 days: within the 30-day window, beyond setTimeout's 2^31-1 ms.
    carnivalSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 2_200_000 }, { count: 1, match: carnivalUser("17") });
    const queued = asQueued((await deliver(e, setPlan("17", "much-later"), "GUARANTEED"))[0]);
    expect(queued.nextAttemptAt! - Date.now()).toBeGreaterThan(2 ** 31);
    await sleep(300);
    // Not due for weeks: the lane is not worked (a timer that overflowed would fire at once, again and again).
    expect(heads).toBe(0);
    expect(carnivalWrites("17")).toHaveLength(1);
    expect((await e.cancel(queued.deliveryId))!.status).toBe("CANCELLED");
  });
});
