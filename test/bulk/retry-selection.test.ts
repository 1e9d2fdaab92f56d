import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { countBits, getBit, newBitmap, orInto, setBit } from "../../src/bulk/bitmap.js";
import { BulkEngine } from "../../src/bulk/engine.js";
import { InProcessQueue } from "../../src/bulk/queue.js";
import { prepareRetry } from "../../src/bulk/retry.js";
import { InMemoryJobStore } from "../../src/bulk/store.js";
import { PackedUserIds } from "../../src/bulk/user-ids.js";
import { DEFAULT_INPUT_LIMITS } from "../../src/domain/command.js";
import { vendorFailure, type FailureCategory } from "../../src/domain/failures.js";
import { startVendors, type VendorRuntime } from "../../src/runtime.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { jiguang } from "../../src/vendors/jiguang/index.js";

describe("bitmaps over a job's user indexes", () => {
  it("use Redis's bit order, read short bitmaps as zeros, and count ranges", () => {
    const bits = newBitmap(20);
    expect(bits).toHaveLength(3);
    for (const i of [0, 7, 8, 13, 19]) setBit(bits, i);
    // Bit 0 is the high bit of byte 0, as SETBIT writes it.
    expect([...bits]).toEqual([0b1000_0001, 0b1000_0100, 0b0001_0000]);
    expect([0, 1, 7, 8, 19, 20, 1_000].map((i) => getBit(bits, i))).toEqual([true, false, true, true, true, false, false]);
    expect(countBits(bits)).toBe(5);
    expect(countBits(bits, 1, 8)).toBe(1);
    expect(countBits(bits, 7, 20)).toBe(4);
    expect(countBits(bits, 9, 13)).toBe(0);
    const other = newBitmap(10);
    setBit(other, 1);
    orInto(bits, other);
    expect(countBits(bits)).toBe(6);
    expect(() => setBit(newBitmap(8), 8)).toThrow(RangeError);
  });
});

/**
 * Every failed user is retryable, not only the first BULK_MAX_FAILURES_KEPT: the in-memory store
 * marks who failed, by category and whether retryable, and keeps only the failed users once the
 * job ends; prepareRetry picks exactly the users asked for, per vendor.
 */
