/**
 * Heap held per idempotency key by the in-memory store (src/reliability/idempotency.ts), with the
 * results updateAttributes stores: what sizes the IDEMPOTENCY_MAX_KEYS default. One process,
 * nothing on the network; the heap is measured after full collections (hence --expose-gc).
 *
 *   npm run bench:idempotency [-- --keys=100000]
 */
import { randomUUID } from "node:crypto";
import type { DeliveryOutcome } from "../src/domain/results.js";
import { delivered, failed } from "../src/domain/results.js";
import { vendorFailure } from "../src/domain/failures.js";
import type { StoredUpdate } from "../src/graphql/context.js";
import { InMemoryIdempotencyStore, fingerprint, scopedKey } from "../src/reliability/idempotency.js";
import { round2 } from "./support/load.js";
import { table, writeOut } from "./support/out.js";
import { args } from "./support/setups.js";

const options = args();
const keys = Number(options.keys ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

/** What one call stores, by shape: one vendor delivered; four vendors, two of them failed with typical messages. */
const SHAPES: Record<string, (i: number) => readonly DeliveryOutcome[]> = {
  "1 vendor, delivered": () => [delivered("carnival", [], 202)],
  "4 vendors, 2 failed": (i) => [
    delivered(
      "carnival",
      [{ code: "KEY_NORMALIZED", message: `Carnival stores "my key ${i}" as "my_key_${i}"`, attribute: `my key ${i}` }],
      202,
    ),
    delivered("leanplum", [], 200),
    failed(
      vendorFailure("RATE_LIMITED", "jiguang", "Jiguang is rate limiting this project (HTTP 429, code 429 (请求过于频繁))", {
        httpStatus: 429,
        retryAfterSeconds: 1,
      }),
    ),
    failed(
      vendorFailure(
        "ATTRIBUTE_NOT_DEFINED",
        "usercom",
        `User.com refused "plan_${i}" while updating user "user-${i}": plan_${i}: attribute does not exist. Nothing was applied.`,
        { httpStatus: 400, attribute: `plan_${i}`, operation: "SET", retryable: false },
      ),
    ),
  ],
};

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

async function fill(outcomes: (i: number) => readonly DeliveryOutcome[], count: number): Promise<InMemoryIdempotencyStore<StoredUpdate>> {
  const store = new InMemoryIdempotencyStore<StoredUpdate>(86_400_000, count + 1);
  for (let i = 0; i < count; i++) {
    const userId = `user-${100_000 + i}`;
    // What the resolver stores: the user-scoped key and a fingerprint of the input, both digests.
    const begin = await store.begin(scopedKey(userId, randomUUID()), fingerprint({ userId, i }));
    if (begin.kind !== "first") throw new Error(`unexpected ${begin.kind}`);
    await begin.complete({ userId, outcomes: outcomes(i) });
  }
  return store;
}

// A warm-up pass of each shape first, so that compiled code and one-off allocations are not counted.
for (const outcomes of Object.values(SHAPES)) await fill(outcomes, 10_000);
const results: Array<{ shape: string; keys: number; bytesPerKey: number; totalMb: number }> = [];
for (const [shape, outcomes] of Object.entries(SHAPES)) {
  const before = heapUsed();
  const store = await fill(outcomes, keys);
  const after = heapUsed();
  results.push({
    shape,
    keys: store.size,
    bytesPerKey: Math.round((after - before) / keys),
    totalMb: round2((after - before) / 1_048_576),
  });
}

console.log(
  table(
    ["stored result", "keys", "heap per key (bytes)", "heap for all (MB)"],
    results.map((r) => [r.shape, r.keys, r.bytesPerKey, r.totalMb]),
  ),
);
console.log(`raw: ${writeOut("idempotency-memory", { date: new Date().toISOString(), node: process.version, results })}`);
