/**
 * A/B of the vendor HTTP client alone (src/http/client.ts): the current build against another
 * build of the same file (e.g. the committed one, from bench/support/make-variant.ts), in one
 * process, alternating, each sending PUTs to the Carnival sandbox (in its own process) with 10 in
 * flight. Reports CPU microseconds per call of this process (process.cpuUsage), which is what a
 * change to the client can move. Not part of `npm run bench`.
 *
 *   npm run bench:build && node dist-bench/bench/support/make-variant.js before-http src/http/client.ts@HEAD
 *   node dist-bench/bench/http-client.js --other=dist-bench/variants/before-http/src/http/client.js [--calls=20000] [--rounds=6]
 */
import path from "node:path";
import { HttpClient as Current, basicAuth } from "../src/http/client.js";
import { median } from "./support/load.js";
import { startVendorsProcess } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args } from "./support/setups.js";

const options = args();
const calls = Number(options.calls ?? 20_000);
const rounds = Number(options.rounds ?? 6);
if (!options.other) throw new Error("--other=path/to/other/client.js is required");
const other = (await import(path.resolve(options.other))) as { HttpClient: typeof Current };

const vendors = await startVendorsProcess({
  vendors: ["carnival"],
  seedUsers: 100,
  rateLimits: { carnival: 1_000_000_000 },
});
const env = vendors.envs.carnival!;
const make = (Client: typeof Current) =>
  new Client({
    vendor: "carnival",
    baseUrl: env.CARNIVAL_API_URL!,
    timeoutMs: 10_000,
    retry: { limit: 2, baseDelayMs: 200, maxDelayMs: 2000, maxRetryAfterMs: 5000 },
    pacer: { acquire: () => Promise.resolve(), pause: () => undefined },
    headers: { authorization: basicAuth("", env.CARNIVAL_API_KEY!), accept: "application/json" },
  });
const clients = { current: make(Current), other: make(other.HttpClient) };

async function run(client: Current, n: number): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const result = await client.send({
        method: "PUT",
        path: `users/${(i % 100) + 1}`,
        json: { user: { custom: { plan: { type: "string", value: "gold" } } } },
        operation: "putUser",
        repeatSafe: true,
      });
      if (result.kind !== "response" || result.status !== 202) throw new Error(`unexpected ${JSON.stringify(result)}`);
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const results: Array<{ round: number; current: number; other: number }> = [];
try {
  await run(clients.current, 3000);
  await run(clients.other, 3000);
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? (["current", "other"] as const) : (["other", "current"] as const);
    const row = { round, current: 0, other: 0 };
    for (const name of order) row[name] = Math.round(await run(clients[name], calls));
    results.push(row);
    console.error(`round ${round}: current ${row.current} µs/call, other ${row.other} µs/call`);
  }
} finally {
  clients.current.close();
  clients.other.close();
  await vendors.close();
}
console.log(`\n## HTTP client A/B (${new Date().toISOString()}), ${calls} calls per round, 10 in flight\n`);
console.log(
  table(
    ["round", "current µs/call", "other µs/call", "current ÷ other"],
    results.map((r) => [r.round, r.current, r.other, (r.current / r.other).toFixed(3)]),
  ),
);
console.log(`\nmedian current ÷ other: ${median(results.map((r) => r.current / r.other)).toFixed(3)}`);
console.log(`raw figures: ${writeOut("http-client", { calls, rounds, results })}`);
