/**
 * Shared mode (issue 22): Redis work per vendor call over the whole path (rate budget, bulk job
 * store, BullMQ, idempotency keys, Leanplum's per-user lock), for a bulk job and for single updates
 * separately. Layout as bench/shared-budget.ts (three replicas with BULK_WORKER=false, two workers,
 * one credential per vendor, sandboxes counting a strict window at the limit), one vendor at a time:
 *
 * - `bulk`: a job of `--bulk-seconds` worth of users at the vendor's pacer rate, run to the end;
 * - `single`: updateAttributes at `--single-share` × the limit over the three replicas, no key;
 * - `single+key`: the same, each call with its own idempotency key.
 *
 * Per phase, ÷ the calls the sandbox received: Redis read events (INFO stats total_reads_processed:
 * one per request a client sent, a pipeline or a script being one; the round trips), commands sent
 * by clients and the commands Lua scripts ran, both from MONITOR, by what they touch (the first
 * key's prefix: rate budget, bulk store, BullMQ, idempotency, lock), and by command name. MONITOR
 * runs only here, never in a throughput or latency benchmark. An idle phase first gives what the
 * processes send when nothing happens (BullMQ's blocking waits, readiness pings).
 *
 *   npm run bench:shared:round-trips -- [--vendors=carnival,jiguang,leanplum,usercom]
 *        [--limits=carnival:200,jiguang:200,leanplum:40,usercom:200] [--bulk-seconds=10]
 *        [--single-seconds=10] [--single-share=0.5] [--idle-seconds=5] [--phases=bulk,single,single+key]
 */
import { Redis } from "ioredis";
import { paced, round2 } from "./support/load.js";
import { machineFacts, sleep } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args, updateBody } from "./support/setups.js";
import { envOption, exact, startSharedSetup, submitBulk, usersFrom, waitFinished } from "./support/shared.js";
import { benchLimits, benchVendors, pacedRate as pacedAt, rateWindows, usersPerCall } from "./support/vendor-figures.js";

const options = args();
const vendors = benchVendors(options.vendors);
const limits = benchLimits(vendors, options.limits);
const bulkSeconds = Number(options["bulk-seconds"] ?? 10);
const singleSeconds = Number(options["single-seconds"] ?? 10);
const singleShare = Number(options["single-share"] ?? 0.5);
const idleSeconds = Number(options["idle-seconds"] ?? 5);
const phases = (options.phases ?? "bulk,single,single+key").split(",");

const pacedRate = (vendor: string): number => pacedAt(vendor, limits[vendor]!);
const bulkUsers = (vendor: string): number => Math.ceil(pacedRate(vendor) * usersPerCall(vendor) * bulkSeconds);
const singleUsers = 1_000;
const firstSingleUser = Math.max(...vendors.map(bulkUsers)) + 1;

const facts = machineFacts();
const setup = await startSharedSetup({
  seedUsers: firstSingleUser + singleUsers,
  ...rateWindows(vendors, limits),
  vendorRates: Object.fromEntries(vendors.map((v) => [v, limits[v]!])),
  replicas: 3,
  workers: 2,
  env: { BULK_MAX_USER_IDS: String(Math.max(firstSingleUser, 100_000)), ...envOption(options) },
});

type Concern = "rate budget" | "bulk store" | "BullMQ" | "idempotency" | "lock" | "other";
const CONCERNS: Concern[] = ["rate budget", "bulk store", "BullMQ", "idempotency", "lock", "other"];

/** What a command sent by a client touches, from its first key. */
function concernOf(argv: readonly string[]): Concern {
  const name = argv[0]!.toLowerCase();
  const key = name === "evalsha" || name === "eval" ? argv[3] : argv[1];
  if (!key) return "other";
  if (key.startsWith("attributes:rate:")) return "rate budget";
  if (key.startsWith("attributes:bulk:")) return "bulk store";
  if (key.startsWith("attributes:bullmq:")) return "BullMQ";
  if (key.startsWith("attributes:idem:")) return "idempotency";
  if (key.startsWith("attributes:lock:")) return "lock";
  return "other";
}

interface Counts {
  clientCommands: Record<Concern, number>;
  scriptCommands: number;
  byCommand: Record<string, number>;
}

/** MONITOR on a connection of its own; counts what clients send and what scripts run. */
async function monitor(url: string): Promise<{ take(): Counts; stop(): Promise<void> }> {
  const connection = new Redis(url);
  const fresh = (): Counts => ({
    clientCommands: Object.fromEntries(CONCERNS.map((c) => [c, 0])) as Record<Concern, number>,
    scriptCommands: 0,
    byCommand: {},
  });
  let counts = fresh();
  const stream = await connection.monitor();
  stream.on("monitor", (_time: string, argv: string[], source: string) => {
    const name = argv[0]!.toLowerCase();
    // The benchmark's own: INFO (its counters) and MONITOR.
    if (name === "info" || name === "monitor") return;
    counts.byCommand[name] = (counts.byCommand[name] ?? 0) + 1;
    if (source === "lua") counts.scriptCommands++;
    else counts.clientCommands[concernOf(argv)]++;
  });
  return {
    take() {
      const taken = counts;
      counts = fresh();
      return taken;
    },
    stop() {
      stream.disconnect();
      connection.disconnect();
      return Promise.resolve();
    },
  };
}

const reads = async (): Promise<number> => Number((await setup.redis.info("stats")).total_reads_processed);
/** Calls every sandbox received (one vendor is busy at a time). */
const calls = async (): Promise<number> =>
  Object.values(await setup.vendors.settledStats()).reduce((sum, stats) => sum + stats.requests, 0);

