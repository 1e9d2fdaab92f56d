import { beforeEach, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import type { DeliveryStore, VendorQueueStats } from "../../src/delivery/store.js";
import type { DeliveryRecord, Lane } from "../../src/delivery/types.js";
import { waitFor } from "./helpers.js";

/**
 * What every DeliveryStore does, the same in this process (InMemoryDeliveryStore,
 * test/delivery/store.test.ts) and in Redis (RedisDeliveryStore, test/shared/deliveries.test.ts):
 * lanes in FIFO order, the queue's bound across vendors, settling from anywhere in a lane, the due
 * index following each lane's head, the per-vendor stats, and the retention of settled records.
 */
export function deliveryStoreContract(newStore: () => DeliveryStore | Promise<DeliveryStore>): void {
  let store: DeliveryStore;
  beforeEach(async () => {
    store = await newStore();
  });

  const byVendor = (stats: VendorQueueStats[]) => [...stats].sort((a, b) => a.vendor.localeCompare(b.vendor));
  const settledAs = (r: DeliveryRecord, status: "DELIVERED" | "CANCELLED" = "DELIVERED"): DeliveryRecord => ({
    ...r,
    status,
    finishedAt: Date.now(),
    ...(status === "DELIVERED"
      ? { outcome: { ok: true as const, vendor: r.vendor, warnings: [], httpStatus: 202 } }
      : { note: "cancelled" }),
  });

  it("starts empty", async () => {
    const lane = { vendor: "carnival", userId: "1" };
    expect(await store.depth(lane)).toBe(0);
    expect(await store.head(lane)).toBeUndefined();
    expect(await store.tail(lane)).toBeUndefined();
    expect(await store.get(randomUUID())).toBeUndefined();
    expect(await store.stats()).toEqual([]);
    expect(await store.dueLanes(Date.now() + 86_400_000, 10)).toEqual([]);
  });

  it("keeps each lane's records in order, apart from other lanes: a lane is one vendor and one user", async () => {
    const longId = "u".repeat(999);
    const a = [record("carnival", "1"), record("carnival", "1"), record("carnival", "1")];
    const others = [record("carnival", "2"), record("leanplum", "1"), record("carnival", `${longId}x`), record("carnival", `${longId}y`)];
    for (const r of [a[0]!, ...others.slice(0, 2), a[1]!, ...others.slice(2), a[2]!]) expect(await store.append(r, 100)).toBe("appended");

    expect(await store.depth(lane(a[0]!))).toBe(3);
    expect(await store.head(lane(a[0]!))).toEqual(a[0]);
    expect(await store.tail(lane(a[0]!))).toBe(a[2]!.id);
    for (const other of others) {
      expect(await store.depth(lane(other))).toBe(1);
      expect(await store.head(lane(other))).toEqual(other);
      expect(await store.tail(lane(other))).toBe(other.id);
    }
    for (const r of [...a, ...others]) expect(await store.get(r.id)).toEqual(r);
  });

  it("reads a record back as it was stored: dates, -0, long and non-ASCII texts, attempts and failures", async () => {
    const stored = record("carnival", "émile ✓", {
      command: {
        userId: "émile ✓",
        operations: [
          { kind: "SET", attribute: "seen", value: { kind: "dateTime", value: new Date("2024-02-29T23:59:59.123Z") } },
          { kind: "SET", attribute: "days", value: { kind: "dateTimeList", value: [new Date(0), new Date("2030-01-01T00:00:00Z")] } },
          { kind: "SET", attribute: "delta", value: { kind: "float", value: -0 } },
          { kind: "SET", attribute: "essay", value: { kind: "string", value: "∑ ".repeat(50_000) } },
        ],
        profile: { city: "Zürich" },
        tags: { add: [], remove: [] },
        vendorOptions: { carnival: { at: new Date("2025-05-05T05:05:05Z") } },
      },
      attempts: [
        {
          startedAt: 1,
          durationMs: 2.5,
          result: "failed",
          failure: { category: "VENDOR_UNAVAILABLE", vendor: "carnival", message: "503", httpStatus: 503, retryable: true, related: [] },
        },
      ],
    });
    await store.append(stored, 10);
    const read = (await store.get(stored.id))!;
    expect(read).toEqual(stored);
    const ops = read.command.operations as unknown as ReadonlyArray<{ value: { value: unknown } }>;
    expect(ops[0]!.value.value).toBeInstanceOf(Date);
    expect((ops[1]!.value.value as Date[])[1]).toBeInstanceOf(Date);
    expect(Object.is(ops[2]!.value.value, -0)).toBe(true);
    expect((read.command.vendorOptions.carnival as { at: unknown }).at).toEqual(new Date("2025-05-05T05:05:05Z"));
    expect(await store.head(lane(stored))).toEqual(stored);
  });

  it("stores strings that are not well-formed Unicode (a lone surrogate), and settles the records around them", async () => {
    const lone = "caf\uD800é \uDFFF end";
    const message = `vendor said ${"x".repeat(10)}\uD83D`; // a message clipped inside a surrogate pair
    const failure = { category: "VENDOR_UNAVAILABLE" as const, vendor: "carnival", message, httpStatus: 503, retryable: true, related: [] };
    const [first, odd, last] = [
      record("carnival", "1", { attempts: [{ startedAt: 1, durationMs: 1, result: "failed", failure }] }),
      record("carnival", "1", {
        command: {
          ...record("carnival", "1").command,
          operations: [{ kind: "SET", attribute: "name", value: { kind: "string", value: lone } }],
        },
      }),
      record("carnival", "1"),
    ];
    for (const r of [first, odd, last]) expect(await store.append(r, 10)).toBe("appended");
    expect(await store.get(odd.id)).toEqual(odd);
    expect(((await store.get(odd.id))!.command.operations[0] as { value: { value: string } }).value.value).toBe(lone);
    expect(await store.head(lane(first))).toEqual(first);

    // Settling around them re-indexes the lane by the record next to them, whatever its strings.
    await store.settle(settledAs(last, "CANCELLED"), 60_000);
    await store.settle(settledAs(first), 60_000);
    expect(await store.head(lane(first))).toEqual(odd);
    expect(await store.dueLanes(Date.now(), 10)).toEqual([lane(odd)]);
    expect(await store.stats()).toEqual([{ vendor: "carnival", depth: 1, oldestCreatedAt: odd.createdAt }]);
    await store.settle(settledAs(odd), 60_000);
    expect(await store.depth(lane(odd))).toBe(0);
    expect((await store.get(odd.id))!.status).toBe("DELIVERED");
    expect((await store.get(first.id))!.attempts[0]!.failure!.message).toBe(message);
  });

  it("refuses a record beyond maxQueued, counting every vendor's, and stores nothing of it", async () => {
    const first = record("carnival", "1");
    const second = record("leanplum", "2");
    const third = record("carnival", "1");
    expect(await store.append(first, 2)).toBe("appended");
    expect(await store.append(second, 2)).toBe("appended");
    expect(await store.append(third, 2)).toBe("full");
    expect(await store.get(third.id)).toBeUndefined();
    expect(await store.depth(lane(first))).toBe(1);
    expect(await store.tail(lane(first))).toBe(first.id);
    // A settled record frees its place.
    await store.settle(settledAs(second), 60_000);
    expect(await store.append(third, 2)).toBe("appended");
    expect(await store.tail(lane(first))).toBe(third.id);
  });

  it("updates a queued record in place; a lane's due time follows its head only", async () => {
    const now = Date.now();
    const head = record("carnival", "1", { nextAttemptAt: now + 600_000 });
    const behind = record("carnival", "1", { nextAttemptAt: now - 1_000, reason: "BEHIND_EARLIER_DELIVERY" });
    await store.append(head, 10);
    await store.append(behind, 10);
    expect(await store.dueLanes(now, 10)).toEqual([]);

    await store.update({ ...behind, nextAttemptAt: now - 2_000 });
    expect(await store.dueLanes(now, 10)).toEqual([]);
    expect((await store.get(behind.id))!.nextAttemptAt).toBe(now - 2_000);

    const started = { ...head, nextAttemptAt: now - 10, inFlightSince: now };
    await store.update(started);
    expect(await store.head(lane(head))).toEqual(started);
    expect(await store.dueLanes(now, 10)).toEqual([lane(head)]);
    expect(await store.depth(lane(head))).toBe(2);
  });

  it("settles a record wherever it stands in its lane, keeps it readable, and re-indexes the lane by its new head", async () => {
    const now = Date.now();
    const [first, middle, last] = [
      record("carnival", "1", { nextAttemptAt: now + 600_000 }),
      record("carnival", "1", { nextAttemptAt: now - 500 }),
      record("carnival", "1", { nextAttemptAt: now - 100 }),
    ];
    for (const r of [first, middle, last]) await store.append(r, 10);

    const cancelled = settledAs(middle, "CANCELLED");
    await store.settle(cancelled, 60_000);
    expect(await store.depth(lane(first))).toBe(2);
    expect(await store.head(lane(first))).toEqual(first);
    expect(await store.tail(lane(first))).toBe(last.id);
    expect(await store.get(middle.id)).toEqual(cancelled);
    expect(await store.dueLanes(now, 10)).toEqual([]);

    await store.settle(settledAs(first), 60_000);
    expect(await store.head(lane(first))).toEqual(last);
    expect(await store.dueLanes(now, 10)).toEqual([lane(first)]);

    await store.settle(settledAs(last), 60_000);
    expect(await store.depth(lane(first))).toBe(0);
    expect(await store.head(lane(first))).toBeUndefined();
    expect(await store.tail(lane(first))).toBeUndefined();
    expect(await store.dueLanes(now + 600_000, 10)).toEqual([]);
    expect(await store.stats()).toEqual([]);
    for (const r of [first, last]) expect((await store.get(r.id))!.status).toBe("DELIVERED");
  });

  it("counts queued deliveries per vendor, with the oldest one's creation", async () => {
    const t = Date.now();
    const x = record("carnival", "1", { createdAt: t - 3_000 });
    const y = record("carnival", "1", { createdAt: t - 1_000 });
    const z = record("carnival", "2", { createdAt: t - 2_000 });
    const w = record("leanplum", "1", { createdAt: t - 500 });
    for (const r of [x, y, z, w]) await store.append(r, 10);
    expect(byVendor(await store.stats())).toEqual([
      { vendor: "carnival", depth: 3, oldestCreatedAt: t - 3_000 },
      { vendor: "leanplum", depth: 1, oldestCreatedAt: t - 500 },
    ]);
    await store.settle(settledAs(x), 60_000);
    expect(byVendor(await store.stats())).toEqual([
      { vendor: "carnival", depth: 2, oldestCreatedAt: t - 2_000 },
      { vendor: "leanplum", depth: 1, oldestCreatedAt: t - 500 },
    ]);
    await store.settle(settledAs(w), 60_000);
    expect(await store.stats()).toEqual([{ vendor: "carnival", depth: 2, oldestCreatedAt: t - 2_000 }]);
  });

  it("lists the lanes whose head is due, the longest due first, at most `limit`", async () => {
    const t = Date.now();
    const heads = [
      record("carnival", "a", { nextAttemptAt: t - 300 }),
      record("carnival", "b", { nextAttemptAt: t - 100 }),
      record("leanplum", "c", { nextAttemptAt: t - 200 }),
      record("carnival", "d", { nextAttemptAt: t + 600_000 }),
    ];
    for (const r of heads) await store.append(r, 10);
    // Queued behind a head that is not due: its own due time does not count.
    await store.append(record("carnival", "d", { nextAttemptAt: t - 1_000 }), 10);
    expect(await store.dueLanes(t, 10)).toEqual([lane(heads[0]!), lane(heads[2]!), lane(heads[1]!)]);
    expect(await store.dueLanes(t, 2)).toEqual([lane(heads[0]!), lane(heads[2]!)]);
    expect(await store.dueLanes(t - 250, 10)).toEqual([lane(heads[0]!)]);
  });

  it("forgets a settled record after its retention, never a queued one", async () => {
    const done = record("carnival", "1");
    const waiting = record("carnival", "2");
    await store.append(done, 10);
    await store.append(waiting, 10);
    await store.settle(settledAs(done), 150);
    expect((await store.get(done.id))!.status).toBe("DELIVERED");
    await waitFor("the settled record to be forgotten", async () => ((await store.get(done.id)) === undefined ? true : undefined), 10_000);
    expect(await store.get(waiting.id)).toEqual(waiting);
    expect(await store.head(lane(waiting))).toEqual(waiting);
  });
}

export function lane(r: Lane): Lane {
  return { vendor: r.vendor, userId: r.userId };
}

export function record(vendor: string, userId: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  const now = Date.now();
  return {
    id: randomUUID(),
    vendor,
    userId,
    command: {
      userId,
      operations: [{ kind: "SET", attribute: "plan", value: { kind: "string", value: "gold" } }],
      profile: {},
      tags: { add: [], remove: [] },
      vendorOptions: {},
    },
    repeatSafe: true,
    status: "QUEUED",
    reason: "RETRYABLE_FAILURE",
    createdAt: now,
    expiresAt: now + 600_000,
    nextAttemptAt: now,
    attempts: [],
    ...overrides,
  };
}
