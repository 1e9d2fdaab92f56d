import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Redis } from "ioredis";
import type { StoredUpdate } from "../../src/graphql/context.js";
import { connectRedis, whenReady } from "../../src/redis/connection.js";
import { RedisIdempotencyStore, type RedisIdempotencyOptions } from "../../src/reliability/redis-idempotency.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";
import { startTestSubgraph, type GraphQLResponse, type TestSubgraph } from "../support/subgraph.js";

/**
 * updateAttributes with idempotency keys on three replicas that share one Redis (each replica has
 * its own sandboxes, so what each replica sends is counted apart): a repeat on another replica
 * replays, waits for a call in flight, and is told when the call holding the key is running or lost.
 */
const QUERY = `mutation($input: AttributesUpdateInput!) { updateAttributes(input: $input) {
  __typename
  ... on AttributesUpdateSuccess { replayed replayedVendors deliveries { __typename } }
  ... on AttributesIdempotencyKeyInProgressError { code message idempotencyKey outcomeUnknown retryAfterSeconds }
} }`;
const input = (key: string, value: number) => ({
  input: { userId: "1", idempotencyKey: key, vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "n", value: { int: value } }] },
});

let redis: TestRedis | undefined;
const connections: Redis[] = [];
/** A: the replica whose calls are slowed down and that is cut off last; B waits long; C waits briefly. */
let a: TestSubgraph, b: TestSubgraph, c: TestSubgraph;
let aConnection: Redis;
const aErrors: string[] = [];

async function replica(name: string, options: Partial<RedisIdempotencyOptions>): Promise<{ subgraph: TestSubgraph; connection: Redis }> {
  const connection = connectRedis({ url: redis!.url, keyPrefix: "shared" }, "commands", name);
  connections.push(connection);
  await whenReady(connection, 5_000);
  const store = new RedisIdempotencyStore<StoredUpdate>(connection, {
    keyPrefix: "shared",
    windowMs: 60_000,
    inFlightWaitMs: 20_000,
    ...options,
  });
  const subgraph = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ["1"], idempotencyStore: store });
  return { subgraph, connection };
}

beforeAll(async () => {
  redis = await startTestRedis();
  const holder = await replica("a", { leaseMs: 600, onError: (_error, during) => aErrors.push(during) });
  [a, aConnection] = [holder.subgraph, holder.connection];
  b = (await replica("b", {})).subgraph;
  c = (await replica("c", { inFlightWaitMs: 200 })).subgraph;
});
afterAll(async () => {
  await Promise.all([a, b, c].map((subgraph) => subgraph?.close()));
  for (const connection of connections) if (connection.status !== "end") connection.disconnect();
  await stopTestRedis(redis);
});

/** Starts a call on A that stays in flight at A's vendor for `ms`, and resolves once it is there (with the call). */
async function slowCallOnA(key: string, value: number, ms: number): Promise<{ answer: Promise<GraphQLResponse<any>> }> {
  const sandbox = a.sandbox("carnival");
  sandbox.setResponseDelay(ms);
  const before = sandbox.requestCount();
  const call = a.gql(QUERY, input(key, value));
  while (sandbox.requestCount() === before) await new Promise((resolve) => setTimeout(resolve, 5));
  return { answer: call };
}

describe("idempotency keys shared by replicas (Redis)", () => {
  it("replays on replica B what replica A sent, sending nothing from B", async () => {
    const first = await a.gql(QUERY, input("shared-1", 1));
    expect(first.data.updateAttributes).toMatchObject({ __typename: "AttributesUpdateSuccess", replayed: false });
    const sentByB = b.sandbox("carnival").requestCount();
    const again = await b.gql(QUERY, input("shared-1", 1));
    expect(again.data.updateAttributes).toEqual({ ...first.data.updateAttributes, replayed: true, replayedVendors: ["CARNIVAL"] });
    expect(b.sandbox("carnival").requestCount()).toBe(sentByB);
  });

  it("makes a repeat on B wait for A's call in flight and answers A's outcome", async () => {
    const sentByB = b.sandbox("carnival").requestCount();
    const { answer: onA } = await slowCallOnA("shared-2", 2, 1_500);
    const onB = await b.gql(QUERY, input("shared-2", 2));
    a.sandbox("carnival").setResponseDelay(0);
    expect((await onA).data.updateAttributes).toMatchObject({ __typename: "AttributesUpdateSuccess", replayed: false });
    expect(onB.data.updateAttributes).toMatchObject({ __typename: "AttributesUpdateSuccess", replayed: true });
    expect(b.sandbox("carnival").requestCount()).toBe(sentByB);
  });

  it("answers AttributesIdempotencyKeyInProgressError on C when A's call outlasts C's wait, sending nothing", async () => {
    const sentByC = c.sandbox("carnival").requestCount();
    const { answer: onA } = await slowCallOnA("shared-3", 3, 1_500);
    const onC = await c.gql(QUERY, input("shared-3", 3));
    expect(onC.data.updateAttributes).toMatchObject({
      __typename: "AttributesIdempotencyKeyInProgressError",
      code: "IDEMPOTENCY_KEY_IN_PROGRESS",
      idempotencyKey: "shared-3",
      outcomeUnknown: false,
    });
    expect(onC.data.updateAttributes.message).toMatch(/still in progress/);
    await onA;
    a.sandbox("carnival").setResponseDelay(0);
    expect((await c.gql(QUERY, input("shared-3", 3))).data.updateAttributes).toMatchObject({ replayed: true });
    expect(c.sandbox("carnival").requestCount()).toBe(sentByC);
  });

  it("never resends a call whose replica was lost mid-call: repeats are told its outcome is unknown", async () => {
    const sentByB = b.sandbox("carnival").requestCount();
    const { answer: onA } = await slowCallOnA("shared-4", 4, 2_500);
    // A loses Redis mid-call (as if killed): its lease is not renewed, and its outcome is never recorded.
    aConnection.disconnect();
    const onB = await b.gql(QUERY, input("shared-4", 4));
    expect(onB.data.updateAttributes).toMatchObject({
      __typename: "AttributesIdempotencyKeyInProgressError",
      idempotencyKey: "shared-4",
      outcomeUnknown: true,
    });
    expect(onB.data.updateAttributes.message).toMatch(/what it sent is unknown/);
    expect(onB.data.updateAttributes.retryAfterSeconds).toBeGreaterThan(1);
    expect(b.sandbox("carnival").requestCount()).toBe(sentByB);
    // A's own caller still gets the outcome of what A sent, though A could not record it.
    expect((await onA).data.updateAttributes).toMatchObject({ __typename: "AttributesUpdateSuccess", replayed: false });
    expect(aErrors).toContain("complete");
    expect((await b.gql(QUERY, input("shared-4", 4))).data.updateAttributes).toMatchObject({ outcomeUnknown: true });
    expect(b.sandbox("carnival").requestCount()).toBe(sentByB);
  });
});
