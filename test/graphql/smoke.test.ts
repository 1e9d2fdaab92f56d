import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

describe("harness", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph();
  });
  afterAll(() => subgraph.close());

  it("delivers to the Carnival sandbox over loopback", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
    });
    expect(result.data.updateAttributes.deliveries[0].__typename).toBe("VendorDeliverySuccess");
  });
});
