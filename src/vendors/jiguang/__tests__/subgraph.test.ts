import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../../../../test/support/subgraph.js";
import { jiguang } from "../index.js";
import { type JiguangSandbox } from "../sandbox.js";
import { SANDBOX_PROJECT_SECRET } from "../config.js";

/** The adapter as the running subgraph uses it: registry definition, sandboxEnv, seeded users, GraphQL results. */
describe("Jiguang through the subgraph", () => {
  let subgraph: TestSubgraph;
  let sandbox: JiguangSandbox;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [jiguang] });
    sandbox = subgraph.sandbox<JiguangSandbox>("jiguang");
  });
  afterAll(() => subgraph.close());

  const update = (userId: string, operations: unknown[]) =>
    subgraph.gql(UPDATE_ATTRIBUTES, { input: { userId, vendors: ["JIGUANG"], operations } });

  it("delivers typed operations to the sandbox, which applies each attribute's rule", async () => {
    const result = await update("2", [
      { op: "SET", attribute: "plan", value: { string: "gold" } },
      { op: "SET_ONCE", attribute: "signup_time", value: { dateTime: "2024-06-01T04:00:00Z" } },
      { op: "INCREMENT", attribute: "points", value: { int: 3 } },
      { op: "ADD_TO_SET", attribute: "interests", value: { stringList: ["chess"] } },
    ]);
    expect(result.data.updateAttributes.deliveries).toEqual([
      {
        __typename: "AttributesVendorDeliverySuccess",
        vendor: "JIGUANG",
        httpStatus: 200,
        warnings: [{ code: "APPEND_NOT_DEDUPLICATED", attribute: "interests", message: expect.any(String) }],
      },
    ]);
    expect(sandbox.attributes("2")).toEqual({ plan: "gold", signup_time: "2024-06-01 12:00:00", points: 3, interests: ["chess"] });
  });

  it("returns typed errors for what Jiguang would not apply as asked, with nothing sent", async () => {
    sandbox.clearJournal();
    const result = await update("1", [
      { op: "SET", attribute: "points", value: { int: 3 } },
      { op: "SET", attribute: "undeclared", value: { string: "x" } },
    ]);
    const [delivery] = result.data.updateAttributes.deliveries;
    expect(delivery).toMatchObject({
      code: "UNSUPPORTED_OPERATION",
      vendor: "JIGUANG",
      attribute: "points",
      operation: "SET",
      retryable: false,
      relatedErrors: [{ code: "ATTRIBUTE_NOT_DEFINED", attribute: "undeclared" }],
    });
    expect(sandbox.journal()).toEqual([]);
  });

  it("maps an unknown CUID to a user-not-found error carrying Jiguang's code", async () => {
    const result = await update("99", [{ op: "SET", attribute: "plan", value: { string: "gold" } }]);
    expect(result.data.updateAttributes.deliveries[0]).toMatchObject({ code: "USER_NOT_FOUND", vendorCode: "40003", httpStatus: 404 });
  });

  it("never logs the project secret", () => {
    expect(subgraph.logLines.join("\n")).not.toContain(SANDBOX_PROJECT_SECRET);
  });
});
