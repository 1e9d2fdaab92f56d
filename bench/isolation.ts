/**
 * Isolation (issue 9): how much a running bulk job slows single updateAttributes calls. Each setup
 * runs rounds of: paced single updates to User.com alone ("idle"), then the same while a bulk job
 * fans out to Carnival at the setup's rate ("during bulk"). The bulk vendor and the interactive one
 * differ, so no pacer is shared: what is left is the CPU and event loops the two share (the
 * subgraph's, and the sandboxes', which run in one process). Setups alternate round by round.
 *
 *   npm run bench:isolation -- [--bulk-rates=100,1000] (Carnival calls/s of the bulk job: 100 is
 *                             Carnival's shipped default) [--rounds=3] [--duration=10] [--rate=50]
 *                             [--same-vendor] (the single updates go to Carnival too: they share the
 *                             bulk job's rate budget, where bulk work is low priority; keep --rate well
 *                             below the bulk rate) [--main=dist-bench/variants/NAME/src/main.js] (another build)
 */
import { gql, median, paced, quantile, round2 } from "./support/load.js";
import { cpuMsOf, machineFacts, parallelCapacity, memoryOf, sleep } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args, rotatingBodies, startFullSetup, updateBody, type FullSetup } from "./support/setups.js";

const options = args();
const bulkRates = (options["bulk-rates"] ?? "100,1000").split(",").map(Number);
const rounds = Number(options.rounds ?? 3);
const durationSec = Number(options.duration ?? 10);
const rate = Number(options.rate ?? 50);
const singleVendor = options["same-vendor"] === "true" ? "CARNIVAL" : "USERCOM";
// Enough users that each job outlasts its round's measurement.
const bulkUsers = (bulkRate: number) => Math.ceil(bulkRate * (durationSec + 5));
// Measured before the servers start: what the cores give two busy processes at once.
const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };

const SUBMIT = `mutation Bulk($input: AttributesBulkSetCustomAttributeInput!) {
  bulkSetCustomAttribute(input: $input) { __typename ... on AttributesBulkJob { id } ... on AttributesError { code message } }
}`;
const CANCEL = `mutation Cancel($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename } }`;

interface Sample {
  readonly bulkRate: number;
  readonly round: number;
  readonly phase: "idle" | "during bulk";
  readonly p50: number;
  readonly p99: number;
  readonly answered: number;
  readonly notDelivered: number;
  readonly subgraphCores: number;
  /** The subgraph's own event-loop delay during the phase (prom-client's figures, reset by each scrape). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

/** Reads the subgraph's event-loop delay since the last scrape, in ms (prom-client resets it on each collect). */
async function loopDelay(url: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(new URL("/metrics", url))).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, "m").exec(text)?.[1] ?? NaN) * 1000;
  return { p99: value("nodejs_eventloop_lag_p99_seconds"), max: value("nodejs_eventloop_lag_max_seconds") };
}