describe("a finished job's failed users, and a retry's choice of them", () => {
  let runtime: VendorRuntime;
  beforeAll(async () => {
    runtime = await startVendors(
      [carnival, jiguang],
      { CARNIVAL_RATE_LIMIT: "2000", JIGUANG_RATE_LIMIT: "2000" },
      { sandbox: "force", sandboxHost: "127.0.0.1", sandboxUserIds: [], sandboxRateLimits: { carnival: 100_000, jiguang: 100_000 } },
    );
  });
  afterAll(() => runtime.close());

  const USERS = 1_000;
  // Numeric: Jiguang's user ids are CUIDs. None exists at the sandboxes: whatever is sent fails, counted.
  const ids = Array.from({ length: USERS }, (_, i) => String(10_000 + i));
  /** Carnival: every 7th user unavailable (retryable), every 11th otherwise not found; Jiguang: every 13th unavailable, not retryable. */
  const failureAt = (vendor: string, i: number): { category: FailureCategory; retryable: boolean } | undefined => {
    if (vendor === "carnival" && i % 7 === 0) return { category: "VENDOR_UNAVAILABLE", retryable: true };
    if (vendor === "carnival" && i % 11 === 0) return { category: "USER_NOT_FOUND", retryable: false };
    if (vendor === "jiguang" && i % 13 === 0) return { category: "VENDOR_UNAVAILABLE", retryable: false };
    return undefined;
  };
  const expected = (vendor: string, pick: (f: { category: FailureCategory; retryable: boolean }) => boolean) =>
    ids.filter((_, i) => {
      const failure = failureAt(vendor, i);
      return failure !== undefined && pick(failure);
    });

  async function finishedJob(store = new InMemoryJobStore({ maxFailuresKept: 5 })) {
    const job = await store.create({
      spec: { attribute: "plan", value: { kind: "string", value: "gold" }, vendors: ["carnival", "jiguang"] },
      userIds: PackedUserIds.from(ids, ids.length),
      duplicateUserIds: 0,
    });
    for (const vendor of ["carnival", "jiguang"]) {
      for (let from = 0; from < USERS; from += 200) {
        const failures = [];
        for (let i = from; i < from + 200; i++) {
          const failure = failureAt(vendor, i);
          if (failure)
            failures.push({
              index: i,
              userId: ids[i]!,
              vendor,
              failure: vendorFailure(failure.category, vendor, "failed", { retryable: failure.retryable }),
            });
        }
        await store.record(job.id, vendor, { succeeded: 200 - failures.length, failures, cancelled: 0 });
      }
    }
    await store.setStatus(job.id, "PARTIALLY_FAILED", new Date());
    return { store, parent: (await store.get(job.id))! };
  }

  const settings = () => ({ vendors: runtime.vendors, limits: DEFAULT_INPUT_LIMITS, maxUserIds: 100_000 });

  it("keeps only the failed users' ids once the job ends, with who failed where", async () => {
    const { store, parent } = await finishedJob();
    expect(parent.progress.map((p) => [p.vendor, p.failed, p.failuresKept])).toEqual([
      ["carnival", 143 + 78, 5],
      ["jiguang", 77, 5],
    ]);
    const failed = (await store.failedUsers(parent.id))!;
    const anywhere = ids.filter((_, i) => failureAt("carnival", i) || failureAt("jiguang", i));
    expect(failed.ids.slice(0, USERS)).toEqual(anywhere);
    expect(await store.userIds(parent.id)).toBeUndefined();
    const carnivalRetryable = failed.vendors.get("carnival")!.retryable;
    expect(countBits(carnivalRetryable)).toBe(143);
    expect(countBits(failed.vendors.get("jiguang")!.retryable)).toBe(0);
    expect(countBits(failed.vendors.get("carnival")!.byCategory.USER_NOT_FOUND!)).toBe(78);
  });

  it("holds failed users within a byte budget, the oldest jobs' going first; their counts stay", async () => {
    // What one job's failed users take: their ids packed, and every bitmap.
    const reference = await finishedJob();
    const failed = (await reference.store.failedUsers(reference.parent.id))!;
    const { bytes, ends } = (failed.ids as PackedUserIds).parts();
    const bitmaps = [...failed.vendors.values()].flatMap((v) => [v.retryable, ...Object.values(v.byCategory)]);
    const size = bytes.length + ends.byteLength + bitmaps.reduce((n, b) => n + b.length, 0);
    const store = new InMemoryJobStore({ maxFailuresKept: 5, maxFailedUserBytes: 2 * size + size / 2 });
    const first = (await finishedJob(store)).parent;
    const second = (await finishedJob(store)).parent;
    expect(await store.failedUsers(first.id)).toBeDefined();
    const third = (await finishedJob(store)).parent;
    expect(await store.failedUsers(first.id)).toBeUndefined();
    expect(await store.failedUsers(second.id)).toBeDefined();
    expect(await store.failedUsers(third.id)).toBeDefined();
    expect((await store.get(first.id))!.progress).toEqual(first.progress);
    expect(prepareRetry(first, {}, undefined, settings())).toEqual({
      kind: "nothing",
      message: `the failed users of bulk job ${first.id} are no longer kept; nothing to retry`,
    });
  });

  it("by default, every retryable failure (not only the kept ones), at its vendor only", async () => {
    const { store, parent } = await finishedJob();
    const check = prepareRetry(parent, {}, await store.failedUsers(parent.id), settings());
    if (check.kind !== "ready") throw new Error(JSON.stringify(check));
    expect(check.job.spec.vendors).toEqual(["carnival"]);
    expect(check.job.retryOf).toBe(parent.id);
    expect(check.job.userIds.slice(0, USERS)).toEqual(expected("carnival", (f) => f.retryable));
    expect(countBits(check.job.selections!.get("carnival")!)).toBe(143);
  });

  it("with codes, the users whose final error had one, each at the vendors where it did", async () => {
    const { store, parent } = await finishedJob();
    const check = prepareRetry(parent, { codes: ["VENDOR_UNAVAILABLE"] }, await store.failedUsers(parent.id), settings());
    if (check.kind !== "ready") throw new Error(JSON.stringify(check));
    const atCarnival = expected("carnival", (f) => f.category === "VENDOR_UNAVAILABLE");
    const atJiguang = expected("jiguang", (f) => f.category === "VENDOR_UNAVAILABLE");
    const users = check.job.userIds.slice(0, USERS);
    // The union, in the parent's order; each vendor selects its own.
    expect(users).toEqual(ids.filter((id) => atCarnival.includes(id) || atJiguang.includes(id)));
    const selected = (vendor: string) => users.filter((_, i) => getBit(check.job.selections!.get(vendor)!, i));
    expect(selected("carnival")).toEqual(atCarnival);
    expect(selected("jiguang")).toEqual(atJiguang);

    const notFound = prepareRetry(
      parent,
      { codes: ["USER_NOT_FOUND"], vendors: ["jiguang"] },
      await store.failedUsers(parent.id),
      settings(),
    );
    expect(notFound).toEqual({
      kind: "nothing",
      message: expect.stringMatching(/no failed users whose final error was USER_NOT_FOUND at Jiguang/),
    });
  });

  it("runs a retry in process, delivering and counting each vendor's selected users only, and a stopped engine cancels exactly them", async () => {
    const { store, parent } = await finishedJob();
    const engine = new BulkEngine({
      store,
      queue: new InProcessQueue(),
      vendors: runtime.vendors,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const sandboxes = ["carnival", "jiguang"].map((vendor) => runtime.sandboxes.get(vendor)!);
    for (const sandbox of sandboxes) sandbox.clearJournal();
    const started = await engine.retryFailures(parent, { codes: ["VENDOR_UNAVAILABLE"], owner: "alice" });
    if (started.kind !== "accepted") throw new Error(JSON.stringify(started));
    expect(started.job).toMatchObject({ retryOf: parent.id, users: 143 + 77 - 11, owner: "alice" });
    expect((await store.get(parent.id))!.retries).toEqual([started.job.id]);
    let child = started.job;
    while (!["SUCCEEDED", "PARTIALLY_FAILED", "FAILED", "CANCELLED"].includes(child.status)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      child = (await store.get(child.id))!;
    }
    // Sent to each vendor: exactly its selected users (they exist nowhere, so each fails once).
    expect(child.progress.map((p) => [p.vendor, p.total, p.succeeded + p.failed, p.cancelled])).toEqual([
      ["carnival", 143, 143, 0],
      ["jiguang", 77, 77, 0],
    ]);
    const [carnivalSent, jiguangSent] = sandboxes.map((sandbox) => sandbox.journal().filter((e) => e.method === "PUT"));
    expect(carnivalSent!.map((e) => e.path.split("/").at(-1)).sort()).toEqual(
      expected("carnival", (f) => f.category === "VENDOR_UNAVAILABLE").sort(),
    );
    expect(jiguangSent).toHaveLength(77);
    // The parent's counts did not move.
    expect((await store.get(parent.id))!.progress).toEqual(parent.progress);

    // A retry submitted while the engine stops is cancelled whole: each vendor's own users.
    await engine.stop();
    const late = await engine.retryFailures(parent, { codes: ["VENDOR_UNAVAILABLE"] });
    if (late.kind !== "accepted") throw new Error(JSON.stringify(late));
    expect(late.job.status).toBe("CANCELLED");
    expect(late.job.progress.map((p) => [p.vendor, p.total, p.cancelled])).toEqual([
      ["carnival", 143, 143],
      ["jiguang", 77, 77],
    ]);
  });
});
