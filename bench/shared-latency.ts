/**
 * Shared mode (issue 22): the latency a single updateAttributes call gains with REDIS_URL. Two
 * subgraphs (the real entry point, `npm start`'s flags) against the same Carnival sandbox (its own
 * process, limit lifted, CARNIVAL_RATE_LIMIT lifted as in bench/overhead.ts): `in-process` without
 * REDIS_URL, `shared` with REDIS_URL (a redis-server of its own; BULK_WORKER left at its default, so
 * an idle bulk worker runs in it as in a default replica). In shared mode every call takes its slot
 * from the Lua budget in Redis, one round trip at these rates. bench/overhead.ts's machinery:
 *
 * 1. one after another at a fixed, evenly spaced `--rate` (latency from the moment each request was
 *    due), over 10 and 50 connections, order alternated each round: p50/p99 per round, the median of
 *    the per-round differences, and the p99 of every round's requests pooled;
 * 2. every build loaded at the same time at `--together-rate` each: the added p99 over all requests with a
 *    95% interval from paired resamples of one-second blocks (support/stats.ts), which a stall of the
 *    shared machine, hitting both in the same second, cannot tilt.
 *
 *   npm run bench:shared:latency -- [--rounds=8] [--duration=5] [--warmup=1] [--rate=200]
 *        [--together-rate=200] [--connections=10,50] [--env=NAME=value,…] (more variables for every subgraph)
 *        [--variants=NAME=dist-bench/variants/NAME/src/main.js,…] (more shared-mode builds, e.g. before a
 *        change, from support/make-variant.ts: measured in the same rounds, compared with in-process and
 *        with `shared`)
 */
import { paced, quantile, type LoadResult } from "./support/load.js";
import {
  cpuMsOf,
  machineFacts,
  parallelCapacity,
  startSubgraph,
  startVendorsProcess,
  subgraphEnv,
  type ServerProcess,
} from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { startBenchRedis } from "./support/redis-server.js";
import { args, rotatingBodies, updateBody } from "./support/setups.js";
import { envOption } from "./support/shared.js";
import { BOOTSTRAP_ITERATIONS, median, pairedP99Difference, secondBlocks } from "./support/stats.js";

const options = args();
const rounds = Number(options.rounds ?? 8);
const durationSec = Number(options.duration ?? 5);
const warmupSec = Number(options.warmup ?? 1);
const rate = Number(options.rate ?? 200);
const togetherRate = Number(options["together-rate"] ?? 200);
const connectionsList = (options.connections ?? "10,50").split(",").filter(Boolean).map(Number);
const variants = Object.fromEntries(
  (options.variants ?? "")
    .split(",")
    .filter(Boolean)
    .map((spec) => [spec.slice(0, spec.indexOf("=")), spec.slice(spec.indexOf("=") + 1)]),
);
const SETUPS: string[] = ["in-process", "shared", ...Object.keys(variants)];
/** Every build in shared mode, each compared with in-process. */
const SHARED = SETUPS.slice(1);
type Setup = string;

const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };
const redis = await startBenchRedis();
const vendors = await startVendorsProcess({ vendors: ["carnival"], seedUsers: 1000, rateLimits: { carnival: 1_000_000_000 } });
const env = { ...vendors.envs.carnival, CARNIVAL_RATE_LIMIT: "1000000000", ...envOption(options) };
const servers = new Map<Setup, ServerProcess>();
servers.set("in-process", await startSubgraph(subgraphEnv(env)));
servers.set("shared", await startSubgraph(subgraphEnv({ ...env, REDIS_URL: redis.url })));
for (const [name, main] of Object.entries(variants))
  servers.set(name, await startSubgraph(subgraphEnv({ ...env, REDIS_URL: redis.url }), [], main));
