/** Child processes of a benchmark: the sandbox vendors, the subgraph, the baselines. */
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freeLoopbackPort } from "../../src/dev/ports.js";
import { median, round2 } from "./load.js";
import type { Admissions, JournalSummary, SandboxStats, VendorsProcessConfig } from "./vendors-process.js";

/** dist-bench/ (compiled bench and src live side by side there). */
export const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SUBGRAPH_MAIN = path.join(DIST, "src/main.js");
/** Shared mode's bulk worker process (`npm run worker`). */
export const WORKER_MAIN = path.join(DIST, "src/worker-main.js");

export interface VendorsProcess {
  readonly pid: number;
  /** Per vendor id: the variables that point the subgraph at its sandbox (URL and sandbox credentials). */
  readonly envs: Record<string, Record<string, string | undefined>>;
  stats(): Promise<Record<string, SandboxStats>>;
  /**
   * Stats once every request the sandboxes received has been answered (at most `timeoutMs`): a
   * load generator stops with requests still in flight, and the subgraph finishes their vendor calls.
   */
  settledStats(timeoutMs?: number): Promise<Record<string, SandboxStats>>;
  journal(): Promise<JournalSummary>;
  clear(): Promise<void>;
  /** Starts a new counting window for `stats().sinceMark` and `spanMs`. */
  mark(): Promise<void>;
  /** With `recordArrivals`: when each rate window counted a request (epoch ms), since the last call. */
  arrivals(): Promise<number[]>;
  /** With `recordArrivals`: every request the rate windows counted since the last call, admitted or refused. */
  admissions(): Promise<Admissions>;
  close(): Promise<void>;
}

export async function startVendorsProcess(config: VendorsProcessConfig, nodeArgs: string[] = []): Promise<VendorsProcess> {
  const child = fork(path.join(DIST, "bench/support/vendors-process.js"), [], {
    env: { ...process.env, BENCH_VENDORS: JSON.stringify(config) },
    execArgv: nodeArgs,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const envs = await new Promise<VendorsProcess["envs"]>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`vendors process exited with ${code}`)));
    child.on("message", (message: { ready?: boolean; envs?: VendorsProcess["envs"]; id?: number; result?: unknown }) => {
      if (message.ready) resolve(message.envs!);
      else if (message.id !== undefined) {
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
      }
    });
  });
  child.removeAllListeners("exit");
  const ask = <T>(op: "stats" | "journal" | "clear" | "mark" | "arrivals" | "admissions"): Promise<T> =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: unknown) => void);
      child.send({ id, op });
    });
  const stats = (): Promise<Record<string, SandboxStats>> => ask("stats");
  const answered = (all: Record<string, SandboxStats>): boolean =>
    Object.values(all).every((s) => s.requests === Object.values(s.statuses).reduce((sum, n) => sum + n, 0));
  return {
    pid: child.pid!,
    envs,
    stats,
    async settledStats(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      let last = await stats();
      while (!answered(last) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        last = await stats();
      }
      return last;
    },
    journal: () => ask("journal"),
    clear: () => ask<void>("clear"),
    mark: () => ask<void>("mark"),
    arrivals: () => ask<number[]>("arrivals"),
    admissions: () => ask<Admissions>("admissions"),
    close: () => stopChild(child, () => child.disconnect()),
  };
}

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  /** File the server's stdout (its pino log) goes to: a file, so no benchmark process pays for reading it. */
  readonly logFile: string;
  /** Log lines at warn level or above (pino JSON), read from the log file. */
  warnings(): string[];
  readonly exitCode: () => number | null;
  /** Date.now() when the process was spawned (≈ the start of `--trace-gc` times). */
  readonly startedAt: number;
  close(): Promise<void>;
}

/** Environment every subgraph run shares: production mode, loopback, no GraphiQL. */
export function subgraphEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    AUTH_DISABLED: "true",
    SANDBOX: "false",
  };
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

let serverCount = 0;

