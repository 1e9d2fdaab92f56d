import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/** Each sandbox fault, through the whole subgraph, becomes its typed error; retries happen only where safe. */
describe("fault suite (Carnival, repeat-safe SET)", () => {
  let subgraph: TestSubgraph;
  let sandbox: CarnivalSandbox;
  const set = () =>
    subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
    });

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival] });
    sandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
  });
  afterEach(() => {
    sandbox.clearJournal();
    sandbox.clearFaults();
  });
  afterAll(() => subgraph.close());

  it.each([
    ["500 then success", { kind: "status", status: 500 } as const, 1, "AttributesVendorDeliverySuccess", [500, 202]],
    ["two 503s then success", { kind: "status", status: 503 } as const, 2, "AttributesVendorDeliverySuccess", [503, 503, 202]],
    [
      "429 with Retry-After: 0 then success",
      { kind: "rate-limit", retryAfterSeconds: 0 } as const,
      1,
      "AttributesVendorDeliverySuccess",
      [429, 202],
    ],
    ["a reset connection then success", { kind: "reset" } as const, 1, "AttributesVendorDeliverySuccess", [0, 202]],
  ])("retries %s", async (_case, fault, count, typename, statuses) => {
    sandbox.injectFault(fault, { count });
    const result = await set();
    expect(result.data.updateAttributes.deliveries[0].__typename).toBe(typename);
    expect(sandbox.journal().map((e) => e.status)).toEqual(statuses);
  });

  it("gives up after the retry limit with the typed error and an honest retryable flag", async () => {
    sandbox.injectFault({ kind: "status", status: 503 }, { count: 3 });
    const result = await set();
    expect(result.data.updateAttributes.deliveries[0]).toMatchObject({
      __typename: "AttributesVendorUnavailableError",
      httpStatus: 503,
      retryable: true,
    });
    expect(sandbox.journal()).toHaveLength(3);
  });

  it("never reads a 200 with a cut-off JSON body as applied: unavailable, retryable because a SET is repeat-safe", async () => {
    sandbox.injectFault({ kind: "malformed" }, { count: 1 });
    const result = await set();
    // Carnival's acceptance is its {"custom": …} echo; a 200 with a broken body is not its documented answer.
    expect(result.data.updateAttributes.deliveries[0]).toMatchObject({
      __typename: "AttributesVendorUnavailableError",
      httpStatus: 200,
      vendorCode: "UNDOCUMENTED_ANSWER",
      retryable: true,
    });
  });
});

describe("faults that change later calls", () => {
  const set = (subgraph: TestSubgraph) =>
    subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
    });

  it("does not wait out a long Retry-After: AttributesRateLimitedError with the delay, and the vendor's pacer pauses", async () => {
    const subgraph = await startTestSubgraph({ modules: [carnival] });
    try {
      const sandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
      sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 30 }, { count: 1 });
      const result = await set(subgraph);
      expect(result.data.updateAttributes.deliveries[0]).toMatchObject({
        __typename: "AttributesRateLimitedError",
        retryAfterSeconds: 30,
        retryable: true,
      });
      expect(sandbox.journal()).toHaveLength(1);
      // The next call to this vendor waits for the pause instead of being refused again.
      const next = set(subgraph);
      await new Promise((r) => setTimeout(r, 300));
      expect(sandbox.journal()).toHaveLength(1);
      void next.catch(() => undefined);
    } finally {
      await subgraph.close();
    }
  });

  it("never holds a request longer than the timeout per attempt, and opens the circuit after repeated failures", async () => {
    const subgraph = await startTestSubgraph({
      modules: [carnival],
      env: { CARNIVAL_TIMEOUT_MS: "300" },
      circuit: { failureThreshold: 3, cooldownMs: 60_000 },
    });
    const sandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
    try {
      sandbox.injectFault({ kind: "hang", ms: 5_000 }, { count: 9 });
      const first = await set(subgraph);
      expect(first.data.updateAttributes.deliveries[0]).toMatchObject({
        __typename: "AttributesVendorUnavailableError",
        message: expect.stringContaining("did not answer within 300 ms (3 attempts)"),
      });
      await set(subgraph);
      await set(subgraph);
      const fast = await set(subgraph);
      expect(fast.data.updateAttributes.deliveries[0]).toMatchObject({
        __typename: "AttributesVendorUnavailableError",
        vendorCode: "CIRCUIT_OPEN",
        retryAfterSeconds: 60,
      });
      expect(sandbox.journal()).toHaveLength(9);
    } finally {
      await subgraph.close();
    }
  });
});
