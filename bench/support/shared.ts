/**
 * Shared mode's process layout for the issue-22 benchmarks: Redis (its own redis-server), the
 * sandbox vendors (their own process), subgraph replicas (`dist/main.js` with REDIS_URL) and bulk
 * workers (`npm run worker`), every one pointed at the same Redis and the same sandboxes, as
 * compose.yaml and the README's "by hand" lines run them. Plus the GraphQL calls the benchmarks
 * make on a replica (submit, follow, cancel a bulk job).
 */
import path from "node:path";
import { gql } from "./load.js";
import {
  cpuMsOf,
  startSubgraph,
  startVendorsProcess,
  startWorker,
  subgraphEnv,
  SUBGRAPH_MAIN,
  WORKER_MAIN,
  type ServerProcess,
  type VendorsProcess,
} from "./proc.js";
import { startBenchRedis, type BenchRedis } from "./redis-server.js";
import { ALL_VENDORS, RATE_ENV } from "./setups.js";
import type { VendorsProcessConfig } from "./vendors-process.js";

export interface SharedSetup {
  readonly redis: BenchRedis;
  readonly vendors: VendorsProcess;
  readonly replicas: ServerProcess[];
  readonly workers: ServerProcess[];
  /** The environment every replica and worker got (vendor URLs and credentials, rates, REDIS_URL). */
  readonly env: Record<string, string>;
  /** Starts one more worker (same environment). */
  addWorker(): Promise<ServerProcess>;
  /** Stops the workers (SIGTERM, chunks in flight finish), leaving the replicas, Redis and the sandboxes. */
  stopWorkers(): Promise<void>;
  /** CPU time used so far (ms) by each process, by role. */
  cpuMs(): Record<string, number>;
  close(): Promise<void>;
}

export interface SharedSetupOptions {
  readonly vendors?: readonly string[];
  readonly seedUsers: number;
  /** Sandbox rate windows (requests per second, a strict sliding second). */
  readonly sandboxRateLimits?: Readonly<Record<string, number>>;
  /** Strict windows the bench puts in front of sandboxes that have none of their own (Leanplum). */
  readonly strictWindows?: Readonly<Record<string, number>>;
  readonly recordArrivals?: boolean;
  /** …_RATE_LIMIT of every process. */
  readonly vendorRates?: Readonly<Record<string, number>>;
  readonly replicas: number;
  readonly workers: number;
  /** More variables for every process; `replicaEnv` for the replicas only (BULK_WORKER=false by default). */
  readonly env?: Readonly<Record<string, string>>;
  readonly replicaEnv?: Readonly<Record<string, string>>;
  /** Left out: no REDIS_URL for the replicas (in-process mode, e.g. as a baseline). */
  readonly inProcessReplicas?: boolean;
  /**
   * Another build's compiled src/ for every replica and worker (a variant from support/make-variant.ts:
   * dist-bench/variants/NAME/src); default this build's.
   */
  readonly srcDir?: string;
}

export async function startSharedSetup(options: SharedSetupOptions): Promise<SharedSetup> {
  const redis = await startBenchRedis();
  const config: VendorsProcessConfig = {
    ...(options.vendors ? { vendors: options.vendors } : {}),
    seedUsers: options.seedUsers,
    ...(options.sandboxRateLimits ? { rateLimits: options.sandboxRateLimits } : {}),
    ...(options.strictWindows ? { strictWindows: options.strictWindows } : {}),
    ...(options.recordArrivals ? { recordArrivals: true } : {}),
  };
  let vendors: VendorsProcess;
  try {
    vendors = await startVendorsProcess(config, ["--max-old-space-size=16384"]);
  } catch (error) {
    await redis.stop();
    throw error;
  }
  const replicas: ServerProcess[] = [];
  const workers: ServerProcess[] = [];
  const subgraphMain = options.srcDir ? path.resolve(options.srcDir, "main.js") : SUBGRAPH_MAIN;
  const workerMain = options.srcDir ? path.resolve(options.srcDir, "worker-main.js") : WORKER_MAIN;
  const env: Record<string, string> = {};
  for (const id of options.vendors ?? ALL_VENDORS) {
    for (const [name, value] of Object.entries(vendors.envs[id] ?? {})) if (value !== undefined) env[name] = value;
  }
  for (const [id, rate] of Object.entries(options.vendorRates ?? {})) env[RATE_ENV[id]!] = String(rate);
  Object.assign(env, { REDIS_URL: redis.url }, options.env);
  const close = async (): Promise<void> => {
    await Promise.all([...replicas, ...workers].map((p) => p.close()));
    await vendors.close();
    await redis.stop();
  };
  try {
    const replicaEnv: Record<string, string> = { ...env, BULK_WORKER: "false", ...options.replicaEnv };
    if (options.inProcessReplicas) delete replicaEnv.REDIS_URL;
    replicas.push(
      ...(await Promise.all(Array.from({ length: options.replicas }, () => startSubgraph(subgraphEnv(replicaEnv), [], subgraphMain)))),
    );
    workers.push(...(await Promise.all(Array.from({ length: options.workers }, () => startWorker(subgraphEnv(env), [], workerMain)))));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    redis,
    vendors,
    replicas,
    workers,
    env,
    async addWorker() {
      const worker = await startWorker(subgraphEnv(env), [], workerMain);
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(workers.map((w) => w.close()));
      workers.length = 0;
    },
    cpuMs() {
      const out: Record<string, number> = {
        redis: cpuMsOf(redis.pid),
        sandboxes: cpuMsOf(vendors.pid),
        bench: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      };
      replicas.forEach((r, i) => (out[`replica${i + 1}`] = cpuMsOf(r.pid)));
      workers.forEach((w, i) => (out[`worker${i + 1}`] = cpuMsOf(w.pid)));
      return out;
    },
    close,
  };
}

