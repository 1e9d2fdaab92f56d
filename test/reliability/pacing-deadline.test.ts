import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import { BULK_MUTATION, waitForBulkJob } from "../support/bulk.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/**
 * A vendor's long Retry-After pauses its credential for everyone. A caller whose wait for a slot
 * would outlast its deadline gets AttributesRateLimitedError at once, with the wait as retryAfterSeconds,
 * and nothing is sent; a bulk job, which no caller waits for, waits as long as the vendor asks.
 */
describe("waits for a vendor's rate budget are bounded by the caller's deadline", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    // Sandboxes answer at once; VENDOR_MAX_WAIT_MS is 500 ms here (in production each vendor's timeout).
    subgraph = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ["1", "2", "3"], maxWaitMs: 500 });
  });
  afterEach(() => subgraph.sandbox("carnival").clearFaults());
  afterAll(() => subgraph.close());

  const update = (userId: string) =>
    subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId, vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
    });

  it("fails fast with AttributesRateLimitedError while the credential is paused, sending nothing", async () => {
    const sandbox = subgraph.sandbox("carnival");
    // Retry-After beyond VENDOR_MAX_RETRY_AFTER_MS: not retried inside the call, and the credential pauses 60 s.
    sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 3_600 }, { count: 1 });
    const first = await update("1");
    expect(first.data.updateAttributes.deliveries[0]).toMatchObject({ __typename: "AttributesRateLimitedError", httpStatus: 429 });

    const sent = sandbox.requestCount();
    const refused = await Promise.all([update("2"), update("3")]);
    for (const result of refused) {
      expect(result.data.updateAttributes.deliveries[0]).toMatchObject({
        __typename: "AttributesRateLimitedError",
        code: "RATE_LIMITED",
        vendorCode: "RATE_BUDGET_WAIT",
        retryable: true,
        httpStatus: null,
      });
      const delay = result.data.updateAttributes.deliveries[0].retryAfterSeconds;
      expect(delay).toBeGreaterThanOrEqual(50);
      expect(delay).toBeLessThanOrEqual(60);
    }
    expect(sandbox.requestCount()).toBe(sent);
  });
});

describe("bulk jobs wait as long as the vendor asks", () => {
  it("waits out a pause longer than an interactive caller's deadline and delivers every user", async () => {
    const subgraph = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ["1", "2", "3"], maxWaitMs: 200 });
    try {
      const sandbox = subgraph.sandbox("carnival");
      // Longer than the call may wait for a retry (VENDOR_MAX_RETRY_AFTER_MS is 2 s in tests): the credential pauses 3 s.
      sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 3 }, { count: 1 });
      const paused = await subgraph.gql(UPDATE_ATTRIBUTES, {
        input: { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "x" } }] },
      });
      expect(paused.data.updateAttributes.deliveries[0]).toMatchObject({ __typename: "AttributesRateLimitedError", retryAfterSeconds: 3 });
      const refused = await subgraph.gql(UPDATE_ATTRIBUTES, {
        input: { userId: "2", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "x" } }] },
      });
      expect(refused.data.updateAttributes.deliveries[0]).toMatchObject({
        __typename: "AttributesRateLimitedError",
        vendorCode: "RATE_BUDGET_WAIT",
      });
      const started = await subgraph.gql(BULK_MUTATION, {
        input: { userIds: ["1", "2", "3"], attribute: "plan", value: { string: "gold" }, vendors: ["CARNIVAL"] },
      });
      const job = await waitForBulkJob(subgraph, started.data.bulkSetCustomAttribute.id, "progress { succeeded failed }");
      expect(job).toMatchObject({ status: "SUCCEEDED", progress: [{ succeeded: 3, failed: 0 }] });
    } finally {
      await subgraph.close();
    }
  });
});
