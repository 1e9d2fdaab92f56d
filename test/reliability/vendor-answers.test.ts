import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { SandboxFault } from "../../src/sandbox/faults.js";
import { vendorModules } from "../../src/vendors/index.js";
import { BULK_MUTATION, waitForBulkJob } from "../support/bulk.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/**
 * A delivery is a success only when the vendor's complete answer says so. For every registered
 * vendor, an answer that broke off mid-body (after a 200 status line, with the write applied), a
 * proxy's HTML page, an empty 200, cut-off JSON, or a body that never ends is a typed
 * AttributesVendorUnavailableError, never AttributesVendorDeliverySuccess, on the single and the bulk path alike.
 */
const MAX_RESPONSE_BYTES = 64 * 1024;

let subgraph: TestSubgraph;
beforeAll(async () => {
  subgraph = await startTestSubgraph({ sandboxUserIds: ["1", "2", "3", "4"], maxResponseBytes: MAX_RESPONSE_BYTES });
});
afterEach(() => {
  for (const module of vendorModules) {
    subgraph.sandbox(module.id).clearFaults();
    subgraph.sandbox(module.id).clearJournal();
  }
});
afterAll(() => subgraph.close());

const BROKEN: ReadonlyArray<[string, SandboxFault, string | undefined]> = [
  ["a reset after the status line, the write applied", { kind: "cut-off-after-apply" }, undefined],
  ["a 200 with an HTML page", { kind: "html" }, "UNDOCUMENTED_ANSWER"],
  ["an empty 200", { kind: "empty" }, "UNDOCUMENTED_ANSWER"],
  ["a 200 with cut-off JSON", { kind: "malformed" }, "UNDOCUMENTED_ANSWER"],
  ["a body that never ends", { kind: "endless" }, "ERR_RESPONSE_TOO_LARGE"],
];

const setPlan = (vendor: string, userId = "1") => ({
  input: { userId, vendors: [vendor], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
});

describe.each(vendorModules.map((m) => [m.displayName, m] as const))("%s", (_name, module) => {
  const vendor = module.id.toUpperCase();

  it.each(BROKEN)("answers %s as AttributesVendorUnavailableError (retryable: a SET is repeat-safe)", async (_case, fault, vendorCode) => {
    // Every attempt meets it, automatic retries included.
    subgraph.sandbox(module.id).injectFault(fault, { count: 100 });
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, setPlan(vendor));
    expect(result.data.updateAttributes).toMatchObject({ __typename: "AttributesUpdateSuccess", allDelivered: false });
    const delivery = result.data.updateAttributes.deliveries[0];
    expect(delivery).toMatchObject({ __typename: "AttributesVendorUnavailableError", code: "VENDOR_UNAVAILABLE", retryable: true });
    if (vendorCode) expect(delivery.vendorCode).toBe(vendorCode);
    expect(delivery.message).toMatch(
      /whether it was applied is unknown|may or may not|did not arrive whole|not read to the end|took effect is unknown/,
    );
  });

  it("never counts a bulk user whose answer broke off as succeeded", async () => {
    subgraph.sandbox(module.id).injectFault({ kind: "cut-off-after-apply" }, { count: 10_000 });
    const started = await subgraph.gql(BULK_MUTATION, {
      input: { userIds: ["1", "2", "3", "4"], attribute: "plan", value: { string: "gold" }, vendors: [vendor] },
    });
    expect(started.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
    const job = await waitForBulkJob(
      subgraph,
      started.data.bulkSetCustomAttribute.id,
      "progress { total succeeded failed cancelled } failures(first: 10) { edges { node { userId error { __typename retryable } } } }",
    );
    expect(job.progress[0]).toMatchObject({ total: 4, succeeded: 0, failed: 4, cancelled: 0 });
    for (const edge of job.failures.edges)
      expect(edge.node.error).toEqual({ __typename: "AttributesVendorUnavailableError", retryable: true });
  });
});

describe("a write that is not repeat-safe", () => {
  it("is not retried after its answer broke off, and says the outcome is unknown (Leanplum INCREMENT)", async () => {
    const sandbox = subgraph.sandbox("leanplum");
    sandbox.injectFault({ kind: "cut-off-after-apply" }, { count: 100 });
    const before = sandbox.requestCount();
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", vendors: ["LEANPLUM"], operations: [{ op: "INCREMENT", attribute: "visits", value: { int: 1 } }] },
    });
    expect(result.data.updateAttributes.deliveries[0]).toMatchObject({ __typename: "AttributesVendorUnavailableError", retryable: false });
    expect(sandbox.requestCount() - before).toBe(1);
  });
});
