/**
 * Overhead of the subgraph (issue 9): updateAttributes for one vendor (Carnival sandbox, answering at
 * once, its rate limit and the adapter's pacing lifted) against (a) a bare Apollo Server resolver
 * making the same single got PUT to the same sandbox and (b) raw node:http answering the subgraph's
 * payload. Throughput and p50/p99 at 1, 10 and 50 connections, setups alternated within each round.
 *
 *   npm run bench:overhead -- [--duration=5] [--warmup=1] [--rounds=6] [--connections=1,10,50]
 *                             [--variants=NAME=path/to/main.js[+node-flag…][+ENV=value…],…] (extra subgraph builds,
 *                             e.g. from bench/support/make-variant.ts, or this build with other node
 *                             flags or environment, e.g. gc=dist-bench/src/main.js+--max-semi-space-size=32 or
 *                             quiet=dist-bench/src/main.js+LOG_LEVEL=warn; measured
 *                             in the same rounds)
 *                             [--rate=600] [--rate-connections=10,50] (then latency at a fixed request
 *                             rate below both servers' capacity; 0 skips it)
 *                             [--together-rate=200] (then the same, with every setup loaded at that rate
 *                             at the same time; 0 skips it)
 *                             [--together-connections=1,10,50] (closed loop with apollo and every build
 *                             loaded at the same time, each over that many connections: throughput
 *                             ratios that one stall of the shared machine cannot tilt; empty skips it)
 *                             [--node-args="--max-old-space-size=256"] (node flags for the subgraph and
 *                             the Apollo baseline alike, to compare under a deployment's flags, e.g. the
 *                             image's heap cap, like for like)
 *                             [--tail-connections=10,50] [--tail-rounds=5] [--tail-duration=8] [--tail-warmup=2]
 *                             (the closed-loop tail of issue 26: apollo and each build saturated in turn,
 *                             added p99 from every response's decimal latency; empty skips it)
 *                             [--diagnose] (the servers run bench/support/diagnostics.ts: GC, event-loop
 *                             delay and busy share of each tail window)
 *                             [--log-level=warn] (LOG_LEVEL of the subgraph; default info, as shipped)
 *
 * At a fixed number of connections sending as fast as they can, every server runs saturated and
 * latency is queueing (at a fixed concurrency it scales with 1/throughput), so the added-latency
 * target is also measured where it means per-request overhead: at a fixed rate both serve easily.
 */
import path from "node:path";
import { load, paced, quantile, type LoadResult } from "./support/load.js";
import { cpuMsOf, DIST, machineFacts, parallelCapacity, startSubgraph, type ServerProcess } from "./support/proc.js";
import { writeOut, table } from "./support/out.js";
import { args, BASELINE_MUTATION, nodeArgsOption, rotatingBodies, startOverheadSetup, updateBody } from "./support/setups.js";
import { BOOTSTRAP_ITERATIONS, median, medianInterval, pairedP99Difference, secondBlocks } from "./support/stats.js";
import { closedLoopTail, type TailRun } from "./support/tail.js";

const spread = (xs: number[], digits: number): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

const intervalText = ({ low, high }: { low: number; high: number }): string => `${low.toFixed(3)} to ${high.toFixed(3)}`;
/** Throughput target ≥ 0.8: met when the whole interval is, MISSED when none of it is. */
const verdict = ({ low, high }: { low: number; high: number }): string => (low >= 0.8 ? "met" : high < 0.8 ? "MISSED" : "not settled");
/** CPU microseconds per request of a process since `cpuMsBefore` (from /proc). */
const cpuUsPerRequest = (cpuMsBefore: number, pid: number, requests: number): number =>
  Math.round(((cpuMsOf(pid) - cpuMsBefore) * 1000) / Math.max(1, requests));

