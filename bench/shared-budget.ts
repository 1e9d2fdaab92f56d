/**
 * Shared mode (issue 22): three replicas and two workers share one credential per vendor. The
 * sandboxes (their own process) count a strict sliding one-second window at exactly the configured
 * limit (Carnival's, Jiguang's and User.com's own RateWindow at `rateLimitPerSecond`; Leanplum's
 * sandbox has none, so the bench puts the same window in front of it), and every process gets the
 * same limit (…_RATE_LIMIT). Per vendor, one after another: a bulk job (submitted on one replica,
 * run by the two workers) and single updateAttributes calls at a fixed rate through all three
 * replicas at the same time, so bulk and single paths draw on one budget; then the job is cancelled.
 *
 * Achieved = calls the sandbox's window admitted in the steady part (from `--settle` seconds after the
 * first call to the end of the single-update load) ÷ its length; ÷ the limit, and ÷ the rate the
 * adapter paces at (today the limit for every vendor). 429s from the sandbox's status counts. Target: achieved ÷ limit in [0.95, 1.00] with zero 429s.
 *
 *   npm run bench:shared:budget -- [--vendors=carnival,jiguang,leanplum,usercom]
 *        [--limits=carnival:200,jiguang:200,leanplum:40,usercom:200] [--seconds=30] [--settle=3]
 *        [--single-share=0.15] (single updates per second, all replicas together, as a share of the limit)
 *        [--replicas=3] [--workers=2] [--env=NAME=value,…] [--src=dist-bench/variants/NAME/src]
 */
import { paced, quantile, round2 } from "./support/load.js";
import { machineFacts, parallelCapacity, sleep } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args, rotatingBodies, updateBody } from "./support/setups.js";
import { cancelBulk, coresBetween, envOption, exact, startSharedSetup, submitBulk, usersFrom, waitFinished } from "./support/shared.js";
import { maxInWindow } from "./support/stats.js";
import { benchLimits, benchVendors, pacedRate as pacedAt, rateWindows, usersPerCall } from "./support/vendor-figures.js";

const options = args();
const vendors = benchVendors(options.vendors);
const limits = benchLimits(vendors, options.limits);
const seconds = Number(options.seconds ?? 30);
const settle = Number(options.settle ?? 3);
const singleShare = Number(options["single-share"] ?? 0.15);
const replicaCount = Number(options.replicas ?? 3);
const workerCount = Number(options.workers ?? 2);

const pacedRate = (vendor: string): number => pacedAt(vendor, limits[vendor]!);
/** Enough users that the job outlasts the load (it is cancelled at the end). */
const bulkUsers = (vendor: string): number => Math.ceil(pacedRate(vendor) * usersPerCall(vendor) * (seconds + 20));
const singleUsers = 1_000;
const firstSingleUser = Math.max(...vendors.map(bulkUsers)) + 1;

const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };
const setup = await startSharedSetup({
  seedUsers: firstSingleUser + singleUsers,
  ...rateWindows(vendors, limits),
  recordArrivals: true,
  vendorRates: Object.fromEntries(vendors.map((v) => [v, limits[v]!])),
  replicas: replicaCount,
  workers: workerCount,
  env: {
    BULK_MAX_USER_IDS: String(Math.max(firstSingleUser, 100_000)),
    MAX_BODY_BYTES: String(Math.max(8 * 1_048_576, firstSingleUser * 24)),
    ...envOption(options),
  },
  ...(options.src ? { srcDir: options.src } : {}),
});

interface VendorRun {
  vendor: string;
  limit: number;
  pacedPerSec: number;
  steadySec: number;
  admittedSteady: number;
  achievedPerSec: number;
  ratioToLimit: number;
  ratioToPaced: number;
  rejected429: number;
  refusedByWindow: number;
  busiestSecond: number;
  singles: { sent: number; delivered: number; notDelivered: Record<string, number>; p50: number; p99: number; perSec: number };
  bulk: { users: number; status: string; succeeded: number; failed: number; cancelled: number; exact: boolean };
  statuses: Record<number, number>;
  cores: Record<string, number>;
}

