import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { InMemoryIdempotencyStore, fingerprint } from "../../src/reliability/idempotency.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

describe("idempotency keys through updateAttributes", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ["1", "2"] });
  });
  afterAll(() => subgraph.close());

  const input = (key: string, value = 1, userId = "1") => ({
    input: { userId, idempotencyKey: key, vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "a", value: { int: value } }] },
  });

  it("returns the first result for a repeat, sending nothing, and refuses the key with another input", async () => {
    const sandbox = subgraph.sandbox("carnival");
    const first = await subgraph.gql(UPDATE_ATTRIBUTES.replace("allDelivered", "allDelivered replayed"), input("k-1"));
    expect(first.data.updateAttributes).toMatchObject({ __typename: "UpdateAttributesSuccess", replayed: false });
    const sent = sandbox.requestCount();
    const again = await subgraph.gql(UPDATE_ATTRIBUTES.replace("allDelivered", "allDelivered replayed"), input("k-1"));
    expect(again.data.updateAttributes).toEqual({ ...first.data.updateAttributes, replayed: true });
    expect(sandbox.requestCount()).toBe(sent);

    const different = await subgraph.gql(
      `mutation($input: UpdateAttributesInput!) { updateAttributes(input: $input) { __typename ... on IdempotencyKeyReusedError { code idempotencyKey } } }`,
      input("k-1", 2),
    );
    expect(different.data.updateAttributes).toEqual({
      __typename: "IdempotencyKeyReusedError",
      code: "IDEMPOTENCY_KEY_REUSED",
      idempotencyKey: "k-1",
    });
    expect(sandbox.requestCount()).toBe(sent);
  });

  it("scopes keys to the user", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, input("k-1", 1, "2"));
    expect(result.data.updateAttributes.__typename).toBe("UpdateAttributesSuccess");
  });

  it("sends once when duplicates arrive concurrently", async () => {
    const sandbox = subgraph.sandbox("carnival");
    const before = sandbox.requestCount();
    const results = await Promise.all(Array.from({ length: 5 }, () => subgraph.gql(UPDATE_ATTRIBUTES, input("k-concurrent", 7))));
    expect(results.every((r) => r.data.updateAttributes.__typename === "UpdateAttributesSuccess")).toBe(true);
    expect(sandbox.requestCount() - before).toBe(1);
  });

  it("rejects an empty or over-long key as invalid input", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, input(""));
    expect(result.data.updateAttributes).toMatchObject({ __typename: "InvalidInputError", path: ["input", "idempotencyKey"] });
  });
});

describe("in-memory idempotency store", () => {
  it("forgets keys after the window and beyond its bound", async () => {
    let now = 0;
    const store = new InMemoryIdempotencyStore<string>(1_000, 2, () => now);
    const a = await store.begin("a", "f");
    if (a.kind !== "first") throw new Error("expected first");
    await a.complete("A");
    const replay = await store.begin("a", "f");
    expect(replay.kind === "replay" && (await replay.result)).toBe("A");
    now = 1_000;
    expect((await store.begin("a", "f")).kind).toBe("first");
    await store.begin("b", "f");
    await store.begin("c", "f");
    expect((await store.begin("a", "f")).kind).toBe("first");
  });

  it("fingerprints plain data independently of key order and Date identity", () => {
    expect(fingerprint({ a: 1, b: new Date(0) })).toBe(fingerprint({ b: new Date(0), a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});