const options = args();
const durationSec = Number(options.duration ?? 5);
const warmupSec = Number(options.warmup ?? 1);
const rounds = Number(options.rounds ?? 6);
const connectionsList = (options.connections ?? "1,10,50").split(",").filter(Boolean).map(Number);
const fixedRate = Number(options.rate ?? 600);
const rateConnections = (options["rate-connections"] ?? "10,50").split(",").map(Number);
const togetherRate = Number(options["together-rate"] ?? 200);
const togetherConnectionsList = (options["together-connections"] ?? "1,10,50").split(",").filter(Boolean).map(Number);
const tailConnectionsList = (options["tail-connections"] ?? "").split(",").filter(Boolean).map(Number);
const diagnosticsFile = options.diagnose === "true" ? path.resolve(DIST, "../bench/out/logs", `diagnostics-${process.pid}`) : undefined;
const diagnosticsArgs = diagnosticsFile ? [`--import=${path.join(DIST, "bench/support/diagnostics.js")}`] : [];

type SetupName = string;
// Measured before the servers start: what the cores give two busy processes at once.
const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };
const sharedNodeArgs = nodeArgsOption(options);
const setup = await startOverheadSetup({
  baselines: true,
  subgraphNodeArgs: [...sharedNodeArgs, ...diagnosticsArgs],
  apolloNodeArgs: [...sharedNodeArgs, ...diagnosticsArgs],
  env: {
    ...(options["log-level"] ? { LOG_LEVEL: options["log-level"] } : {}),
    ...(diagnosticsFile ? { DIAGNOSTICS_FILE: diagnosticsFile } : {}),
  },
});
const variants: Record<string, ServerProcess> = {};
for (const spec of (options.variants ?? "").split(",").filter(Boolean)) {
  const [name, build] = [spec.slice(0, spec.indexOf("=")), spec.slice(spec.indexOf("=") + 1)];
  const [main, ...extras] = build.split("+");
  // "+--flag" is a node flag, "+NAME=value" an environment variable of that variant only.
  const nodeFlags = extras.filter((extra) => extra.startsWith("-"));
  const env = Object.fromEntries(
    extras
      .filter((extra) => !extra.startsWith("-"))
      .map((extra) => [extra.slice(0, extra.indexOf("=")), extra.slice(extra.indexOf("=") + 1)]),
  );
  variants[name] = await startSubgraph({ ...setup.subgraphEnv, ...env }, [...diagnosticsArgs, ...nodeFlags], main);
}
const urls: Record<SetupName, string> = {
  raw: setup.raw!.url,
  apollo: setup.apollo!.url,
  subgraph: setup.subgraph.url,
  ...Object.fromEntries(Object.entries(variants).map(([n, p]) => [n, p.url])),
};
const subgraphBody = rotatingBodies(1000, updateBody(["CARNIVAL"]));
const bodies: Record<SetupName, () => string> = {
  subgraph: subgraphBody,
  apollo: rotatingBodies(1000, (userId) => ({ query: BASELINE_MUTATION, variables: { userId } })),
  raw: rotatingBodies(1000, updateBody(["CARNIVAL"])),
  ...Object.fromEntries(Object.keys(variants).map((n) => [n, rotatingBodies(1000, updateBody(["CARNIVAL"]))])),
};
const subgraphs = ["subgraph", ...Object.keys(variants)];
// The sandbox alone, sent the PUT both servers make: the part of their tails that is upstream's.
const carnivalEnv = setup.subgraphEnv;
const upstreamUrl = new URL(`${carnivalEnv.CARNIVAL_API_URL!.replace(/\/$/, "")}/users/`);
let upstreamUser = 0;
const upstream = {
  url: upstreamUrl.href,
  // Users 1..1000 in turn, as the servers' bodies rotate, so the sandbox sees the same work from every setup.
  path: () => `${upstreamUrl.pathname}${(upstreamUser++ % 1000) + 1}`,
  method: "PUT",
  headers: { authorization: `Basic ${Buffer.from(`:${carnivalEnv.CARNIVAL_API_KEY!}`).toString("base64")}`, accept: "application/json" },
  body: JSON.stringify({ user: { custom: { plan: { type: "string", value: "gold" } } } }),
};

