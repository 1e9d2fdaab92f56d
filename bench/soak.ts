/**
 * Soak (issue 7): 100 concurrent clients for 60 s against the four sandbox vendors answering with
 * random faults (SANDBOX_FAULTS syntax) and short vendor timeouts. Checks that the subgraph never
 * crashes, that every response is a typed result (HTTP 200, no `errors` array), counts results by
 * typename, and samples the subgraph's RSS every second (first quarter against last quarter).
 *
 *   npm run bench:soak -- [--duration=60] [--connections=100] [--timeout-ms=1000]
 *                         [--faults=503:0.02,429;retry-after=1:0.01,hang;ms=3000:0.005,reset:0.005,malformed:0.005,500-after-apply:0.005]
 */
import { gql, load } from "./support/load.js";
import { liveHeapAfterFullGcs, machineFacts, memoryOf } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { ALL_VENDORS, args, startFullSetup, TIMEOUT_ENV, UPDATE_MUTATION } from "./support/setups.js";

const options = args();
const durationSec = Number(options.duration ?? 60);
const connections = Number(options.connections ?? 100);
const timeoutMs = Number(options["timeout-ms"] ?? 1000);
const faults = options.faults ?? "503:0.02,429;retry-after=1:0.01,hang;ms=3000:0.005,reset:0.005,malformed:0.005,500-after-apply:0.005";
const rate = 2000;

const ENTITIES = `query Profiles($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on User { id attributeProfiles { __typename ... on AttributesVendorError { vendor code retryable } } }
  }
}`;

/** A mix of operations: SETs to all vendors, increments (never retried after an ambiguous failure), invalid input, read-back. */
function bodies(): () => string {
  const list: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const userId = String((i % 1000) + 1);
    const kind = i % 20;
    let body: unknown;
    if (kind < 14) {
      body = {
        query: UPDATE_MUTATION,
        variables: {
          input: {
            userId,
            operations: [{ op: "SET", attribute: "plan", value: { string: `p${i % 7}` } }],
          },
        },
      };
    } else if (kind < 16) {
      body = {
        query: UPDATE_MUTATION,
        variables: {
          input: {
            userId,
            vendors: ["LEANPLUM", "USERCOM"],
            operations: [{ op: "INCREMENT", attribute: "visits", value: { int: 1 } }],
          },
        },
      };
    } else if (kind < 17) {
      body = { query: UPDATE_MUTATION, variables: { input: { userId: "", operations: [] } } };
    } else {
      body = {
        query: ENTITIES,
        variables: {
          representations: [0, 1, 2].map((k) => ({
            __typename: "User",
            id: String(((i + k) % 1000) + 1),
          })),
        },
      };
    }
    list.push(JSON.stringify(body));
  }
  let next = 0;
  return () => list[next++ % list.length]!;
}

const facts = machineFacts();
const timeouts = Object.fromEntries(ALL_VENDORS.map((v) => [TIMEOUT_ENV[v]!, String(timeoutMs)]));
const setup = await startFullSetup({
  seedUsers: 1000,
  faults,
  sandboxRateLimits: { carnival: rate * 1.2, jiguang: rate, usercom: rate * 1.2 },
  vendorRates: { carnival: rate, jiguang: rate, usercom: rate },
  env: timeouts,
  // One log line per major GC: the live heap after each full collection, to tell a leak from lazy GC.
  subgraphNodeArgs: ["--trace-gc"],
});
const typenames: Record<string, number> = {};
const count = (key: string): void => {
  typenames[key] = (typenames[key] ?? 0) + 1;
};
let untyped = 0;
const untypedSamples: string[] = [];
const rss: Array<{ t: number; rssMb: number }> = [];
const started = performance.now();
const startedEpoch = Date.now();
const sampler = setInterval(() => {
  try {
    rss.push({
      t: Math.round((performance.now() - started) / 100) / 10,
      rssMb: Math.round(memoryOf(setup.subgraph.pid).rssMb * 10) / 10,
    });
  } catch {
    // the process is gone; reported below
  }
}, 1000);
let result;
let alive: boolean;
let finalCheck: unknown;
try {
  result = await load({
    url: setup.subgraph.url,
    connections,
    durationSec,
    body: bodies(),
    timeoutSec: 30,
    onBody: (status, text) => {
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (status !== 200 || !parsed?.data || parsed.errors) {
        untyped++;
        if (untypedSamples.length < 10) untypedSamples.push(`${status} ${text.slice(0, 300)}`);
        return;
      }
      if (parsed.data.updateAttributes) {
        const r = parsed.data.updateAttributes;
        count(`updateAttributes → ${r.__typename}`);
        for (const d of r.deliveries ?? []) count(`  delivery → ${d.__typename}`);
      } else if (parsed.data._entities) {
        for (const e of parsed.data._entities) for (const p of e.attributeProfiles) count(`  profile → ${p.__typename}`);
        count("_entities → ok");
      }
    },
  });
  clearInterval(sampler);
  alive = setup.subgraph.exitCode() === null;
  finalCheck = (await gql(setup.subgraph.url, "{ attributeVendors { vendor mode } }")).body;
} finally {
  clearInterval(sampler);
}
const stats = await setup.vendors.settledStats();
const warnings = setup.subgraph.warnings();
const loadStartedMs = startedEpoch - setup.subgraph.startedAt;
const gcs = liveHeapAfterFullGcs(setup.subgraph.logFile)
  .map((g) => ({ t: Math.round((g.atMs - loadStartedMs) / 100) / 10, mb: g.mb }))
  .filter((g) => g.t >= 0 && g.t <= durationSec);