const runs: VendorRun[] = [];
try {
  // JIT warm-up of every replica's single-update path (a few calls per vendor), outside any measurement.
  for (const replica of setup.replicas) {
    for (const vendor of vendors) {
      await paced({
        url: replica.url,
        connections: 4,
        durationSec: 1,
        overallRate: 10,
        body: rotatingBodies(10, updateBody([vendor.toUpperCase()])),
      });
    }
  }
  await sleep(1_500);
  for (const [index, vendor] of vendors.entries()) {
    const users = bulkUsers(vendor);
    await setup.vendors.admissions();
    const before = (await setup.vendors.stats())[vendor]!.statuses;
    const cpuBefore = setup.cpuMs();
    const wallStart = Date.now();
    const submitTo = setup.replicas[index % setup.replicas.length]!;
    const id = await submitBulk(submitTo.url, usersFrom(1, users), [vendor]);
    console.error(
      `[budget] ${vendor}: job ${id} (${users} users) on replica ${(index % setup.replicas.length) + 1}; singles for ${seconds} s…`,
    );
    const notDelivered: Record<string, number> = {};
    let delivered = 0;
    const singleIds = usersFrom(firstSingleUser, singleUsers);
    let next = 0;
    const body = (): string => JSON.stringify(updateBody([vendor.toUpperCase()])(singleIds[next++ % singleIds.length]!));
    const perReplica = (limits[vendor]! * singleShare) / setup.replicas.length;
    const singles = await Promise.all(
      setup.replicas.map((replica) =>
        paced({
          url: replica.url,
          connections: 16,
          durationSec: seconds,
          overallRate: perReplica,
          body,
          onBody: (status, text) => {
            const answer = JSON.parse(text) as {
              data?: { updateAttributes?: { allDelivered?: boolean; deliveries?: Array<{ __typename: string; code?: string }> } };
            };
            const result = answer.data?.updateAttributes;
            if (status === 200 && result?.allDelivered) delivered++;
            else {
              const code = result?.deliveries?.[0]?.code ?? `HTTP ${status}`;
              notDelivered[code] = (notDelivered[code] ?? 0) + 1;
            }
          },
        }),
      ),
    );
    const loadEnd = Date.now();
    await cancelBulk(setup.replicas[(index + 1) % setup.replicas.length]!.url, id);
    const job = await waitFinished(submitTo.url, id, 60_000);
    const wallMs = Date.now() - wallStart;
    const cpuAfter = setup.cpuMs();
    await sleep(200);
    const after = (await setup.vendors.settledStats())[vendor]!.statuses;
    const { at, admitted } = await setup.vendors.admissions();
    const statuses: Record<number, number> = {};
    for (const [code, n] of Object.entries(after)) {
      const delta = n - (before[Number(code)] ?? 0);
      if (delta > 0) statuses[Number(code)] = delta;
    }
    const admittedAt = at.filter((_, i) => admitted[i]).sort((a, b) => a - b);
    const steadyFrom = admittedAt[0]! + settle * 1000;
    const steadyTo = loadEnd;
    const admittedSteady = admittedAt.filter((t) => t >= steadyFrom && t < steadyTo).length;
    const steadySec = (steadyTo - steadyFrom) / 1000;
    const achieved = admittedSteady / steadySec;
    const latencies = singles.flatMap((s) => s.latencies).sort((a, b) => a - b);
    const progress = job.progress[0]!;
    const run: VendorRun = {
      vendor,
      limit: limits[vendor]!,
      pacedPerSec: pacedRate(vendor),
      steadySec: round2(steadySec),
      admittedSteady,
      achievedPerSec: round2(achieved),
      ratioToLimit: Math.round((achieved / limits[vendor]!) * 1000) / 1000,
      ratioToPaced: Math.round((achieved / pacedRate(vendor)) * 1000) / 1000,
      rejected429: statuses[429] ?? 0,
      refusedByWindow: admitted.filter((ok) => !ok).length,
      busiestSecond: maxInWindow(admittedAt, 1000),
      singles: {
        sent: latencies.length,
        delivered,
        notDelivered,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        perSec: round2(latencies.length / seconds),
      },
      bulk: {
        users,
        status: job.status,
        succeeded: progress.succeeded,
        failed: progress.failed,
        cancelled: progress.cancelled,
        exact: exact(job, users),
      },
      statuses,
      cores: coresBetween(cpuBefore, cpuAfter, wallMs),
    };
    runs.push(run);
    console.error(`[budget] ${JSON.stringify(run)}`);
    await sleep(1_000);
  }
} finally {
  await setup.close();
}

const verdict = (r: VendorRun): string => {
  const ratio = r.vendor === "jiguang" ? r.ratioToPaced : r.ratioToLimit;
  return ratio >= 0.95 && ratio <= 1 && r.rejected429 === 0 ? "met" : "MISSED";
};
console.log(
  `\n## Shared mode: one credential per vendor, ${replicaCount} replicas + ${workerCount} workers (${new Date().toISOString()})\n`,
);
console.log(`machine: ${JSON.stringify(facts)}\n`);
console.log(
  `${seconds} s per vendor; single updates at ${singleShare} × the limit in all, spread evenly over the replicas; steady part from ${settle} s after the first call to the end of the single-update load\n`,
);
console.log(
  table(
    [
      "vendor",
      "limit/s",
      "pacer/s",
      "steady s",
      "admitted",
      "achieved/s",
      "÷ limit",
      "÷ pacer rate",
      "429s",
      "busiest second",
      "singles sent (/s)",
      "delivered",
      "not delivered",
      "single p50 / p99 ms",
      "bulk (succeeded/failed/cancelled, exact)",
      "target [0.95, 1.00], 0 × 429",
    ],
    runs.map((r) => [
      r.vendor,
      r.limit,
      r.pacedPerSec,
      r.steadySec,
      r.admittedSteady,
      r.achievedPerSec,
      r.ratioToLimit.toFixed(3),
      r.ratioToPaced.toFixed(3),
      r.rejected429,
      r.busiestSecond,
      `${r.singles.sent} (${r.singles.perSec})`,
      r.singles.delivered,
      JSON.stringify(r.singles.notDelivered),
      `${r.singles.p50} / ${r.singles.p99}`,
      `${r.bulk.succeeded}/${r.bulk.failed}/${r.bulk.cancelled} of ${r.bulk.users}, ${r.bulk.exact ? "exact" : "NOT EXACT"}`,
      verdict(r),
    ]),
  ),
);
console.log("\nCPU (cores) per process over each vendor's run:\n");
const names = [...new Set(runs.flatMap((r) => Object.keys(r.cores)))];
console.log(
  table(
    ["vendor", ...names],
    runs.map((r) => [r.vendor, ...names.map((n) => r.cores[n] ?? "-")]),
  ),
);
console.log(`raw figures: ${writeOut("shared-budget", { facts, limits, seconds, settle, singleShare, runs })}`);