const pids: Record<SetupName, number> = {
  raw: setup.raw!.pid,
  apollo: setup.apollo!.pid,
  subgraph: setup.subgraph.pid,
  ...Object.fromEntries(Object.entries(variants).map(([n, p]) => [n, p.pid])),
};
type Measured = LoadResult & {
  setup: SetupName;
  round: number;
  serverCpuUsPerRequest: number;
  sandboxCpuUsPerRequest: number;
};
const results: Measured[] = [];
const togetherIntervals: Array<Array<string | number>> = [];
let tail: { runs: TailRun[]; rows: Array<Array<string | number>> } | undefined;
try {
  // JIT warm-up of every setup before any measurement.
  for (const name of Object.keys(urls)) await load({ url: urls[name]!, connections: 10, durationSec: 3, body: bodies[name]! });
  if (tailConnectionsList.length > 0) {
    tail = await closedLoopTail({
      setups: ["apollo", ...subgraphs].map((name) => ({ name, url: urls[name]!, body: bodies[name]!, pid: pids[name]! })),
      baseline: "apollo",
      connectionsList: tailConnectionsList,
      rounds: Number(options["tail-rounds"] ?? 5),
      durationSec: Number(options["tail-duration"] ?? 8),
      warmupSec: Number(options["tail-warmup"] ?? 2),
      ...(diagnosticsFile ? { diagnosticsFile } : {}),
    });
  }
  for (const connections of connectionsList) {
    for (let round = 1; round <= rounds; round++) {
      // Alternate the order each round so drift on the shared machine does not favour one setup.
      const forward: SetupName[] = ["raw", "apollo", ...subgraphs];
      const order: SetupName[] = round % 2 === 1 ? forward : [...forward].reverse();
      for (const name of order) {
        await load({ url: urls[name]!, connections, durationSec: warmupSec, body: bodies[name]! });
        const cpuBefore = { server: cpuMsOf(pids[name]!), sandbox: cpuMsOf(setup.vendors.pid) };
        const result = await load({
          url: urls[name]!,
          connections,
          durationSec,
          body: bodies[name]!,
        });
        const measured = {
          ...result,
          setup: name,
          round,
          serverCpuUsPerRequest: cpuUsPerRequest(cpuBefore.server, pids[name]!, result.requests),
          sandboxCpuUsPerRequest: cpuUsPerRequest(cpuBefore.sandbox, setup.vendors.pid, result.requests),
        };
        results.push(measured);
        console.error(
          `c=${connections} round ${round} ${name}: ${result.rps} req/s p50 ${result.p50} ms p99 ${result.p99} ms, server CPU ${measured.serverCpuUsPerRequest} µs/req, sandbox CPU ${measured.sandboxCpuUsPerRequest} µs/req, non2xx ${result.non2xx} errors ${result.errors}`,
        );
      }
    }
  }
  // Closed loop with apollo and every build saturated at the same time: they share the machine's
  // CPU second by second, so another job's burst slows all of them at once and the ratio of what
  // each completed is their relative cost per request, not the luck of their 5-second slots.
  const closedTogether: Array<Measured> = [];
  const together: SetupName[] = ["apollo", ...subgraphs];
  for (const connections of togetherConnectionsList) {
    for (let round = 1; round <= rounds; round++) {
      const run = (durationSec: number) =>
        Promise.all(together.map((name) => load({ url: urls[name]!, connections, durationSec, body: bodies[name]! })));
      await run(warmupSec);
      const cpuBefore = Object.fromEntries([
        ...together.map((name) => [name, cpuMsOf(pids[name]!)]),
        ["sandbox", cpuMsOf(setup.vendors.pid)],
      ]);
      const measured = await run(durationSec);
      // The sandbox served every setup at once: its CPU per request is over all of them.
      const sandboxCpuUs = cpuUsPerRequest(
        cpuBefore.sandbox,
        setup.vendors.pid,
        measured.reduce((n, r) => n + r.requests, 0),
      );
      measured.forEach((result, i) => {
        const name = together[i]!;
        closedTogether.push({
          ...result,
          setup: name,
          round,
          serverCpuUsPerRequest: cpuUsPerRequest(cpuBefore[name], pids[name]!, result.requests),
          sandboxCpuUsPerRequest: sandboxCpuUs,
        });
      });
      console.error(
        `together closed loop c=${connections} round ${round}: ${measured.map((r, i) => `${together[i]} ${r.rps} req/s p99 ${r.p99} ms`).join(", ")}`,
      );
    }
  }
  const pacedSetup = (name: SetupName, connections: number, durationSec: number, overallRate: number) =>
    name === "upstream"
      ? paced({ ...upstream, connections, durationSec, overallRate })
      : paced({ url: urls[name]!, connections, durationSec, body: bodies[name]!, overallRate });
  // Latency at a fixed rate: the same setups, alternating, none of them saturated.
  const atRate: Array<LoadResult & { setup: SetupName; round: number }> = [];
  // Every round's latencies per setup: one round's p99 is its 30th-worst request, which a single
  // pause decides; the p99 of all rounds' requests together is a steadier estimate.
  const pooled = new Map<string, number[]>();
  if (fixedRate > 0) {
    for (const connections of rateConnections) {
      for (let round = 1; round <= rounds; round++) {
        // raw (answers in ~0.1 ms) shows the floor: the tail the generator and the machine add by themselves.
        // upstream (the sandbox alone) shows what of the servers' tails they inherit from their one call.
        const forward: SetupName[] = ["raw", "upstream", "apollo", ...subgraphs];
        for (const name of round % 2 === 1 ? forward : [...forward].reverse()) {
          await pacedSetup(name, connections, warmupSec, fixedRate);
          const { latencies, dueSeconds: _dueSeconds, ...result } = await pacedSetup(name, connections, durationSec, fixedRate);
          atRate.push({ ...result, setup: name, round });
          const all = pooled.get(`${connections}/${name}`) ?? [];
          for (const latency of latencies) all.push(latency);
          pooled.set(`${connections}/${name}`, all);
          console.error(
            `rate ${fixedRate}/s c=${connections} round ${round} ${name}: ${result.rps} req/s p50 ${result.p50} ms p99 ${result.p99} ms`,
          );
        }
      }
    }
  }
  // Latency with every setup under load at the same time: a stall of the shared machine (another
  // job, the sandbox's GC, the generator's) then lands on all setups at once instead of on whichever
  // ran in that 5-second slot, so the difference of tails is the servers' own.
  const atRateTogether: Array<LoadResult & { setup: SetupName; round: number }> = [];
  const pooledTogether = new Map<string, number[]>();
  // One-second blocks of each setup's latencies, in firing order, aligned across setups: the pairs a
  // bootstrap resamples (requests sent in the same second met the same machine).
  const blocksTogether = new Map<string, Map<string, number[]>>();
  if (togetherRate > 0) {
    const names: SetupName[] = ["raw", "upstream", "apollo", ...subgraphs];
    for (const connections of rateConnections) {
      for (let round = 1; round <= rounds; round++) {
        const run = (durationSec: number) => Promise.all(names.map((name) => pacedSetup(name, connections, durationSec, togetherRate)));
        await run(warmupSec);
        const measured = await run(durationSec);
        measured.forEach(({ latencies, dueSeconds, ...result }, i) => {
          const name = names[i]!;
          atRateTogether.push({ ...result, setup: name, round });
          const all = pooledTogether.get(`${connections}/${name}`) ?? [];
          for (const latency of latencies) all.push(latency);
          pooledTogether.set(`${connections}/${name}`, all);
          const blocks = blocksTogether.get(`${connections}/${name}`) ?? new Map<string, number[]>();
          for (const [key, block] of secondBlocks(round, latencies, dueSeconds)) blocks.set(key, block);
          blocksTogether.set(`${connections}/${name}`, blocks);
        });
        console.error(
          `together ${togetherRate}/s each c=${connections} round ${round}: ${measured.map((r, i) => `${names[i]} p50 ${r.p50} p99 ${r.p99}`).join(", ")}`,
        );
      }
    }
  }
  const stats = await setup.vendors.settledStats();
  const summary = connectionsList.map((connections) => {
    const of = (name: SetupName) => results.filter((r) => r.setup === name && r.connections === connections);
    const perRound = Array.from({ length: rounds }, (_, i) => i).flatMap((i) =>
      subgraphs.map((name) => {
        const s = of(name)[i]!;
        const a = of("apollo")[i]!;
        const r = of("raw")[i]!;
        return {
          round: i + 1,
          subgraph: name,
          ratioVsApollo: s.rps / a.rps,
          ratioVsRaw: s.rps / r.rps,
          addedP50VsApollo: s.p50 - a.p50,
          addedP99VsApollo: s.p99 - a.p99,
          cpuRatioVsApollo: s.serverCpuUsPerRequest / a.serverCpuUsPerRequest,
        };
      }),
    );
    return { connections, perRound };
  });
  // Medians over rounds of each setup's figures, and of the per-round ratios (each round's setups ran back to back).
  const setupRows = connectionsList.flatMap((connections) =>
    ["raw", "apollo", ...subgraphs].map((name) => {
      const rs = results.filter((r) => r.setup === name && r.connections === connections);
      return [
        connections,
        name,
        Math.round(median(rs.map((r) => r.rps))),
        spread(
          rs.map((r) => r.rps),
          0,
        ),
        median(rs.map((r) => r.p50)).toFixed(2),
        median(rs.map((r) => r.p99)).toFixed(2),
        Math.round(median(rs.map((r) => r.serverCpuUsPerRequest))),
        name === "raw" ? "-" : Math.round(median(rs.map((r) => r.sandboxCpuUsPerRequest))),
        rs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
      ];
    }),
  );
  const ratioRows = summary.flatMap((s) =>
    subgraphs.map((name) => {
      const ps = s.perRound.filter((p) => p.subgraph === name);
      const ratio = median(ps.map((p) => p.ratioVsApollo));
      const addedP99 = median(ps.map((p) => p.addedP99VsApollo));
      return [
        s.connections,
        name,
        ratio.toFixed(3),
        spread(
          ps.map((p) => p.ratioVsApollo),
          2,
        ),
        intervalText(medianInterval(ps.map((p) => p.ratioVsApollo))),
        median(ps.map((p) => p.ratioVsRaw)).toFixed(3),
        median(ps.map((p) => p.addedP50VsApollo)).toFixed(2),
        addedP99.toFixed(2),
        spread(
          ps.map((p) => p.addedP99VsApollo),
          1,
        ),
        median(ps.map((p) => p.cpuRatioVsApollo)).toFixed(2),
        ratio >= 0.8 && addedP99 <= 2 ? "met" : "MISSED",
      ];
    }),
  );
  const rows = [...results, ...closedTogether.map((r) => ({ ...r, setup: `${r.setup} (together)` }))].map((r) => [
    r.connections,
    r.round,
    r.setup,
    r.rps,
    r.p50,
    r.p99,
    r.serverCpuUsPerRequest,
    r.setup === "raw" ? "-" : r.sandboxCpuUsPerRequest,
    r.non2xx + r.errors + r.timeouts,
  ]);
  const subgraphRequests = results.filter((r) => r.setup === "subgraph").reduce((n, r) => n + r.requests, 0);
  console.log(`\n## Overhead (${new Date().toISOString()})\n`);
  console.log(`machine: ${JSON.stringify(facts)}\n`);
  console.log(`Medians over ${rounds} rounds of ${durationSec} s per setup (range in brackets columns):\n`);
  console.log(
    table(
      ["c", "setup", "req/s", "req/s range", "p50 ms", "p99 ms", "server CPU µs/req", "sandbox CPU µs/req", "errors+non2xx"],
      setupRows,
    ),
  );
  console.log();
  console.log(
    table(
      [
        "c",
        "build",
        "req/s ÷ apollo (median of rounds)",
        "range",
        "95% interval of the median",
        "req/s ÷ raw",
        "added p50 ms",
        "added p99 ms",
        "range",
        "server CPU/req ÷ apollo's",
        "target (≥0.8, ≤2 ms)",
      ],
      ratioRows,
    ),
  );
  const togetherRows = togetherConnectionsList.flatMap((connections) =>
    subgraphs.map((name) => {
      const of = (setupName: SetupName) => closedTogether.filter((r) => r.setup === setupName && r.connections === connections);
      const pairs = of(name).map((r, i) => ({ build: r, apollo: of("apollo")[i]! }));
      const ratios = pairs.map((p) => p.build.rps / p.apollo.rps);
      const ratio = median(ratios);
      const interval = medianInterval(ratios);
      return [
        connections,
        name,
        Math.round(median(pairs.map((p) => p.apollo.rps))),
        Math.round(median(pairs.map((p) => p.build.rps))),
        ratio.toFixed(3),
        spread(ratios, 2),
        intervalText(interval),
        median(pairs.map((p) => p.build.serverCpuUsPerRequest / p.apollo.serverCpuUsPerRequest)).toFixed(2),
        pairs.reduce(
          (n, p) => n + p.build.non2xx + p.build.errors + p.build.timeouts + p.apollo.non2xx + p.apollo.errors + p.apollo.timeouts,
          0,
        ),
        verdict(interval),
      ];
    }),
  );
  if (togetherRows.length > 0) {
    console.log(`\nThroughput with apollo and every build loaded at the same time, closed loop (medians over ${rounds} rounds):\n`);
    console.log(
      table(
        [
          "c (each)",
          "build",
          "apollo req/s",
          "build req/s",
          "req/s ÷ apollo (median of rounds)",
          "range",
          "95% interval of the median",
          "server CPU/req ÷ apollo's",
          "errors+non2xx",
          "target (≥0.8: met if the whole interval is)",
        ],
        togetherRows,
      ),
    );
  }
  if (atRate.length > 0) {
    console.log(
      `\nLatency at a fixed ${fixedRate} req/s, setups one after another (medians over ${rounds} rounds; raw's, apollo's and each build's, same rounds):\n`,
    );
    console.log(rateTable(atRate, pooled, fixedRate));
  }
  if (atRateTogether.length > 0) {
    console.log(
      `\nLatency at ${togetherRate} req/s per setup, every setup loaded at the same time (${togetherRate * (3 + subgraphs.length)} req/s in all; medians over ${rounds} rounds):\n`,
    );
    console.log(rateTable(atRateTogether, pooledTogether, togetherRate));
    console.log(
      `\nAdded p99 (build − apollo, all requests), same run, with a 95% interval from ${BOOTSTRAP_ITERATIONS} paired resamples of one-second blocks:\n`,
    );
    const intervalRows = rateConnections.flatMap((connections) =>
      subgraphs.map((name) => {
        const build = blocksTogether.get(`${connections}/${name}`)!;
        const apollo = blocksTogether.get(`${connections}/apollo`)!;
        const { estimate, low, high, pairs } = pairedP99Difference(build, apollo, BOOTSTRAP_ITERATIONS);
        return [
          connections,
          togetherRate,
          name,
          pairs,
          estimate.toFixed(2),
          `${low.toFixed(2)} to ${high.toFixed(2)}`,
          high <= 2 ? "met" : low > 2 ? "MISSED" : "not settled",
        ];
      }),
    );
    console.log(
      table(
        [
          "c",
          "req/s per setup",
          "build",
          "paired seconds",
          "added p99 ms",
          "95% interval ms",
          "target (≤2 ms: met if the whole interval is)",
        ],
        intervalRows,
      ),
    );
    togetherIntervals.push(...intervalRows);
  }
  console.log("\nEvery run:\n");
  console.log(
    table(["c", "round", "setup", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "sandbox CPU µs/req", "errors+non2xx"], rows),
  );
  console.log(
    `\nCarnival sandbox answers: ${JSON.stringify(stats.carnival?.statuses)} (measured subgraph requests: ${subgraphRequests}, plus warm-ups and the baseline's)`,
  );
  console.log(`subgraph warnings logged: ${setup.subgraph.warnings().length}`);
  const file = writeOut("overhead", {
    facts,
    options: { durationSec, warmupSec, rounds, connectionsList, fixedRate, rateConnections, togetherRate, togetherConnectionsList },
    results,
    closedTogether,
    togetherRows,
    atRate,
    atRateTogether,
    togetherIntervals,
    tail,
    summary,
    sandbox: stats,
  });
  console.log(`raw figures: ${file}`);
} finally {
  await Promise.all(Object.values(variants).map((v) => v.close()));
  await setup.close();
}