const bodies = new Map(SETUPS.map((name) => [name, rotatingBodies(1000, updateBody(["CARNIVAL"]))]));
const notDelivered = new Map(SETUPS.map((name) => [name, 0]));
const run = (name: Setup, connections: number, seconds: number, overallRate: number) =>
  paced({
    url: servers.get(name)!.url,
    connections,
    durationSec: seconds,
    overallRate,
    body: bodies.get(name)!,
    onBody: (status, text) => {
      if (status !== 200 || !text.includes('"allDelivered":true')) notDelivered.set(name, notDelivered.get(name)! + 1);
    },
  });

type Measured = LoadResult & { setup: Setup; round: number; serverCpuUsPerRequest: number; redisCpuUsPerRequest: number };
const oneAfterAnother: Measured[] = [];
const pooled = new Map<string, number[]>();
const together: Array<LoadResult & { setup: Setup; round: number }> = [];
const blocks = new Map<string, Map<string, number[]>>();
try {
  for (const name of SETUPS) await run(name, 10, 3, rate); // JIT warm-up
  for (const connections of connectionsList) {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? SETUPS : [...SETUPS].reverse();
      for (const name of order) {
        await run(name, connections, warmupSec, rate);
        const pid = servers.get(name)!.pid;
        const cpu = { server: cpuMsOf(pid), redis: cpuMsOf(redis.pid) };
        const { latencies, dueSeconds: _due, ...result } = await run(name, connections, durationSec, rate);
        const requests = Math.max(1, result.requests);
        oneAfterAnother.push({
          ...result,
          setup: name,
          round,
          serverCpuUsPerRequest: Math.round(((cpuMsOf(pid) - cpu.server) * 1000) / requests),
          redisCpuUsPerRequest: Math.round(((cpuMsOf(redis.pid) - cpu.redis) * 1000) / requests),
        });
        const all = pooled.get(`${connections}/${name}`) ?? [];
        for (const latency of latencies) all.push(latency);
        pooled.set(`${connections}/${name}`, all);
        console.error(`[latency] ${rate}/s c=${connections} round ${round} ${name}: p50 ${result.p50} p99 ${result.p99} ms`);
      }
    }
  }
  if (togetherRate > 0) {
    for (const connections of connectionsList) {
      for (let round = 1; round <= rounds; round++) {
        const both = (seconds: number) => Promise.all(SETUPS.map((name) => run(name, connections, seconds, togetherRate)));
        await both(warmupSec);
        const measured = await both(durationSec);
        measured.forEach(({ latencies, dueSeconds, ...result }, i) => {
          const name = SETUPS[i]!;
          together.push({ ...result, setup: name, round });
          const byBlock = blocks.get(`${connections}/${name}`) ?? new Map<string, number[]>();
          for (const [key, block] of secondBlocks(round, latencies, dueSeconds)) byBlock.set(key, block);
          blocks.set(`${connections}/${name}`, byBlock);
        });
        console.error(
          `[latency] together ${togetherRate}/s each c=${connections} round ${round}: ${measured.map((r, i) => `${SETUPS[i]} p50 ${r.p50} p99 ${r.p99}`).join(", ")}`,
        );
      }
    }
  }
} finally {
  await Promise.all([...servers.values()].map((s) => s.close()));
  await vendors.close();
  await redis.stop();
}