const setups = new Map<number, FullSetup>();
const samples: Sample[] = [];
try {
  for (const bulkRate of bulkRates) {
    console.error(`starting the setup whose bulk job sends ${bulkRate} Carnival calls/s…`);
    setups.set(
      bulkRate,
      await startFullSetup({
        seedUsers: Math.max(bulkUsers(bulkRate), 1000),
        // Carnival's sandbox with the headroom of its documented 120/s over the adapter's 100/s; User.com unthrottled.
        sandboxRateLimits: { carnival: Math.ceil(bulkRate * 1.2), usercom: 1_000_000 },
        vendorRates: { carnival: bulkRate, usercom: 1_000_000 },
        env: { BULK_MAX_USER_IDS: String(Math.max(bulkUsers(bulkRate), 100_000)) },
        ...(options.main ? { subgraphMain: options.main } : {}),
      }),
    );
  }
  const body = rotatingBodies(1000, updateBody([singleVendor]));
  // Warm-up, so the first idle round does not measure JIT compilation.
  for (const setup of setups.values()) await paced({ url: setup.subgraph.url, connections: 20, durationSec: 3, overallRate: rate, body });
  const measure = async (setup: FullSetup) => {
    const pid = setup.subgraph.pid;
    await loopDelay(setup.subgraph.url);
    const cpuBefore = cpuMsOf(pid);
    const started = performance.now();
    let notDelivered = 0;
    const result = await paced({
      url: setup.subgraph.url,
      connections: 20,
      durationSec,
      overallRate: rate,
      body,
      onBody: (_status: number, text: string) => {
        if (!text.includes('"allDelivered":true')) notDelivered++;
      },
    });
    const cores = (cpuMsOf(pid) - cpuBefore) / (performance.now() - started);
    const loop = await loopDelay(setup.subgraph.url);
    const sorted = [...result.latencies].sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), answered: sorted.length, notDelivered, cores, loop };
  };
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? bulkRates : [...bulkRates].reverse();
    for (const bulkRate of order) {
      const setup = setups.get(bulkRate)!;
      const idle = await measure(setup);
      const submitted = await gql(setup.subgraph.url, SUBMIT, {
        input: {
          userIds: Array.from({ length: bulkUsers(bulkRate) }, (_, i) => String(i + 1)),
          attribute: "plan",
          value: { string: "gold" },
          vendors: ["CARNIVAL"],
        },
      });
      const job = submitted.body?.data?.bulkSetCustomAttribute;
      if (job?.__typename !== "AttributesBulkJob") throw new Error(`submit failed: ${JSON.stringify(submitted.body).slice(0, 500)}`);
      await sleep(2_000); // the job at its pace
      const busy = await measure(setup);
      await gql(setup.subgraph.url, CANCEL, { id: job.id });
      await sleep(1_000);
      for (const [phase, m] of [
        ["idle", idle],
        ["during bulk", busy],
      ] as const) {
        samples.push({
          bulkRate,
          round,
          phase,
          p50: m.p50,
          p99: m.p99,
          answered: m.answered,
          notDelivered: m.notDelivered,
          subgraphCores: round2(m.cores),
          loopDelayP99Ms: round2(m.loop.p99),
          loopDelayMaxMs: round2(m.loop.max),
        });
      }
      console.error(
        `round ${round}, bulk at ${bulkRate}/s: idle p50 ${idle.p50.toFixed(2)} p99 ${idle.p99.toFixed(2)} ms; during bulk p50 ${busy.p50.toFixed(2)} p99 ${busy.p99.toFixed(2)} ms (subgraph ${busy.cores.toFixed(2)} cores, event-loop delay p99 ${busy.loop.p99.toFixed(1)} max ${busy.loop.max.toFixed(1)} ms)`,
      );
    }
  }
  const rss = Object.fromEntries([...setups].map(([bulkRate, setup]) => [bulkRate, Math.round(memoryOf(setup.subgraph.pid).peakRssMb)]));
  const summary = bulkRates.flatMap((bulkRate) =>
    (["idle", "during bulk"] as const).map((phase) => {
      const mine = samples.filter((s) => s.bulkRate === bulkRate && s.phase === phase);
      return [
        bulkRate,
        phase,
        median(mine.map((s) => s.p50)),
        median(mine.map((s) => s.p99)),
        mine.map((s) => s.p99).join(" / "),
        mine.reduce((n, s) => n + s.notDelivered, 0),
        median(mine.map((s) => s.subgraphCores)),
        median(mine.map((s) => s.loopDelayP99Ms)),
        Math.max(...mine.map((s) => s.loopDelayMaxMs)),
        rss[bulkRate]!,
      ];
    }),
  );
  console.log(`\n## Isolation (${new Date().toISOString()})\n`);
  console.log(`machine: ${JSON.stringify(facts)}`);
  console.log(
    `single updates to User.com at ${rate}/s for ${durationSec} s, alone and while a bulk job sends Carnival calls at the setup's rate; ${rounds} rounds, medians\n`,
  );
  console.log(
    table(
      [
        "bulk calls/s",
        "phase",
        "p50 ms",
        "p99 ms",
        "p99 each round",
        "not delivered",
        "subgraph cores",
        "loop delay p99 ms",
        "loop delay max ms",
        "peak RSS MB",
      ],
      summary,
    ),
  );
  console.log(`\nraw figures: ${writeOut("isolation", { facts, rate, bulkRates, durationSec, rounds, samples, peakRssMb: rss })}`);
} finally {
  await Promise.all([...setups.values()].map((setup) => setup.close()));
}