/** The node flags the subgraph ships with (`npm start`, the same as the Dockerfile's CMD): benchmarks run it as it runs. */
const SHIPPED_NODE_FLAGS = (
  JSON.parse(readFileSync(path.join(DIST, "..", "package.json"), "utf8")) as { scripts: { start: string } }
).scripts.start
  .split(" ")
  .filter((arg) => arg.startsWith("--"));

/**
 * Starts the subgraph's real entry point (compiled src/main.ts) and waits for its "ready" log line.
 * Vendors are "live" here: their URLs and credentials point at the sandboxes of the vendors process.
 */
export async function startSubgraph(
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
  main = SUBGRAPH_MAIN,
  limits: { memoryLimitMb?: number } = {},
): Promise<ServerProcess> {
  // Above info the "ready" line is not logged: listen on a port chosen here and probe /health instead.
  const quiet = !["trace", "debug", "info", undefined].includes(env.LOG_LEVEL);
  const port = quiet ? await freeLoopbackPort() : undefined;
  return startServer(
    "subgraph",
    // A variant's own flags come last, so they can override the shipped ones (e.g. --memory-reducer).
    [...SHIPPED_NODE_FLAGS, ...nodeArgs, main],
    port === undefined ? env : { ...env, PORT: String(port) },
    (line) => {
      if (!line.includes("attributes subgraph ready")) return undefined;
      return (JSON.parse(line) as { url: string }).url;
    },
    limits.memoryLimitMb,
    port === undefined ? undefined : `http://127.0.0.1:${port}/`,
  );
}

/** The URL once its /health answers 200. */
async function probeHealth(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}health`);
    return response.ok ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a bulk worker (compiled src/worker-main.ts, `npm run worker`'s flags, which are `npm start`'s)
 * and waits for its "ready" log line; its `url` serves /health, /ready and /metrics only.
 */
export function startWorker(env: NodeJS.ProcessEnv, nodeArgs: string[] = [], main = WORKER_MAIN): Promise<ServerProcess> {
  return startServer("worker", [...SHIPPED_NODE_FLAGS, ...nodeArgs, main], env, (line) => {
    if (!line.includes("attributes bulk worker ready")) return undefined;
    return (JSON.parse(line) as { url: string }).url;
  });
}

/**
 * A memory cgroup of that limit for one server, as a container's memory limit would be (cgroup v2,
 * or v1's memory controller); needs root. Node sizes its default heap from the limit it finds there.
 */
export function memoryCgroup(limitMb: number): { dir: string; remove(): Promise<void> } {
  const name = `attributes-bench-${process.pid}-${++serverCount}`;
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const dir = v2 ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/memory/${name}`;
  mkdirSync(dir);
  const remove = async (): Promise<void> => {
    // An emptied cgroup can stay busy for a moment after its process exits.
    for (let attempt = 1; ; attempt++) {
      try {
        rmdirSync(dir);
        return;
      } catch (error) {
        if (attempt >= 20) {
          console.error(`could not remove the memory cgroup ${dir}: ${String(error)}`);
          return;
        }
        await sleep(100);
      }
    }
  };
  try {
    writeFileSync(path.join(dir, v2 ? "memory.max" : "memory.limit_in_bytes"), String(limitMb * 1_048_576));
  } catch (error) {
    rmdirSync(dir);
    throw error;
  }
  return { dir, remove };
}