await setup.close();

const quarter = durationSec / 4;
const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const firstQ = avg(rss.filter((s) => s.t <= quarter).map((s) => s.rssMb));
const lastQ = avg(rss.filter((s) => s.t > durationSec - quarter && s.t <= durationSec).map((s) => s.rssMb));
const maxRss = Math.max(...rss.map((s) => s.rssMb));
const warnKinds: Record<string, number> = {};
for (const line of warnings) {
  const msg = (JSON.parse(line) as { msg?: string }).msg ?? "?";
  const key = msg.replace(/\d+/g, "N").slice(0, 80);
  warnKinds[key] = (warnKinds[key] ?? 0) + 1;
}

console.log(`\n## Soak (${new Date().toISOString()})\n`);
console.log(`machine: ${JSON.stringify(facts)}`);
console.log(`faults: ${faults}; vendor timeouts ${timeoutMs} ms; ${connections} connections for ${durationSec} s\n`);
console.log(
  `requests ${result.requests} (${result.rps}/s), p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms; non-2xx ${result.non2xx}, client errors ${result.errors}, client timeouts ${result.timeouts}; untyped responses ${untyped}; subgraph alive at end: ${alive}\n`,
);
console.log(
  table(
    ["result", "count"],
    Object.entries(typenames).sort((a, b) => a[0].localeCompare(b[0])),
  ),
);
console.log(
  `\nRSS (MB): first quarter mean ${firstQ.toFixed(1)}, last quarter mean ${lastQ.toFixed(1)} (ratio ${(lastQ / firstQ).toFixed(3)}), max ${maxRss}`,
);
console.log(`RSS samples: ${rss.map((s) => Math.round(s.rssMb)).join(" ")}`);
const gcFirst = gcs.filter((g) => g.t <= quarter).map((g) => g.mb);
const gcLast = gcs.filter((g) => g.t > durationSec - quarter).map((g) => g.mb);
console.log(
  `live heap after full GCs (MB, ${gcs.length} during the run): first quarter ${gcFirst.join(" ") || "none"}, last quarter ${gcLast.join(" ") || "none"}; all: ${gcs.map((g) => `${g.t}s:${g.mb}`).join(" ")}`,
);
console.log(`\nsandbox answers: ${JSON.stringify(Object.fromEntries(Object.entries(stats).map(([v, s]) => [v, s.statuses])))}`);
console.log(`subgraph warn/error log lines: ${warnings.length} ${JSON.stringify(warnKinds)}`);
if (untypedSamples.length > 0) console.log(`untyped samples:\n${untypedSamples.join("\n")}`);
console.log(
  `raw figures: ${writeOut("soak", { facts, faults, timeoutMs, connections, durationSec, result, untyped, untypedSamples, typenames, rss, firstQ, lastQ, gcs, alive, finalCheck, stats, warnKinds })}`,
);
