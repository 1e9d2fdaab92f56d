/**
 * Fan-out (issue 9): updateAttributes to all four vendors against each vendor alone, every sandbox
 * answering after its own artificial latency (Carnival 20 ms, Jiguang 30 ms, Leanplum 40 ms,
 * User.com 50 ms; SandboxServer's response delay). Concurrent dispatch should make the four-vendor
 * call about as slow as the slowest vendor alone, not the sum. Setups alternate within each round.
 *
 *   npm run bench:fanout -- [--duration=6] [--rounds=2] [--connections=1,10]
 */
import { load, type LoadResult } from "./support/load.js";
import { machineFacts } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { figuresOf } from "./support/vendor-figures.js";
import { ALL_VENDORS, args, rotatingBodies, startFullSetup, updateBody } from "./support/setups.js";

const options = args();
const durationSec = Number(options.duration ?? 6);
const rounds = Number(options.rounds ?? 2);
const connectionsList = (options.connections ?? "1,10").split(",").map(Number);
// Each vendor answers 10 ms later than the one before it (20, 30, 40, 50 ms for the four).
const delaysMs: Record<string, number> = Object.fromEntries(ALL_VENDORS.map((id, index) => [id, 20 + 10 * index]));
const lifted = 1_000_000_000;
/** The vendors whose sandboxes count a rate window of their own (not Leanplum's). */
const windowed = ALL_VENDORS.filter((id) => !figuresOf(id).needsStrictWindow);

const facts = machineFacts();
const setup = await startFullSetup({
  seedUsers: 1000,
  delaysMs,
  sandboxRateLimits: Object.fromEntries(windowed.map((id) => [id, lifted])),
  vendorRates: Object.fromEntries(windowed.map((id) => [id, lifted])),
});
const targets: Array<{ name: string; vendors: string[] }> = [
  ...ALL_VENDORS.map((id) => ({ name: id, vendors: [id.toUpperCase()] })),
  { name: "all four", vendors: ALL_VENDORS.map((id) => id.toUpperCase()) },
];
type Measured = LoadResult & { target: string; round: number; notDelivered: number };
const results: Measured[] = [];
try {
  for (const connections of connectionsList) {
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const target of order) {
        // 1000 users in rotation: Leanplum answers 429 to two requests for one user at once.
        const body = rotatingBodies(1000, updateBody(target.vendors));
        await load({ url: setup.subgraph.url, connections, durationSec: 1, body });
        let notDelivered = 0;
        const result = await load({
          url: setup.subgraph.url,
          connections,
          durationSec,
          body,
          onBody: (_status, text) => {
            if (!text.includes('"allDelivered":true')) notDelivered++;
          },
        });
        results.push({ ...result, target: target.name, round, notDelivered });
        console.error(
          `c=${connections} round ${round} ${target.name}: ${result.rps} req/s p50 ${result.p50} ms p99 ${result.p99} ms, not delivered ${notDelivered}`,
        );
      }
    }
  }
  const summary = connectionsList.flatMap((connections) =>
    Array.from({ length: rounds }, (_, i) => {
      const of = (name: string) => results.find((r) => r.connections === connections && r.round === i + 1 && r.target === name)!;
      const singles = ALL_VENDORS.map((id) => of(id));
      const all = of("all four");
      const slowestP50 = Math.max(...singles.map((s) => s.p50));
      const sumP50 = singles.reduce((n, s) => n + s.p50, 0);
      const slowestP99 = Math.max(...singles.map((s) => s.p99));
      return {
        connections,
        round: i + 1,
        allP50: all.p50,
        slowestP50,
        sumP50,
        ratioP50: all.p50 / slowestP50,
        allP99: all.p99,
        slowestP99,
        ratioP99: all.p99 / slowestP99,
      };
    }),
  );
  console.log(`\n## Fan-out (${new Date().toISOString()})\n`);
  console.log(`machine: ${JSON.stringify(facts)}; sandbox latencies ${JSON.stringify(delaysMs)}\n`);
  console.log(
    table(
      ["c", "round", "target", "req/s", "p50 ms", "p99 ms", "not delivered"],
      results.map((r) => [r.connections, r.round, r.target, r.rps, r.p50, r.p99, r.notDelivered]),
    ),
  );
  console.log();
  console.log(
    table(
      [
        "c",
        "round",
        "all four p50",
        "slowest alone p50",
        "sum of singles p50",
        "all ÷ slowest (p50)",
        "all four p99",
        "slowest alone p99",
        "all ÷ slowest (p99)",
      ],
      summary.map((s) => [
        s.connections,
        s.round,
        s.allP50,
        s.slowestP50,
        s.sumP50.toFixed(1),
        s.ratioP50.toFixed(3),
        s.allP99,
        s.slowestP99,
        s.ratioP99.toFixed(3),
      ]),
    ),
  );
  console.log(`\nsandbox answers: ${JSON.stringify(await setup.vendors.settledStats())}`);
  console.log(`subgraph warnings logged: ${setup.subgraph.warnings().length}`);
  console.log(`raw figures: ${writeOut("fanout", { facts, delaysMs, results, summary })}`);
} finally {
  await setup.close();
}