interface Phase {
  vendor: string;
  phase: string;
  seconds: number;
  vendorCalls: number;
  reads: number;
  clientCommands: Record<Concern, number>;
  scriptCommands: number;
  byCommand: Record<string, number>;
  note: string;
}

const results: Phase[] = [];
const watcher = await monitor(setup.redis.url);
try {
  // Warm-up of every replica's single path and of the workers, outside any measurement.
  for (const vendor of vendors) {
    for (const replica of setup.replicas)
      await paced({
        url: replica.url,
        connections: 4,
        durationSec: 1,
        overallRate: 10,
        body: JSON.stringify(updateBody([vendor.toUpperCase()])("1")),
      });
    const warm = await submitBulk(setup.replicas[0]!.url, usersFrom(1, 50 * usersPerCall(vendor)), [vendor]);
    await waitFinished(setup.replicas[0]!.url, warm, 60_000, 500);
  }
  await sleep(2_000);
  const measure = async (vendor: string, phase: string, run: () => Promise<string>): Promise<void> => {
    const readsBefore = await reads();
    const callsBefore = await calls();
    watcher.take();
    const started = performance.now();
    const note = await run();
    const seconds = (performance.now() - started) / 1000;
    await sleep(300);
    const counts = watcher.take();
    const result: Phase = {
      vendor,
      phase,
      seconds: round2(seconds),
      vendorCalls: (await calls()) - callsBefore,
      reads: (await reads()) - readsBefore,
      ...counts,
      note,
    };
    results.push(result);
    console.error(`[round-trips] ${JSON.stringify(result)}`);
  };
  await measure("-", "idle", async () => {
    await sleep(idleSeconds * 1000);
    return "";
  });
  for (const vendor of vendors) {
    if (phases.includes("bulk")) {
      await measure(vendor, "bulk", async () => {
        const users = bulkUsers(vendor);
        const id = await submitBulk(setup.replicas[0]!.url, usersFrom(1, users), [vendor]);
        // Polled once a second: ~3 commands a poll (the replica reading the job) are in the figures.
        const job = await waitFinished(setup.replicas[1]!.url, id, 300_000, 1_000);
        return `${users} users, ${job.status}${exact(job, users) ? ", exact" : ", NOT EXACT"}`;
      });
    }
    for (const keyed of [false, true]) {
      const phase = keyed ? "single+key" : "single";
      if (!phases.includes(phase)) continue;
      await measure(vendor, phase, async () => {
        let next = 0;
        const body = (): string => {
          const call = updateBody([vendor.toUpperCase()])(String(firstSingleUser + (next % singleUsers)));
          const input = call.variables.input as Record<string, unknown>;
          if (keyed) input.idempotencyKey = `bench-${process.pid}-${vendor}-${next}`;
          next++;
          return JSON.stringify(call);
        };
        const rate = (limits[vendor]! * singleShare) / setup.replicas.length;
        const runs = await Promise.all(
          setup.replicas.map((replica) => paced({ url: replica.url, connections: 8, durationSec: singleSeconds, overallRate: rate, body })),
        );
        const non2xx = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
        return `${runs.reduce((n, r) => n + r.requests, 0)} calls at ${round2(rate * setup.replicas.length)}/s${non2xx ? `, ${non2xx} non-2xx` : ""}`;
      });
    }
  }
} finally {
  await watcher.stop();
  await setup.close();
}

const idle = results.find((r) => r.phase === "idle")!;
const idlePerSec = {
  reads: idle.reads / idle.seconds,
  client: Object.values(idle.clientCommands).reduce((a, b) => a + b, 0) / idle.seconds,
};
const per = (n: number, r: Phase): string => (r.vendorCalls > 0 ? (n / r.vendorCalls).toFixed(3) : "-");
const measured = results.filter((r) => r.phase !== "idle");
console.log(`\n## Shared mode: Redis work per vendor call (${new Date().toISOString()})\n`);
console.log(`machine: ${JSON.stringify(facts)}\n`);
console.log(
  `Idle (${idle.seconds} s, 3 replicas + 2 workers, nothing to do): ${round2(idlePerSec.reads)} read events/s, ${round2(idlePerSec.client)} client commands/s (${JSON.stringify(idle.byCommand)})\n`,
);
console.log(
  table(
    [
      "vendor",
      "phase",
      "s",
      "vendor calls",
      "read events (round trips) per call",
      "of which idle traffic",
      "client commands per call",
      ...CONCERNS.map((c) => `${c} per call`),
      "commands scripts ran per call",
      "what ran",
    ],
    measured.map((r) => [
      r.vendor,
      r.phase,
      r.seconds,
      r.vendorCalls,
      per(r.reads, r),
      per(idlePerSec.reads * r.seconds, r),
      per(
        Object.values(r.clientCommands).reduce((a, b) => a + b, 0),
        r,
      ),
      ...CONCERNS.map((c) => per(r.clientCommands[c], r)),
      per(r.scriptCommands, r),
      r.note,
    ]),
  ),
);
console.log("\nEvery command per vendor call (clients' and scripts'), by name:\n");
for (const r of measured) {
  const top = Object.entries(r.byCommand)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${per(n, r)}`)
    .join(", ");
  console.log(`- ${r.vendor} ${r.phase}: ${top}`);
}
console.log(`raw figures: ${writeOut("shared-round-trips", { facts, limits, bulkSeconds, singleSeconds, singleShare, results })}`);
