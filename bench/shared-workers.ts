/**
 * Shared mode (issue 22): one against two bulk worker processes on a CPU-bound job. Redis, the
 * Carnival sandbox (its own process, its limit lifted) and one subgraph replica with
 * BULK_WORKER=false (it submits and follows), then 1 or 2 `npm run worker` processes with
 * CARNIVAL_RATE_LIMIT far above what a worker can send, so the workers are the bottleneck. Per setup
 * and round: fresh workers, a warm-up job, then the measured job: users/s from the submit to the
 * job's finishedAt, and every process's CPU (cores, from /proc) over the job. Setups alternate
 * order each round; the ratio is two workers ÷ one worker within a round.
 *
 *   npm run bench:shared:workers -- [--users=100000] [--rounds=3] [--warmup-users=4000]
 *        [--setups=1,2] (worker processes per setup) [--worker-concurrency=4] (BULK_WORKER_CONCURRENCY)
 *        [--vendor=carnival] [--rate=1000000] [--env=NAME=value,…] (more variables for every process)
 *        [--src=dist-bench/variants/NAME/src] (another build for every process, see support/make-variant.ts)
 */
import { median } from "./support/stats.js";
import { machineFacts, parallelCapacity, sleep } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args } from "./support/setups.js";
import { coresBetween, envOption, exact, startSharedSetup, submitBulk, usersFrom, waitFinished } from "./support/shared.js";

const options = args();
const users = Number(options.users ?? 100_000);
const rounds = Number(options.rounds ?? 3);
const warmupUsers = Number(options["warmup-users"] ?? 4_000);
const setups = (options.setups ?? "1,2").split(",").map(Number);
const workerConcurrency = options["worker-concurrency"] ?? "4";
const vendor = options.vendor ?? "carnival";
const rate = Number(options.rate ?? 1_000_000);

const facts = { ...machineFacts(), parallelCapacity: String(await parallelCapacity()) };
const setup = await startSharedSetup({
  vendors: [vendor],
  seedUsers: users,
  sandboxRateLimits: { [vendor]: 1_000_000_000 },
  vendorRates: { [vendor]: rate },
  replicas: 1,
  workers: 0,
  ...(options.src ? { srcDir: options.src } : {}),
  env: {
    BULK_WORKER_CONCURRENCY: workerConcurrency,
    BULK_MAX_USER_IDS: String(Math.max(users, 100_000)),
    MAX_BODY_BYTES: String(Math.max(8 * 1_048_576, users * 24)),
    ...envOption(options),
  },
});

interface Run {
  round: number;
  workers: number;
  users: number;
  seconds: number;
  usersPerSec: number;
  status: string;
  exact: boolean;
  cores: Record<string, number>;
  totalCores: number;
  /** CPU ms of every process together per user (each user is one vendor call here). */
  cpuMsPerUser: number;
  statuses: Record<number, number>;
  /** Redis commands per user over the job, by command (INFO commandstats). */
  redisPerUser: Record<string, number>;
}