/** Fixed-rate latencies of every build against the apollo baseline and the raw floor, per round and pooled. */
function rateTable(
  runs: ReadonlyArray<LoadResult & { setup: SetupName; round: number }>,
  pooled: Map<string, number[]>,
  rate: number,
): string {
  const pooledP99 = new Map(
    [...pooled].map(([key, latencies]) => [
      key,
      quantile(
        latencies.sort((a, b) => a - b),
        0.99,
      ),
    ]),
  );
  const rows = rateConnections.flatMap((connections) => {
    const of = (name: SetupName) => runs.filter((r) => r.setup === name && r.connections === connections);
    return subgraphs.map((name) => {
      const added = (key: "p50" | "p99") => of(name).map((r, i) => r[key] - of("apollo")[i]![key]);
      const addedP99 = median(added("p99"));
      const [rawPooled, upstreamPooled, apolloPooled, buildPooled] = ["raw", "upstream", "apollo", name].map((setup) =>
        pooledP99.get(`${connections}/${setup}`)!,
      );
      const addedPooledP99 = buildPooled! - apolloPooled!;
      return [
        connections,
        rate,
        name,
        Math.round(median(of(name).map((r) => r.rps))),
        median(of("raw").map((r) => r.p50)).toFixed(2),
        median(of("raw").map((r) => r.p99)).toFixed(2),
        median(of("upstream").map((r) => r.p50)).toFixed(2),
        median(of("upstream").map((r) => r.p99)).toFixed(2),
        median(of("apollo").map((r) => r.p50)).toFixed(2),
        median(of(name).map((r) => r.p50)).toFixed(2),
        median(of("apollo").map((r) => r.p99)).toFixed(2),
        median(of(name).map((r) => r.p99)).toFixed(2),
        median(added("p50")).toFixed(2),
        addedP99.toFixed(2),
        spread(added("p99"), 1),
        `${rawPooled!.toFixed(2)} / ${upstreamPooled!.toFixed(2)} / ${apolloPooled!.toFixed(2)} / ${buildPooled!.toFixed(2)}`,
        addedPooledP99.toFixed(2),
        addedPooledP99 <= 2 ? "met" : "MISSED",
      ];
    });
  });
  return table(
    [
      "c",
      "req/s asked",
      "build",
      "req/s served",
      "raw p50 ms",
      "raw p99 ms",
      "upstream p50 ms",
      "upstream p99 ms",
      "apollo p50 ms",
      "p50 ms",
      "apollo p99 ms",
      "p99 ms",
      "added p50 ms",
      "added p99 ms (median of rounds)",
      "range",
      "p99 of all rounds' requests: raw / upstream / apollo / build",
      "added p99 ms (all requests)",
      "target (≤2 ms)",
    ],
    rows,
  );
}
