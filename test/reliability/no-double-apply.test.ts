import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { leanplum } from "../../src/vendors/leanplum/index.js";
import type { LeanplumSandbox } from "../../src/vendors/leanplum/sandbox.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/**
 * The sandbox applies the request, then loses the answer (connection reset, or a 500 after
 * applying). A write that is not repeat-safe must not be sent again; a repeat-safe one may be.
 */
describe("retries never double-apply", () => {
  let subgraph: TestSubgraph;
  let leanplumSandbox: LeanplumSandbox;
  let carnivalSandbox: CarnivalSandbox;
  const update = (vendor: string, operations: unknown[]) =>
    subgraph.gql(UPDATE_ATTRIBUTES, { input: { userId: "1", vendors: [vendor], operations } });

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [leanplum, carnival], sandboxUserIds: ["1"] });
    leanplumSandbox = subgraph.sandbox<LeanplumSandbox>("leanplum");
    carnivalSandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
  });
  afterEach(() => {
    leanplumSandbox.clearJournal();
    leanplumSandbox.clearFaults();
    carnivalSandbox.clearJournal();
    carnivalSandbox.clearFaults();
  });
  afterAll(() => subgraph.close());

  it.each([
    ["a reset connection", { kind: "reset-after-apply" } as const],
    ["a 500 after applying", { kind: "status-after-apply", status: 500 } as const],
  ])("applies an INCREMENT exactly once after %s, and says a blind retry is unsafe", async (_case, fault) => {
    await update("LEANPLUM", [{ op: "SET", attribute: "logins", value: { int: 10 } }]);
    leanplumSandbox.clearJournal();
    leanplumSandbox.injectFault(fault, { count: 1 });
    const result = await update("LEANPLUM", [{ op: "INCREMENT", attribute: "logins", value: { int: 1 } }]);
    expect(result.data.updateAttributes.deliveries[0]).toMatchObject({ __typename: "AttributesVendorUnavailableError", retryable: false });
    expect(result.data.updateAttributes.deliveries[0].message).toMatch(/may or may not have been applied|applied is unknown/);
    expect(leanplumSandbox.journal()).toHaveLength(1);
    expect(leanplumSandbox.user("1")?.attributes.logins).toBe(11);
  });

  it("retries a SET after the same fault: the value is the same however often it lands", async () => {
    carnivalSandbox.injectFault({ kind: "reset-after-apply" }, { count: 1 });
    const result = await update("CARNIVAL", [{ op: "SET", attribute: "plan", value: { string: "gold" } }]);
    expect(result.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorDeliverySuccess");
    expect(carnivalSandbox.journal().map((e) => e.status)).toEqual([0, 202]);
    expect(carnivalSandbox.devices("1")![0]!.plan).toEqual({ type: "string", value: "gold" });
  });

  it("retries even an INCREMENT when the vendor refused it with 429 (nothing was applied)", async () => {
    await update("LEANPLUM", [{ op: "SET", attribute: "visits", value: { int: 1 } }]);
    leanplumSandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { count: 1 });
    const result = await update("LEANPLUM", [{ op: "INCREMENT", attribute: "visits", value: { int: 1 } }]);
    expect(result.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorDeliverySuccess");
    expect(leanplumSandbox.user("1")?.attributes.visits).toBe(2);
  });
});
