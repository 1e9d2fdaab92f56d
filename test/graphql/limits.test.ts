import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

describe("operation limits", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival], queryLimits: { maxDepth: 6, maxFields: 40 } });
  });
  afterAll(() => subgraph.close());

  it("accepts an ordinary operation", async () => {
    const result = await subgraph.gql("{ vendors { vendor capabilities { operations { op } } } }");
    expect(result.errors).toBeUndefined();
  });

  it("refuses an operation nested too deeply, even through fragments", async () => {
    const result = await subgraph.gql(`
      query Deep { __schema { types { fields { type { ...T } } } } }
      fragment T on __Type { ofType { ofType { ofType { name } } } }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(/"Deep" nests \d+ levels deep; at most 6/);
  });

  it("refuses an operation selecting too many fields, counting aliases and fragment spreads", async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `v${i}: vendors { ...V }`).join(" ");
    const result = await subgraph.gql(`{ ${aliases} } fragment V on VendorInfo { vendor mode }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(/selects more than 40 fields/);
  });
});
