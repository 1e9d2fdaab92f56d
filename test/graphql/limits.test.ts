import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { getIntrospectionQuery } from "graphql";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

describe("operation limits", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival], queryLimits: { maxDepth: 6, maxFields: 40 } });
  });
  afterAll(() => subgraph.close());

  it("accepts an ordinary operation", async () => {
    const result = await subgraph.gql("{ attributeVendors { vendor capabilities { operations { op } } } }");
    expect(result.errors).toBeUndefined();
  });

  it("lets the standard introspection query through (tools send it), still bounded", async () => {
    const limited = await startTestSubgraph({ modules: [carnival], queryLimits: { maxDepth: 6, maxFields: 2_000 } });
    try {
      const result = await limited.gql(getIntrospectionQuery());
      expect(result.errors).toBeUndefined();
      expect(result.data.__schema.queryType.name).toBe("Query");
      const tooDeep = await limited.gql(`{ __schema { types { ${"ofType { ".repeat(22)}name${" }".repeat(22)} } } }`);
      expect(tooDeep.errors?.[0]?.message).toMatch(/nests introspection \d+ levels deep; at most 20/);
    } finally {
      await limited.close();
    }
  });

  it("refuses an operation nested too deeply, even through fragments", async () => {
    const result = await subgraph.gql(`
      mutation Deep { updateAttributes(input: { userId: "1", operations: [{ op: SET, attribute: "a", value: { int: 1 } }] }) {
        ... on AttributesUpdateSuccess { deliveries { ... on AttributesVendorError { relatedErrors { relatedErrors { ...R } } } } }
      } }
      fragment R on AttributesVendorError { relatedErrors { relatedErrors { code } } }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(/"Deep" nests \d+ levels deep; at most 6/);
    expect(subgraph.sandbox("carnival").requestCount()).toBe(0);
  });

  it("refuses an operation selecting too many fields, counting aliases and fragment spreads", async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `v${i}: attributeVendors { ...V }`).join(" ");
    const result = await subgraph.gql(`{ ${aliases} } fragment V on AttributesVendorInfo { vendor mode }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(/selects more than 40 fields/);
  });
});

describe("introspection switched off", () => {
  it("says which variable switches it on, not Apollo's constructor option", async () => {
    const subgraph = await startTestSubgraph({ modules: [carnival], introspection: false });
    try {
      const result = await subgraph.gql("{ __schema { queryType { name } } }");
      expect(result.errors?.[0]?.message).toMatch(/^introspection is off in this deployment \(INTROSPECTION=false/);
      expect(JSON.stringify(result)).not.toContain("ApolloServer");
    } finally {
      await subgraph.close();
    }
  });
});