/** Each shared-mode build against in-process, and every later build against `shared`. */
const pairsToCompare: Array<[Setup, Setup]> = [
  ...SHARED.map((name): [Setup, Setup] => [name, "in-process"]),
  ...SHARED.slice(1).map((name): [Setup, Setup] => [name, "shared"]),
];
const sequentialRows = connectionsList.flatMap((connections) =>
  pairsToCompare.map(([build, base]) => {
    const of = (name: Setup) => oneAfterAnother.filter((r) => r.setup === name && r.connections === connections);
    const added = (key: "p50" | "p99") => of(build).map((r, i) => r[key] - of(base)[i]![key]);
    const sorted = (name: Setup) => (pooled.get(`${connections}/${name}`) ?? []).sort((a, b) => a - b);
    const pooledQ = (name: Setup, q: number) => quantile(sorted(name), q);
    return [
      connections,
      rate,
      `${build} − ${base}`,
      `${median(of(base).map((r) => r.p50)).toFixed(2)} / ${median(of(build).map((r) => r.p50)).toFixed(2)}`,
      `${median(of(base).map((r) => r.p99)).toFixed(2)} / ${median(of(build).map((r) => r.p99)).toFixed(2)}`,
      median(added("p50")).toFixed(2),
      median(added("p99")).toFixed(2),
      `${Math.min(...added("p99")).toFixed(2)} to ${Math.max(...added("p99")).toFixed(2)}`,
      `${pooledQ(base, 0.5).toFixed(2)} / ${pooledQ(build, 0.5).toFixed(2)}`,
      `${pooledQ(base, 0.99).toFixed(2)} / ${pooledQ(build, 0.99).toFixed(2)}`,
      (pooledQ(build, 0.99) - pooledQ(base, 0.99)).toFixed(2),
      `${median(of(base).map((r) => r.serverCpuUsPerRequest))} / ${median(of(build).map((r) => r.serverCpuUsPerRequest))}`,
      median(of(build).map((r) => r.redisCpuUsPerRequest)),
    ];
  }),
);
const togetherRows = connectionsList.flatMap((connections) =>
  pairsToCompare.map(([build, base]) => {
    const of = (name: Setup) => together.filter((r) => r.setup === name && r.connections === connections);
    const { estimate, low, high, pairs } = pairedP99Difference(
      blocks.get(`${connections}/${build}`)!,
      blocks.get(`${connections}/${base}`)!,
      BOOTSTRAP_ITERATIONS,
    );
    return [
      connections,
      togetherRate,
      `${build} − ${base}`,
      `${median(of(base).map((r) => r.p50)).toFixed(2)} / ${median(of(build).map((r) => r.p50)).toFixed(2)}`,
      `${median(of(base).map((r) => r.p99)).toFixed(2)} / ${median(of(build).map((r) => r.p99)).toFixed(2)}`,
      pairs,
      estimate.toFixed(2),
      `${low.toFixed(2)} to ${high.toFixed(2)}`,
    ];
  }),
);

console.log(`\n## Shared mode: added latency of a single update (${new Date().toISOString()})\n`);
console.log(`machine: ${JSON.stringify(facts)}\n`);
console.log(`One after another at ${rate} req/s, ${rounds} rounds of ${durationSec} s, order alternated (medians over rounds):\n`);
console.log(
  table(
    [
      "c",
      "req/s",
      "build − baseline",
      "p50 ms (baseline / build)",
      "p99 ms (baseline / build)",
      "added p50 ms",
      "added p99 ms (median of rounds)",
      "range",
      "p50 of all requests (baseline / build)",
      "p99 of all requests (baseline / build)",
      "added p99 ms (all requests)",
      "server CPU µs/req (baseline / build)",
      "Redis CPU µs/req (build)",
    ],
    sequentialRows,
  ),
);
if (togetherRows.length > 0) {
  console.log(
    `\nEvery build loaded at the same time at ${togetherRate} req/s each, ${rounds} rounds; added p99 (all requests) with a 95% interval from ${BOOTSTRAP_ITERATIONS} paired resamples of one-second blocks:\n`,
  );
  console.log(
    table(
      [
        "c",
        "req/s each",
        "build − baseline",
        "p50 ms (baseline / build)",
        "p99 ms (baseline / build)",
        "paired seconds",
        "added p99 ms",
        "95% interval ms",
      ],
      togetherRows,
    ),
  );
}
console.log(`\nnot delivered (non-200 or allDelivered ≠ true): ${JSON.stringify(Object.fromEntries(notDelivered))}`);
console.log(
  `raw figures: ${writeOut("shared-latency", { facts, options: { rounds, durationSec, warmupSec, rate, togetherRate, connectionsList }, oneAfterAnother, together, sequentialRows, togetherRows, notDelivered: Object.fromEntries(notDelivered) })}`,
);
