import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Redis } from "ioredis";
import { connectRedis, whenReady } from "../../src/redis/connection.js";
import { InMemoryIdempotencyStore, type IdempotencyBegin, type IdempotencyStore } from "../../src/reliability/idempotency.js";
import { RedisIdempotencyStore } from "../../src/reliability/redis-idempotency.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";

/**
 * The IdempotencyStore contract, run against every implementation: where their semantics are the
 * same, so are the tests. (What differs — the in-memory key limit, the shared store's waits, leases
 * and replicas — is tested in idempotency.test.ts and redis-idempotency.test.ts.)
 */
interface Result {
  readonly value: string;
  readonly at?: string;
}
type Begin = IdempotencyBegin<Result>;
type First = Extract<Begin, { kind: "first" }>;
type Replay = Extract<Begin, { kind: "replay" }>;

let redis: TestRedis | undefined;
let connection: Redis | undefined;
beforeAll(async () => {
  redis = await startTestRedis();
  connection = connectRedis({ url: redis.url, keyPrefix: "contract" }, "commands", "contract");
  await whenReady(connection, 5_000);
});
afterAll(async () => {
  connection?.disconnect();
  await stopTestRedis(redis);
});

const implementations: Array<[string, (windowMs: number) => IdempotencyStore<Result>]> = [
  ["InMemoryIdempotencyStore", (windowMs) => new InMemoryIdempotencyStore<Result>(windowMs, 1_000)],
  [
    "RedisIdempotencyStore",
    (windowMs) => new RedisIdempotencyStore<Result>(connection!, { keyPrefix: "contract", windowMs, inFlightWaitMs: 20_000 }),
  ],
];

let keys = 0;
const newKey = (): string => `key-${++keys}`;

function first(begin: Begin): First {
  if (begin.kind !== "first") throw new Error(`expected first, got ${begin.kind}`);
  return begin;
}
function replay(begin: Begin): Replay {
  if (begin.kind !== "replay") throw new Error(`expected replay, got ${begin.kind}`);
  return begin;
}

/** Begins until the key is forgotten (its window ended): bounded, no timing threshold. */
async function untilForgotten(store: IdempotencyStore<Result>, key: string): Promise<Begin> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const begin = await store.begin(key, "f");
    if (begin.kind !== "replay") return begin;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the key was not forgotten within 5 s");
}

describe.each(implementations)("%s (the IdempotencyStore contract)", (_name, make) => {
  it("claims a new key for the first caller, then replays its result without a claim", async () => {
    const store = make(60_000);
    const key = newKey();
    const claim = first(await store.begin(key, "f"));
    expect(claim.previous).toBeUndefined();
    await claim.complete({ value: "A", at: new Date(0).toISOString() });
    const again = replay(await store.begin(key, "f"));
    expect(await again.result).toEqual({ value: "A", at: "1970-01-01T00:00:00.000Z" });
  });

  it("refuses the same key with another fingerprint, in flight and settled", async () => {
    const store = make(60_000);
    const key = newKey();
    const claim = first(await store.begin(key, "f"));
    expect(await store.begin(key, "other")).toEqual({ kind: "conflict" });
    await claim.complete({ value: "A" });
    expect(await store.begin(key, "other")).toEqual({ kind: "conflict" });
  });

  it("gives a duplicate that arrives in flight the first call's outcome", async () => {
    const store = make(60_000);
    const key = newKey();
    const claim = first(await store.begin(key, "f"));
    const duplicate = store.begin(key, "f");
    await claim.complete({ value: "done" });
    expect(await replay(await duplicate).result).toEqual({ value: "done" });
  });

  it("gives exactly one of many concurrent callers the claim on a new key", async () => {
    const store = make(60_000);
    const key = newKey();
    const begins = Array.from({ length: 8 }, () => store.begin(key, "f"));
    // The claim answers first: the others wait for it (shared store) or replay its pending result.
    await first(await Promise.race(begins)).complete({ value: "one" });
    const all = await Promise.all(begins);
    expect(all.filter((b) => b.kind === "first")).toHaveLength(1);
    for (const begin of all.filter((b) => b.kind !== "first")) expect(await replay(begin).result).toEqual({ value: "one" });
  });

  it("hands a settled result to exactly one retaker, whose previous result it is; the others replay the newer run", async () => {
    const store = make(60_000);
    const key = newKey();
    await first(await store.begin(key, "f")).complete({ value: "old" });
    const [r1, r2, r3] = [replay(await store.begin(key, "f")), replay(await store.begin(key, "f")), replay(await store.begin(key, "f"))];
    const retakes = [r1.retake(), r2.retake(), r3.retake()];
    // The winner is whichever answers first; losers answer only once it settles (shared store) or at once with its pending result.
    const winner = first(await Promise.race(retakes));
    expect(winner.previous).toEqual({ value: "old" });
    await winner.complete({ value: "new" });
    const all = await Promise.all(retakes);
    expect(all.filter((b) => b.kind === "first")).toHaveLength(1);
    for (const loser of all.filter((b) => b !== winner)) expect(await replay(loser).result).toEqual({ value: "new" });
    expect(await replay(await store.begin(key, "f")).result).toEqual({ value: "new" });
  });

  it("keeps the previous result when a retake is abandoned", async () => {
    const store = make(60_000);
    const key = newKey();
    await first(await store.begin(key, "f")).complete({ value: "old" });
    const retake = first(await replay(await store.begin(key, "f")).retake());
    await retake.abandon();
    const after = replay(await store.begin(key, "f"));
    expect(await after.result).toEqual({ value: "old" });
    // It can be retaken again.
    expect(first(await after.retake()).previous).toEqual({ value: "old" });
  });

  it("answers a stale replay's retake with the newer result, not a claim", async () => {
    const store = make(60_000);
    const key = newKey();
    await first(await store.begin(key, "f")).complete({ value: "v1" });
    const stale = replay(await store.begin(key, "f"));
    await first(await replay(await store.begin(key, "f")).retake()).complete({ value: "v2" });
    expect(await replay(await stale.retake()).result).toEqual({ value: "v2" });
  });

  it("frees the key when a first call is abandoned", async () => {
    const store = make(60_000);
    const key = newKey();
    await first(await store.begin(key, "f")).abandon();
    const again = first(await store.begin(key, "other fingerprint is fine now"));
    expect(again.previous).toBeUndefined();
    await again.complete({ value: "B" });
  });

  it("forgets a key when its window ends, and only then", async () => {
    const store = make(60_000);
    const key = newKey();
    await first(await store.begin(key, "f")).complete({ value: "kept" });
    expect(await replay(await store.begin(key, "f")).result).toEqual({ value: "kept" });

    const short = make(100);
    const brief = newKey();
    await first(await short.begin(brief, "f")).complete({ value: "brief" });
    const after = first(await untilForgotten(short, brief));
    expect(after.previous).toBeUndefined();
    await after.abandon();
  });

  it("retakes a key whose window ended as a new first call", async () => {
    const store = make(100);
    const key = newKey();
    await first(await store.begin(key, "f")).complete({ value: "x" });
    const stale = replay(await store.begin(key, "f"));
    await untilForgotten(store, key).then((b) => first(b).abandon());
    const retaken = first(await stale.retake());
    expect(retaken.previous).toBeUndefined();
    await retaken.abandon();
  });
});
