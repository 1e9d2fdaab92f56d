import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { EXAMPLES } from "../../src/graphql/examples.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** Every GraphiQL example runs against the sandbox vendors and gives the outcome it promises. */
describe("GraphiQL example operations", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ sandboxUserIds: ["1", "2", "3"] });
  });
  afterAll(() => subgraph.close());

  it.each(EXAMPLES.map((e) => [e.name, e] as const))("%s", async (_name, example) => {
    const result = await subgraph.gql(example.query, example.variables, example.headers);
    expect(result.errors).toBeUndefined();
    let node: any = result.data;
    for (const key of example.expect.path) node = node?.[key];
    expect(node?.__typename).toBe(example.expect.typename);
  });
});
