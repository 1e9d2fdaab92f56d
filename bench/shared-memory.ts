/**
 * Shared mode (issue 22): Redis memory of a 1,000,000-user bulk job. A fresh redis-server, the
 * sandboxes in their own process, one replica with BULK_WORKER=false (it submits), workers started
 * only when the phase needs them. Figures: INFO memory's used_memory before the submit, with the job
 * queued, while it runs and once it has finished; MEMORY USAGE of the job's own keys
 * (RedisJobStore.memoryUsage: job hash, counters, failures, packed ids and offsets, done-bitmaps, chunk
 * states) and of BullMQ's keys (every key under the queue's prefix, SAMPLES 0), with the number of
 * chunk units.
 *
 * - `queued`: the job for `--queued-vendors` (default all four: the most chunk units), no worker
 *   running; then it is cancelled (every chunk no worker holds is settled at once, so it finishes
 *   CANCELLED and its ids and bitmaps go), and two workers drain the units left on the queue.
 * - `run`: a job for `--run-vendor` (default Leanplum: 50 users per call, so 1M users is 20,000 calls
 *   and runs to the end within a minute or two here) with two workers, run to the end.
 *
 *   npm run bench:shared:memory -- [--users=1000000] [--phases=queued,run]
 *        [--queued-vendors=carnival,jiguang,leanplum,usercom] [--run-vendor=leanplum]
 */
import type { Redis } from "ioredis";
import { RedisJobStore } from "../src/bulk/redis-store.js";
import { machineFacts, sleep } from "./support/proc.js";
import { table, writeOut } from "./support/out.js";
import { args } from "./support/setups.js";
import { benchVendors } from "./support/vendor-figures.js";
import { cancelBulk, exact, jobState, startSharedSetup, submitBulk, usersFrom, waitFinished, type SharedSetup } from "./support/shared.js";

const options = args();
const users = Number(options.users ?? 1_000_000);
const phases = (options.phases ?? "queued,run").split(",");
const queuedVendors = benchVendors(options["queued-vendors"]);
const runVendor = options["run-vendor"] ?? "leanplum";
const KEY_PREFIX = "attributes";
const MB = 1_048_576;

interface Reading {
  readonly phase: string;
  readonly moment: string;
  readonly usedMemoryMb: number;
  readonly jobKeysKb: number | null;
  readonly bullmqKeys: number;
  readonly bullmqMb: number;
  readonly waitingUnits: number;
  readonly status: string;
}

async function bullmqUsage(client: Redis): Promise<{ keys: number; bytes: number; waiting: number }> {
  let cursor = "0";
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `${KEY_PREFIX}:bullmq:*`, "COUNT", 1000);
    cursor = next;
    keys += batch.length;
    const pipeline = client.pipeline();
    for (const key of batch) pipeline.call("MEMORY", "USAGE", key, "SAMPLES", "0");
    for (const [error, value] of (await pipeline.exec()) ?? []) if (!error) bytes += Number(value ?? 0);
  } while (cursor !== "0");
  const waiting = await client.llen(`${KEY_PREFIX}:bullmq:bulk-chunks:wait`);
  return { keys, bytes, waiting };
}

const facts = machineFacts();
const readings: Reading[] = [];
const mb = (bytes: number): number => Math.round((bytes / MB) * 100) / 100;

async function reading(
  setup: SharedSetup,
  store: RedisJobStore,
  phase: string,
  moment: string,
  job?: { id: string; vendors: readonly string[] },
): Promise<Reading> {
  const memory = await setup.redis.info("memory");
  const bull = await bullmqUsage(setup.redis.client);
  const status = job ? (await jobState(setup.replicas[0]!.url, job.id)).status : "-";
  const result: Reading = {
    phase,
    moment,
    usedMemoryMb: mb(Number(memory.used_memory)),
    jobKeysKb: job ? Math.round((await store.memoryUsage(job.id, job.vendors)) / 102.4) / 10 : null,
    bullmqKeys: bull.keys,
    bullmqMb: mb(bull.bytes),
    waitingUnits: bull.waiting,
    status,
  };
  readings.push(result);
  console.error(`[memory] ${JSON.stringify(result)}`);
  return result;
}

const big = { BULK_MAX_USER_IDS: String(users), MAX_BODY_BYTES: String(Math.max(8 * MB, users * 24)) };
const ids = usersFrom(1, users);