const runs: Run[] = [];
try {
  const replica = setup.replicas[0]!;
  const ids = usersFrom(1, users);
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? setups : [...setups].reverse();
    for (const count of order) {
      for (let i = 0; i < count; i++) await setup.addWorker();
      // Warm-up: the workers' JIT and connections, so the measured job meets warm processes.
      const warm = await submitBulk(replica.url, ids.slice(0, warmupUsers), [vendor]);
      await waitFinished(replica.url, warm, 120_000);
      await sleep(300);
      const statusesBefore = (await setup.vendors.stats())[vendor]!.statuses;
      const commandsBefore = await setup.redis.commandCalls();
      const cpuBefore = setup.cpuMs();
      const started = Date.now();
      const id = await submitBulk(replica.url, ids, [vendor]);
      const state = await waitFinished(replica.url, id, 600_000, 50);
      const finished = Date.parse(state.finishedAt!);
      const wallMs = Date.now() - started;
      const cpuAfter = setup.cpuMs();
      const statusesAfter = (await setup.vendors.stats())[vendor]!.statuses;
      const commandsAfter = await setup.redis.commandCalls();
      const redisPerUser: Record<string, number> = {};
      for (const [command, calls] of Object.entries(commandsAfter)) {
        const delta = calls - (commandsBefore[command] ?? 0);
        if (delta > 0) redisPerUser[command] = Math.round((delta / users) * 1000) / 1000;
      }
      const seconds = (finished - started) / 1000;
      const cores = coresBetween(cpuBefore, cpuAfter, wallMs);
      const totalCpuMs = Object.keys(cores).reduce((sum, name) => sum + cpuAfter[name]! - cpuBefore[name]!, 0);
      const statuses: Record<number, number> = {};
      for (const [code, n] of Object.entries(statusesAfter)) {
        const delta = n - (statusesBefore[Number(code)] ?? 0);
        if (delta > 0) statuses[Number(code)] = delta;
      }
      const run: Run = {
        round,
        workers: count,
        users,
        seconds: Math.round(seconds * 100) / 100,
        usersPerSec: Math.round(users / seconds),
        status: state.status,
        exact: exact(state, users),
        cores,
        totalCores: Math.round(Object.values(cores).reduce((a, b) => a + b, 0) * 100) / 100,
        cpuMsPerUser: Math.round((totalCpuMs / users) * 1000) / 1000,
        statuses,
        redisPerUser,
      };
      runs.push(run);
      console.error(`[workers] round ${round}, ${count} worker(s): ${JSON.stringify(run)}`);
      await setup.stopWorkers();
    }
  }
} finally {
  await setup.close();
}

const ratios = Array.from({ length: rounds }, (_, i) => i + 1).map((round) => {
  const one = runs.find((r) => r.round === round && r.workers === setups[0])!;
  const two = runs.find((r) => r.round === round && r.workers === setups.at(-1))!;
  return {
    round,
    ratio: two.usersPerSec / one.usersPerSec,
    // What two cores allow at the CPU per user measured with two workers: the ceiling of the ratio here.
    twoCoreCeiling: 2 / (two.cpuMsPerUser / 1000) / one.usersPerSec,
  };
});
const ratio = median(ratios.map((r) => r.ratio));
const processNames = [...new Set(runs.flatMap((r) => Object.keys(r.cores)))];

console.log(`\n## Shared mode: worker processes on a CPU-bound job (${new Date().toISOString()})\n`);
console.log(`machine: ${JSON.stringify(facts)}\n`);
console.log(
  `${users} ${vendor} users per job, ${vendor.toUpperCase()}_RATE_LIMIT ${rate}, sandbox limit lifted, BULK_WORKER_CONCURRENCY ${workerConcurrency}; one replica (BULK_WORKER=false) submits; seconds from the submit to the job's finishedAt\n`,
);
console.log(
  table(
    [
      "round",
      "workers",
      "seconds",
      "users/s",
      "status",
      "exact",
      ...processNames.map((n) => `${n} cores`),
      "all cores",
      "CPU ms per user",
      "statuses",
    ],
    runs.map((r) => [
      r.round,
      r.workers,
      r.seconds,
      r.usersPerSec,
      r.status,
      r.exact ? "yes" : "NO",
      ...processNames.map((n) => r.cores[n] ?? "-"),
      r.totalCores,
      r.cpuMsPerUser,
      JSON.stringify(r.statuses),
    ]),
  ),
);
console.log();
console.log(
  table(
    ["round", `${setups.at(-1)} ÷ ${setups[0]} workers`, "ceiling on 2 cores at the measured CPU per user"],
    ratios.map((r) => [r.round, r.ratio.toFixed(3), r.twoCoreCeiling.toFixed(3)]),
  ),
);
console.log(
  `\nmedian ratio ${ratio.toFixed(3)} (target ≥ 1.7: ${ratio >= 1.7 ? "met" : "MISSED"}); range ${Math.min(...ratios.map((r) => r.ratio)).toFixed(3)}–${Math.max(...ratios.map((r) => r.ratio)).toFixed(3)}`,
);
console.log(`raw figures: ${writeOut("shared-workers", { facts, users, rate, workerConcurrency, runs, ratios })}`);