/** Starts a baseline server script (bench/support/*.js) that prints `READY <url>`. */
export function startScript(script: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<ServerProcess> {
  return startServer(script.replace(/\.js$/, ""), [...nodeArgs, path.join(DIST, "bench/support", script)], env, (line) =>
    line.startsWith("READY ") ? line.slice(6).trim() : undefined,
  );
}

async function startServer(
  name: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: (line: string) => string | undefined,
  memoryLimitMb?: number,
  /** Readiness by probing this URL's /health rather than by a log line. */
  probeUrl?: string,
): Promise<ServerProcess> {
  const dir = path.resolve(DIST, "../bench/out/logs");
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, `${process.pid}-${++serverCount}-${name}.log`);
  const fd = openSync(logFile, "w");
  const startedAt = Date.now();
  // In a memory cgroup, the shell joins it and then becomes node (same pid), so node starts inside it.
  const cgroup = memoryLimitMb ? memoryCgroup(memoryLimitMb) : undefined;
  const child = cgroup
    ? spawn("/bin/sh", ["-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup.dir, process.execPath, ...argv], {
        env,
        stdio: ["ignore", fd, "inherit"],
      })
    : spawn(process.execPath, argv, { env, stdio: ["ignore", fd, "inherit"] });
  closeSync(fd);
  const started = Date.now();
  let url: string | undefined;
  try {
    while (url === undefined) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready; see ${logFile}`);
      if (Date.now() - started > 60_000) throw new Error(`${name} not ready after 60 s; see ${logFile}`);
      await sleep(50);
      if (probeUrl) {
        url = await probeHealth(probeUrl);
        continue;
      }
      for (const line of readFileSync(logFile, "utf8").split("\n")) {
        url = readyUrl(line);
        if (url) break;
      }
    }
  } catch (error) {
    // Leave no process or cgroup behind a start that failed.
    await stopChild(child, () => child.kill("SIGTERM"));
    await cgroup?.remove();
    throw error;
  }
  // BENCH_SERVER_CPUS=1: every thread of the server under test on those CPUs (`taskset -a`), so it
  // does not share a core with the load generator and the sandboxes (run the benchmark itself with
  // `taskset -c 0`).
  const cpus = process.env.BENCH_SERVER_CPUS;
  if (cpus) execFileSync("taskset", ["-a", "-p", "-c", cpus, String(child.pid)], { stdio: "ignore" });
  return {
    pid: child.pid!,
    url,
    logFile,
    warnings: () =>
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((line) => /"level":(40|50|60)/.test(line)),
    exitCode: () => child.exitCode,
    startedAt,
    close: () => stopChild(child, () => child.kill("SIGTERM")).then(() => cgroup?.remove()),
  };
}

/** From a `--trace-gc` log: the heap in MB left after each full (Mark-Compact) collection, at ms since process start. */
export function liveHeapAfterFullGcs(logFile: string): Array<{ atMs: number; mb: number }> {
  const out: Array<{ atMs: number; mb: number }> = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    const match = /\s(\d+) ms: Mark-Compact[^>]*-> ([\d.]+) \(/.exec(line);
    if (match) out.push({ atMs: Number(match[1]), mb: Number(match[2]) });
  }
  return out;
}

function stopChild(child: ChildProcess, stop: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    stop();
  });
}

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakRssMb: kb("VmHWM") / 1024 };
}

export function machineFacts(): Record<string, string> {
  return {
    nproc: String(os.availableParallelism()),
    cpu: os.cpus()[0]?.model ?? "unknown",
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free at start`,
    loadavg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    node: process.version,
    date: new Date().toISOString(),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = 100;

/** A fixed amount of single-threaded work (~0.3 s here); prints the milliseconds it took. */
const SPIN = "const t=performance.now();let x=0;for(let i=0;i<1e8;i++)x+=i%7;process.stdout.write(String(performance.now()-t+x*0))";

function spinMs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", SPIN], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("exit", () => resolve(Number(out)));
  });
}

/**
 * How many single-core equivalents two busy processes get together right now: 2 on two free cores,
 * less when the cores are shared with other tenants. Bounds what several processes (subgraph,
 * sandboxes, load generator) can do at once on this machine. The same work alone and as a pair,
 * alternated five times, medians compared: one spin's time alone varies by ±20% here, so a single
 * pair says little. About 3 seconds; still a rough gauge.
 */
export async function parallelCapacity(): Promise<number> {
  const alone: number[] = [];
  const paired: number[] = [];
  for (let i = 0; i < 5; i++) {
    alone.push(await spinMs());
    paired.push(...(await Promise.all([spinMs(), spinMs()])));
  }
  return round2((2 * median(alone)) / median(paired));
}
