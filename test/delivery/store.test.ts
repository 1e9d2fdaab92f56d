import { describe, expect, it } from "@jest/globals";
import { InMemoryDeliveryStore, laneKey } from "../../src/delivery/store.js";
import type { DeliveryRecord } from "../../src/delivery/types.js";
import { deliveryStoreContract, lane, record } from "./store-contract.js";

/** The embedded mode's store against the contract every store meets (RedisDeliveryStore: test/shared/deliveries.test.ts). */
describe("InMemoryDeliveryStore", () => {
  deliveryStoreContract(() => new InMemoryDeliveryStore());

  it("keeps at most maxSettled settled records, forgetting the oldest first", async () => {
    const store = new InMemoryDeliveryStore(2);
    const records = [record("carnival", "1"), record("carnival", "2"), record("carnival", "3")];
    for (const r of records) {
      await store.append(r, 10);
      await store.settle({ ...r, status: "DELIVERED", finishedAt: Date.now() }, 60_000);
    }
    expect(await store.get(records[0]!.id)).toBeUndefined();
    expect((await store.get(records[1]!.id))!.status).toBe("DELIVERED");
    expect((await store.get(records[2]!.id))!.status).toBe("DELIVERED");
  });

  it("forgets on its own clock", async () => {
    let now = 1_000;
    const store = new InMemoryDeliveryStore(100, () => now);
    const r = record("carnival", "1");
    await store.append(r, 10);
    await store.settle({ ...r, status: "DELIVERED" }, 500);
    now = 1_499;
    expect(await store.get(r.id)).toBeDefined();
    now = 1_500;
    expect(await store.get(r.id)).toBeUndefined();
  });

  it("hands out copies: changing a record read changes nothing stored", async () => {
    const store = new InMemoryDeliveryStore();
    const r = record("carnival", "1");
    await store.append(r, 10);
    const read = (await store.head(lane(r))) as { -readonly [K in keyof DeliveryRecord]: DeliveryRecord[K] };
    read.status = "CANCELLED";
    expect(await store.get(r.id)).toEqual(r);
  });

  it("names a lane by its vendor and a digest of its user id", () => {
    const key = laneKey({ vendor: "carnival", userId: "x".repeat(1_000) });
    expect(key).toMatch(/^carnival:[A-Za-z0-9_-]{43}$/);
    expect(laneKey({ vendor: "carnival", userId: "1" })).not.toBe(laneKey({ vendor: "leanplum", userId: "1" }));
    expect(laneKey({ vendor: "carnival", userId: "1" })).not.toBe(laneKey({ vendor: "carnival", userId: "2" }));
  });
});