/** `--env=NAME=value,NAME=value`: more variables for every replica and worker. */
export function envOption(options: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    (options.env ?? "")
      .split(",")
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
  );
}

/** Cores each process used between two `cpuMs()` readings over `wallMs`. */
export function coresBetween(before: Record<string, number>, after: Record<string, number>, wallMs: number): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after)
      .filter((name) => before[name] !== undefined)
      .map((name) => [name, Math.round(((after[name]! - before[name]!) / wallMs) * 100) / 100]),
  );
}

const SUBMIT = `mutation Bulk($input: AttributesBulkSetCustomAttributeInput!) {
  bulkSetCustomAttribute(input: $input) { __typename ... on AttributesBulkJob { id status } ... on AttributesError { code message } }
}`;
const JOB = `query Job($id: ID!) {
  attributeBulkJob(id: $id) {
    __typename
    ... on AttributesBulkJob { status createdAt startedAt finishedAt progress { vendor total succeeded failed cancelled pending } }
  }
}`;
const CANCEL = `mutation Cancel($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename ... on AttributesBulkJob { status } } }`;

export interface JobState {
  readonly status: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly progress: Array<{ vendor: string; total: number; succeeded: number; failed: number; cancelled: number; pending: number }>;
}

export const usersFrom = (first: number, count: number): string[] => Array.from({ length: count }, (_, i) => String(first + i));

/** Submits a bulk SET plan=gold through a replica; returns the job id. */
export async function submitBulk(url: string, userIds: readonly string[], vendors: readonly string[]): Promise<string> {
  const answer = await gql(url, SUBMIT, {
    input: { userIds, attribute: "plan", value: { string: "gold" }, vendors: vendors.map((v) => v.toUpperCase()) },
  });
  const job = answer.body?.data?.bulkSetCustomAttribute;
  if (job?.__typename !== "AttributesBulkJob") throw new Error(`submit failed: ${JSON.stringify(answer.body).slice(0, 2000)}`);
  return job.id as string;
}

export async function jobState(url: string, id: string): Promise<JobState> {
  const answer = await gql(url, JOB, { id });
  const job = answer.body?.data?.attributeBulkJob;
  if (job?.__typename !== "AttributesBulkJob") throw new Error(`attributeBulkJob failed: ${JSON.stringify(answer.body).slice(0, 2000)}`);
  return job as JobState;
}

export async function cancelBulk(url: string, id: string): Promise<void> {
  await gql(url, CANCEL, { id });
}

/** Polls until the job is no longer QUEUED or RUNNING (or `timeoutMs` passes: then throws). */
export async function waitFinished(url: string, id: string, timeoutMs: number, pollMs = 100): Promise<JobState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await jobState(url, id);
    if (!["QUEUED", "RUNNING"].includes(state.status)) return state;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${state.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** succeeded + failed + cancelled = total for every vendor. */
export const exact = (state: JobState, users: number): boolean =>
  state.progress.every((p) => p.total === users && p.succeeded + p.failed + p.cancelled === p.total);
