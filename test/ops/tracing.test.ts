import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
// Apollo Server's own trace format (a dependency of @apollo/server), to read the trace back.
import { Trace } from "@apollo/usage-reporting-protobuf";
import { carnival } from "../../src/vendors/carnival/index.js";
import { UPDATE_ATTRIBUTES, startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** Federated inline tracing (ftv1): a router asks for it with a header; nobody else gets it. */
describe("federated inline tracing", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival] });
  });
  afterAll(() => subgraph.close());

  const input = { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] };
  const post = async (headers: Record<string, string>, query = UPDATE_ATTRIBUTES, variables: Record<string, unknown> = { input }) => {
    const response = await fetch(subgraph.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: unknown[]; extensions?: Record<string, unknown> };
  };

  it("answers `apollo-federation-include-trace: ftv1` with a trace of the operation's fields", async () => {
    const result = await post({ "apollo-federation-include-trace": "ftv1" });
    expect(result.data.updateAttributes.__typename).toBe("AttributesUpdateSuccess");
    expect(typeof result.extensions?.ftv1).toBe("string");
    const trace = Trace.decode(Buffer.from(result.extensions!.ftv1 as string, "base64"));
    expect(Number(trace.durationNs)).toBeGreaterThan(0);
    const rootFields = (trace.root?.child ?? []).map((node) => node.responseName);
    expect(rootFields).toEqual(["updateAttributes"]);
  });

  it("adds no trace without the header", async () => {
    const result = await post({});
    expect(result.data.updateAttributes.__typename).toBe("AttributesUpdateSuccess");
    expect(result.extensions?.ftv1).toBeUndefined();
  });

  it("masks error messages in traces", async () => {
    // Entity resolution with a representation this subgraph cannot resolve raises a GraphQL error.
    const result = await post(
      { "apollo-federation-include-trace": "ftv1" },
      `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
      {
        r: [{ __typename: "NoSuchType", id: "1" }],
      },
    );
    expect(result.errors?.length).toBeGreaterThan(0);
    const trace = Trace.decode(Buffer.from(result.extensions!.ftv1 as string, "base64"));
    const messages: string[] = [];
    const walk = (node: Trace.INode | null | undefined): void => {
      for (const error of node?.error ?? []) messages.push(error.message ?? "");
      for (const child of node?.child ?? []) walk(child);
    };
    walk(trace.root);
    expect(messages.length).toBeGreaterThan(0);
    expect(new Set(messages)).toEqual(new Set(["<masked>"]));
  });
});
