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
    expect(first.data.updateAttributes).toMatchObject({ __typename: "AttributesUpdateSuccess", replayed: false });
    const sent = sandbox.requestCount();
    const again = await subgraph.gql(UPDATE_ATTRIBUTES.replace("allDelivered", "allDelivered replayed"), input("k-1"));
    expect(again.data.updateAttributes).toEqual({ ...first.data.updateAttributes, replayed: true });
    expect(sandbox.requestCount()).toBe(sent);

    const different = await subgraph.gql(
      `mutation($input: AttributesUpdateInput!) { updateAttributes(input: $input) { __typename ... on AttributesIdempotencyKeyReusedError { code idempotencyKey } } }`,
      input("k-1", 2),
    );
    expect(different.data.updateAttributes).toEqual({
      __typename: "AttributesIdempotencyKeyReusedError",
      code: "IDEMPOTENCY_KEY_REUSED",
      idempotencyKey: "k-1",
    });
    expect(sandbox.requestCount()).toBe(sent);
  });

  it("scopes keys to the user", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, input("k-1", 1, "2"));
    expect(result.data.updateAttributes.__typename).toBe("AttributesUpdateSuccess");
  });

  it("sends once when duplicates arrive concurrently", async () => {
    const sandbox = subgraph.sandbox("carnival");
    const before = sandbox.requestCount();
    const results = await Promise.all(Array.from({ length: 5 }, () => subgraph.gql(UPDATE_ATTRIBUTES, input("k-concurrent", 7))));
    expect(results.every((r) => r.data.updateAttributes.__typename === "AttributesUpdateSuccess")).toBe(true);
    expect(sandbox.requestCount() - before).toBe(1);
  });

  it("rejects an empty or over-long key as invalid input", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, input(""));
    expect(result.data.updateAttributes).toMatchObject({ __typename: "AttributesInvalidInputError", path: ["input", "idempotencyKey"] });
  });
});

describe("idempotency store capacity", () => {
  it("never forgets a live key for another caller's keys: new keys are refused with a typed error instead", async () => {
    const subgraph = await startTestSubgraph({
      modules: [carnival],
      sandboxUserIds: ["1", "2"],
      idempotency: { windowMs: 60_000, maxKeys: 3 },
    });
    try {
      const sandbox = subgraph.sandbox("carnival");
      const incr = (userId: string, key: string) => ({
        input: { userId, idempotencyKey: key, vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "n", value: { int: 1 } }] },
      });
      const query = `mutation($input: AttributesUpdateInput!) { updateAttributes(input: $input) {
        __typename ... on AttributesUpdateSuccess { replayed } ... on AttributesIdempotencyStoreFullError { code message retryAfterSeconds } } }`;
      expect((await subgraph.gql(query, incr("1", "victim"))).data.updateAttributes).toEqual({
        __typename: "AttributesUpdateSuccess",
        replayed: false,
      });
      // Another caller fills the store.
      for (const key of ["a", "b"]) await subgraph.gql(query, incr("2", key));
      const refused = await subgraph.gql(query, incr("2", "c"));
      expect(refused.data.updateAttributes).toMatchObject({
        __typename: "AttributesIdempotencyStoreFullError",
        code: "IDEMPOTENCY_STORE_FULL",
      });
      expect(refused.data.updateAttributes.retryAfterSeconds).toBeGreaterThan(0);
      const sent = sandbox.requestCount();
      // The victim's retry inside its window still replays: sent once.
      expect((await subgraph.gql(query, incr("1", "victim"))).data.updateAttributes).toEqual({
        __typename: "AttributesUpdateSuccess",
        replayed: true,
      });
      expect(sandbox.requestCount()).toBe(sent);
    } finally {
      await subgraph.close();
    }
  });
});

describe("in-memory idempotency store", () => {
  it("forgets a key only when its window ends", async () => {
    let now = 0;
    const store = new InMemoryIdempotencyStore<string>(1_000, 10, () => now);
    const a = await store.begin("a", "f");
    if (a.kind !== "first") throw new Error("expected first");
    await a.complete("A");
    now = 999;
    const replay = await store.begin("a", "f");
    expect(replay.kind === "replay" && (await replay.result)).toBe("A");
    now = 1_000;
    expect((await store.begin("a", "f")).kind).toBe("first");
  });

  it("refuses a new key when full, with the wait until the oldest key's window ends, and never evicts a live key", async () => {
    let now = 0;
    const store = new InMemoryIdempotencyStore<string>(10_000, 2, () => now);
    for (const key of ["a", "b"]) {
      const begin = await store.begin(key, "f");
      if (begin.kind === "first") await begin.complete(key.toUpperCase());
    }
    now = 2_500;
    expect(await store.begin("c", "f")).toEqual({ kind: "full", retryAfterSeconds: 8 });
    const a = await store.begin("a", "f");
    expect(a.kind === "replay" && (await a.result)).toBe("A");
    now = 10_000;
    expect((await store.begin("c", "f")).kind).toBe("first");
    expect(store.size).toBe(1);
  });

  it("hands a settled result to exactly one retaker, and keeps it when that resend is abandoned", async () => {
    const store = new InMemoryIdempotencyStore<string>(10_000, 10);
    const first = await store.begin("k", "f");
    if (first.kind !== "first") throw new Error("expected first");
    await first.complete("old");
    const [r1, r2] = [await store.begin("k", "f"), await store.begin("k", "f")];
    if (r1.kind !== "replay" || r2.kind !== "replay") throw new Error("expected replays");
    const [t1, t2] = await Promise.all([r1.retake(), r2.retake()]);
    expect([t1.kind, t2.kind].sort()).toEqual(["first", "replay"]);
    const winner = (t1.kind === "first" ? t1 : t2) as Extract<typeof t1, { kind: "first" }>;
    const loser = (t1.kind === "first" ? t2 : t1) as Extract<typeof t1, { kind: "replay" }>;
    expect(winner.previous).toBe("old");
    await winner.abandon();
    expect(await loser.result).toBe("old");
    const after = await store.begin("k", "f");
    expect(after.kind === "replay" && (await after.result)).toBe("old");
  });

  it("fingerprints plain data independently of key order and Date identity", () => {
    expect(fingerprint({ a: 1, b: new Date(0) })).toBe(fingerprint({ b: new Date(0), a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});
