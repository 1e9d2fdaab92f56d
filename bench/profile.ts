/**
 * CPU profiles of the hot path (issue 9): the overhead benchmark's updateAttributes for Carnival,
 * and the bare Apollo baseline making the same got PUT, each under `node --cpu-prof` at the same
 * concurrency, back to back. Prints CPU microseconds per request by package/source folder for both,
 * so what the subgraph adds stands out, and the subgraph's top functions. The .cpuprofile files
 * are kept in bench/out/profiles/.
 *
 *   npm run bench:profile -- [--duration=12] [--connections=10] [--log-level=warn] (the subgraph's LOG_LEVEL; default info)
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { load, type LoadResult } from "./support/load.js";
import { summarize, type ProfileSummary } from "./support/cpuprofile.js";
import { OUT_DIR, table, writeOut } from "./support/out.js";
import { args, BASELINE_MUTATION, rotatingBodies, startOverheadSetup, updateBody } from "./support/setups.js";

const options = args();
const durationSec = Number(options.duration ?? 12);
const connections = Number(options.connections ?? 10);
const dir = path.join(OUT_DIR, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
const profArgs = (name: string): string[] => ["--cpu-prof", `--cpu-prof-dir=${path.join(dir, name)}`];
const setup = await startOverheadSetup({
  baselines: true,
  subgraphNodeArgs: profArgs("subgraph"),
  apolloNodeArgs: profArgs("apollo"),
  ...(options["log-level"] ? { env: { LOG_LEVEL: options["log-level"] } } : {}),
});
const results: Record<string, LoadResult> = {};
try {
  const bodies = {
    subgraph: rotatingBodies(1000, updateBody(["CARNIVAL"])),
    apollo: rotatingBodies(1000, (userId) => ({ query: BASELINE_MUTATION, variables: { userId } })),
  };
  for (const name of ["subgraph", "apollo"] as const) {
    const url = name === "subgraph" ? setup.subgraph.url : setup.apollo!.url;
    await load({ url, connections, durationSec: 2, body: bodies[name] });
    results[name] = await load({ url, connections, durationSec, body: bodies[name] });
  }
} finally {
  await setup.close();
}

const profileOf = (name: string): string => {
  const folder = path.join(dir, name);
  return path.join(
    folder,
    readdirSync(folder).find((f) => f.endsWith(".cpuprofile"))!,
  );
};
const patterns = [
  "node_modules/got/",
  "node_modules/@apollo/server/",
  "node_modules/graphql/",
  "node_modules/type-graphql/",
  "node_modules/pino/",
  "node_modules/prom-client/",
  "/dist-bench/src/",
  "/dist-bench/src/server/",
  "/dist-bench/src/observability/",
  "/dist-bench/src/graphql/",
  "/dist-bench/src/domain/",
  "/dist-bench/src/vendors/",
  "/dist-bench/src/http/",
];
const summaries: Record<string, ProfileSummary> = {
  subgraph: summarize(profileOf("subgraph"), patterns),
  apollo: summarize(profileOf("apollo"), patterns),
};
// Requests served during the whole profile: warm-up plus measured run (the profile spans both, and start-up).
const served = (name: string): number => results[name]!.requests * ((durationSec + 2) / durationSec);
const us = (ms: number, name: string): string => ((ms * 1000) / served(name)).toFixed(0);
const areas = [...new Set([...summaries.subgraph!.byArea.slice(0, 25), ...summaries.apollo!.byArea.slice(0, 12)].map((a) => a.area))];
const areaMs = (name: string, area: string): number => summaries[name]!.byArea.find((a) => a.area === area)?.selfMs ?? 0;
console.log(`\n## CPU profiles, c=${connections}, ${durationSec} s each (+2 s warm-up)\n`);
console.log(
  `subgraph ${results.subgraph!.rps} req/s p99 ${results.subgraph!.p99} ms; apollo baseline ${results.apollo!.rps} req/s p99 ${results.apollo!.p99} ms\n`,
);
console.log(
  table(
    ["area (self time)", "subgraph µs/req", "apollo µs/req"],
    areas.map((area) => [area, us(areaMs("subgraph", area), "subgraph"), us(areaMs("apollo", area), "apollo")]),
  ),
);
console.log();
console.log(
  table(
    ["stack contains (inclusive)", "subgraph µs/req", "apollo µs/req"],
    patterns.map((p, i) => [p, us(summaries.subgraph!.inclusive[i]!.ms, "subgraph"), us(summaries.apollo!.inclusive[i]!.ms, "apollo")]),
  ),
);
console.log();
console.log(
  table(
    ["subgraph function (self time)", "where", "µs/req", "share"],
    summaries.subgraph!.byFunction.slice(0, 40).map((f) => [f.name, f.where, us(f.selfMs, "subgraph"), `${(f.share * 100).toFixed(1)}%`]),
  ),
);
console.log(`\nprofiles: ${dir}`);
writeOut("profile", {
  connections,
  durationSec,
  results,
  summaries: Object.fromEntries(Object.entries(summaries).map(([k, s]) => [k, { ...s, byFunction: s.byFunction.slice(0, 200) }])),
});
