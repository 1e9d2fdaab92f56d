import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import { leanplum } from "../../src/vendors/leanplum/index.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/**
 * A repeat with the same idempotency key replays what is final and sends again what certainly
 * was not applied: the retry a `retryable: true` error invites must be able to go through.
 */
describe("idempotency keys replay final outcomes only", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival, leanplum], sandboxUserIds: ["1"] });
  });
  afterAll(() => subgraph.close());
  const SELECTION = UPDATE_ATTRIBUTES.replace("allDelivered", "allDelivered replayed replayedVendors");
  const both = (key: string, op: Record<string, unknown>) => ({
    input: { userId: "1", idempotencyKey: key, vendors: ["CARNIVAL", "LEANPLUM"], operations: [op] },
  });

  it("sends a rate-limited vendor again on a repeat, while the vendor that succeeded replays", async () => {
    const carnivalSandbox = subgraph.sandbox("carnival");
    const leanplumSandbox = subgraph.sandbox("leanplum");
    // Every automatic retry of the call meets the 429 too: the delivery fails RATE_LIMITED, nothing applied.
    carnivalSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { count: 3 });
    const first = await subgraph.gql(SELECTION, both("k-mixed", { op: "SET", attribute: "tier", value: { int: 2 } }));
    expect(first.data.updateAttributes.deliveries.map((d: { __typename: string }) => d.__typename)).toEqual([
      "AttributesRateLimitedError",
      "AttributesVendorDeliverySuccess",
    ]);
    expect(first.data.updateAttributes).toMatchObject({ replayed: false, replayedVendors: [] });
    const [carnivalBefore, leanplumBefore] = [carnivalSandbox.requestCount(), leanplumSandbox.requestCount()];

    const again = await subgraph.gql(SELECTION, both("k-mixed", { op: "SET", attribute: "tier", value: { int: 2 } }));
    expect(again.data.updateAttributes.deliveries.map((d: { __typename: string }) => d.__typename)).toEqual([
      "AttributesVendorDeliverySuccess",
      "AttributesVendorDeliverySuccess",
    ]);
    expect(again.data.updateAttributes).toMatchObject({ allDelivered: true, replayed: true, replayedVendors: ["LEANPLUM"] });
    expect(carnivalSandbox.requestCount() - carnivalBefore).toBe(1);
    expect(leanplumSandbox.requestCount() - leanplumBefore).toBe(0);

    // Now both outcomes are final: a third repeat sends nothing at all.
    const third = await subgraph.gql(SELECTION, both("k-mixed", { op: "SET", attribute: "tier", value: { int: 2 } }));
    expect(third.data.updateAttributes).toMatchObject({ allDelivered: true, replayed: true, replayedVendors: ["CARNIVAL", "LEANPLUM"] });
    expect(carnivalSandbox.requestCount() - carnivalBefore).toBe(1);
  });

  it("never resends an INCREMENT whose outcome is unknown: the ambiguous failure is replayed", async () => {
    const leanplumSandbox = subgraph.sandbox("leanplum");
    leanplumSandbox.injectFault({ kind: "reset-after-apply" }, { count: 1 });
    const op = { op: "INCREMENT", attribute: "visits", value: { int: 1 } };
    const input = { input: { userId: "1", idempotencyKey: "k-incr", vendors: ["LEANPLUM"], operations: [op] } };
    const first = await subgraph.gql(SELECTION, input);
    expect(first.data.updateAttributes.deliveries[0]).toMatchObject({ __typename: "AttributesVendorUnavailableError", retryable: false });
    const before = leanplumSandbox.requestCount();
    const again = await subgraph.gql(SELECTION, input);
    expect(again.data.updateAttributes).toMatchObject({ replayed: true, replayedVendors: ["LEANPLUM"] });
    expect(again.data.updateAttributes.deliveries).toEqual(first.data.updateAttributes.deliveries);
    expect(leanplumSandbox.requestCount()).toBe(before);
  });

  it("resends a not-applied vendor once when repeats arrive together", async () => {
    const carnivalSandbox = subgraph.sandbox("carnival");
    carnivalSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { count: 3 });
    const input = {
      input: {
        userId: "1",
        idempotencyKey: "k-race",
        vendors: ["CARNIVAL"],
        operations: [{ op: "SET", attribute: "x", value: { int: 1 } }],
      },
    };
    await subgraph.gql(SELECTION, input);
    const before = carnivalSandbox.requestCount();
    const repeats = await Promise.all(Array.from({ length: 5 }, () => subgraph.gql(SELECTION, input)));
    expect(repeats.every((r) => r.data.updateAttributes.deliveries[0].__typename === "AttributesVendorDeliverySuccess")).toBe(true);
    expect(carnivalSandbox.requestCount() - before).toBe(1);
  });
});