if (phases.includes("queued")) {
  const setup = await startSharedSetup({ vendors: queuedVendors, seedUsers: 100, replicas: 1, workers: 0, env: big });
  try {
    const store = new RedisJobStore(setup.redis.client, { keyPrefix: KEY_PREFIX, maxFailuresKept: 1000, retentionSeconds: 604_800 });
    await reading(setup, store, "queued", "before submit");
    const started = performance.now();
    const id = await submitBulk(setup.replicas[0]!.url, ids, queuedVendors);
    console.error(`[memory] submitted in ${Math.round(performance.now() - started)} ms`);
    const job = { id, vendors: queuedVendors };
    await reading(setup, store, "queued", "queued (no worker)", job);
    await cancelBulk(setup.replicas[0]!.url, id);
    await waitFinished(setup.replicas[0]!.url, id, 60_000);
    await reading(setup, store, "queued", "cancelled, units still queued", job);
    await setup.addWorker();
    await setup.addWorker();
    const deadline = Date.now() + 300_000;
    while ((await setup.redis.client.llen(`${KEY_PREFIX}:bullmq:bulk-chunks:wait`)) > 0 && Date.now() < deadline) await sleep(500);
    await sleep(2_000);
    await reading(setup, store, "queued", "units drained by two workers", job);
  } finally {
    await setup.close();
  }
}

interface RunSummary {
  vendor: string;
  status: string;
  exact: boolean;
  seconds: number;
  peakUsedMemoryMb: number;
  retainedMb: number;
  progress: unknown;
}
let runSummary: RunSummary | undefined;
if (phases.includes("run")) {
  console.error(`[memory] seeding ${users} ${runVendor} users…`);
  const setup = await startSharedSetup({ vendors: [runVendor], seedUsers: users, replicas: 1, workers: 0, env: big });
  try {
    const store = new RedisJobStore(setup.redis.client, { keyPrefix: KEY_PREFIX, maxFailuresKept: 1000, retentionSeconds: 604_800 });
    const before = await reading(setup, store, "run", "before submit");
    const id = await submitBulk(setup.replicas[0]!.url, ids, [runVendor]);
    const job = { id, vendors: [runVendor] };
    await reading(setup, store, "run", "queued (no worker)", job);
    await setup.addWorker();
    await setup.addWorker();
    const started = performance.now();
    let peak = 0;
    let state = await jobState(setup.replicas[0]!.url, id);
    let sampled = false;
    while (["QUEUED", "RUNNING"].includes(state.status)) {
      await sleep(1_000);
      peak = Math.max(peak, Number((await setup.redis.info("memory")).used_memory));
      state = await jobState(setup.replicas[0]!.url, id);
      const done = state.progress[0]!.succeeded + state.progress[0]!.failed;
      if (!sampled && done >= users / 2) {
        sampled = true;
        await reading(setup, store, "run", `running, ${Math.round((done / users) * 100)}% settled`, job);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    await sleep(2_000);
    const after = await reading(setup, store, "run", "finished", job);
    runSummary = {
      vendor: runVendor,
      status: state.status,
      exact: exact(state, users),
      seconds: Math.round(seconds),
      peakUsedMemoryMb: mb(peak),
      retainedMb: Math.round((after.usedMemoryMb - before.usedMemoryMb) * 100) / 100,
      progress: state.progress,
    };
    console.error(`[memory] ${JSON.stringify(runSummary)}`);
  } finally {
    await setup.close();
  }
}

console.log(`\n## Shared mode: Redis memory of a ${users}-user bulk job (${new Date().toISOString()})\n`);
console.log(`machine: ${JSON.stringify(facts)}\n`);
console.log(
  table(
    ["phase", "moment", "job status", "used_memory MB", "job's keys KB", "BullMQ keys", "BullMQ MB", "units waiting"],
    readings.map((r) => [r.phase, r.moment, r.status, r.usedMemoryMb, r.jobKeysKb ?? "-", r.bullmqKeys, r.bullmqMb, r.waitingUnits]),
  ),
);
if (runSummary)
  console.log(
    `\nrun: ${runSummary.vendor}, ${runSummary.status}${runSummary.exact ? " (exact)" : " (NOT EXACT)"} in ${runSummary.seconds} s; used_memory peak while running ${runSummary.peakUsedMemoryMb} MB; retained after it finished ${runSummary.retainedMb} MB over before the submit`,
  );
console.log(`raw figures: ${writeOut("shared-memory", { facts, users, queuedVendors, runVendor, readings, runSummary })}`);
