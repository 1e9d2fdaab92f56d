import { describe, expect, it } from "@jest/globals";
import { readFailurePage } from "../../src/bulk/failure-pages.js";
import { InMemoryJobStore } from "../../src/bulk/store.js";
import type { BulkFailure } from "../../src/bulk/types.js";
import { PackedUserIds } from "../../src/bulk/user-ids.js";
import { readAppConfig } from "../../src/config/app-config.js";
import { vendorFailure } from "../../src/domain/failures.js";

const failure = (vendor: string, userId: string): BulkFailure => ({
  userId,
  vendor,
  failure: vendorFailure(userId.startsWith("x") ? "VALUE_REJECTED" : "USER_NOT_FOUND", vendor, "no such user"),
});

/** A store that notes every range read, to show that a page reads only what it returns. */
class ObservedStore extends InMemoryJobStore {
  readonly reads: Array<{ vendor: string; offset: number; limit: number }> = [];
  override failures(id: string, vendor: string, range: { offset: number; limit: number }): Promise<BulkFailure[]> {
    this.reads.push({ vendor, ...range });
    return super.failures(id, vendor, range);
  }
}

async function jobWith(store: InMemoryJobStore, failures: Record<string, number>) {
  const vendors = Object.keys(failures);
  const users = Object.values(failures).reduce((a, b) => Math.max(a, b), 0);
  const ids = Array.from({ length: users }, (_, i) => `u${i}`);
  const job = await store.create({
    spec: { attribute: "a", value: { kind: "int", value: 1 }, vendors },
    userIds: PackedUserIds.from(ids, ids.length),
    duplicateUserIds: 0,
  });
  for (const [vendor, count] of Object.entries(failures)) {
    // Recorded in chunks of 100, as the engine does.
    for (let from = 0; from < count; from += 100) {
      const chunk = ids
        .slice(from, Math.min(count, from + 100))
        .map((id, i) => ({ ...failure(vendor, (from + i) % 3 === 0 ? `x${id}` : id), index: from + i }));
      await store.record(job.id, vendor, { succeeded: 0, failures: chunk, cancelled: 0 });
    }
  }
  return (await store.get(job.id))!;
}

describe("bulk failure store and pages", () => {
  it("counts every failure by category but keeps only the first ones per vendor", async () => {
    const job = await jobWith(new InMemoryJobStore({ maxFailuresKept: 250 }), { carnival: 1_000, usercom: 10 });
    expect(job.progress).toEqual([
      expect.objectContaining({
        vendor: "carnival",
        failed: 1_000,
        failuresKept: 250,
        failedByCategory: { VALUE_REJECTED: 334, USER_NOT_FOUND: 666 },
      }),
      expect.objectContaining({
        vendor: "usercom",
        failed: 10,
        failuresKept: 10,
        failedByCategory: { VALUE_REJECTED: 4, USER_NOT_FOUND: 6 },
      }),
    ]);
    const none = await jobWith(new InMemoryJobStore({ maxFailuresKept: 0 }), { carnival: 5 });
    expect(none.progress[0]).toMatchObject({ failed: 5, failuresKept: 0, failedByCategory: { VALUE_REJECTED: 2, USER_NOT_FOUND: 3 } });
  });

  it("reads only the items of the page, from each vendor's list, wherever the page starts", async () => {
    const store = new ObservedStore({ maxFailuresKept: 1_000 });
    const job = await jobWith(store, { carnival: 1_000, jiguang: 0, usercom: 1_000 });
    const page = await readFailurePage(store, job, { after: { vendor: "carnival", index: 989 }, limit: 20 });
    expect(page.items.map((i) => `${i.position.vendor}:${i.position.index}`)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `carnival:${990 + i}`),
      ...Array.from({ length: 10 }, (_, i) => `usercom:${i}`),
    ]);
    expect(page.items[10]!.failure).toMatchObject({ vendor: "usercom", userId: "xu0" });
    expect(page).toMatchObject({ totalCount: 2_000, hasNextPage: true });
    expect(store.reads).toEqual([
      { vendor: "carnival", offset: 990, limit: 10 },
      { vendor: "usercom", offset: 0, limit: 10 },
    ]);
    store.reads.length = 0;
    const byVendor = await readFailurePage(store, job, { vendor: "usercom", after: { vendor: "usercom", index: 994 }, limit: 50 });
    expect(byVendor.items.map((i) => i.position.index)).toEqual([995, 996, 997, 998, 999]);
    expect(byVendor).toMatchObject({ totalCount: 1_000, hasNextPage: false });
    expect(store.reads).toEqual([{ vendor: "usercom", offset: 995, limit: 5 }]);
  });

  it("reads BULK_MAX_FAILURES_KEPT, 1000 by default, from 0 to 100000", () => {
    expect(readAppConfig({}).bulk.maxFailuresKept).toBe(1_000);
    expect(readAppConfig({ BULK_MAX_FAILURES_KEPT: "0" }).bulk.maxFailuresKept).toBe(0);
    expect(() => readAppConfig({ BULK_MAX_FAILURES_KEPT: "100001" })).toThrow(/BULK_MAX_FAILURES_KEPT must be an integer from 0 to 100000/);
    expect(() => readAppConfig({ BULK_MAX_FAILURES_KEPT: "some" })).toThrow(/BULK_MAX_FAILURES_KEPT/);
  });
});
