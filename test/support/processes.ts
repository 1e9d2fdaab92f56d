import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * The production build, run as real processes: what `npm start` runs, spawned on loopback with a
 * chosen environment. For tests that need a process boundary (signals, exit codes, several
 * replicas, workers). Build once, spawn many:
 *
 *   const processes = new ProcessGroup();
 *   afterAll(() => processes.stopAll());             // kills whatever is left, even after a failure
 *   const subgraph = await processes.start({ env: { SANDBOX: "true" } });
 *   subgraph.kill("SIGTERM"); await subgraph.exited;
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Git-ignored. One directory per source hash, so a stale build is never run. */
const BUILD_ROOT = path.join(ROOT, ".test-build");
const LOCK_STALE_MS = 5 * 60_000;

let building: Promise<string> | undefined;

/**
 * Compiles the production sources (tsconfig.build.json: src/ without tests) into
 * `.test-build/<hash>/` once per content of src/ and the compiler settings, and returns that
 * directory. Concurrent jest workers share one build: the first takes a lock directory
 * (`mkdir` is atomic) and the others wait for the finished build, which appears by rename, whole.
 * Type errors are `npm run typecheck`'s business: this emits without checking (`--noCheck`, the
 * same output, half the CPU).
 */
export function productionBuild(): Promise<string> {
  building ??= buildOnce();
  return building;
}

async function buildOnce(): Promise<string> {
  const hash = await sourceHash();
  const target = path.join(BUILD_ROOT, hash);
  const lock = `${target}.lock`;
  await fs.mkdir(BUILD_ROOT, { recursive: true });
  const deadline = Date.now() + 3 * 60_000;
  for (;;) {
    if (await exists(path.join(target, "main.js"))) return target;
    if (await tryLock(lock)) {
      try {
        if (!(await exists(path.join(target, "main.js")))) await compile(target);
        await pruneOtherBuilds(hash);
      } finally {
        await fs.rm(lock, { recursive: true, force: true });
      }
      return target;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for another worker's build (${lock})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function tryLock(lock: string): Promise<boolean> {
  try {
    await fs.mkdir(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // A worker killed mid-build leaves its lock behind.
    const stat = await fs.stat(lock).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > LOCK_STALE_MS) await fs.rm(lock, { recursive: true, force: true });
    return false;
  }
}

async function compile(target: string): Promise<void> {
  const staging = `${target}.staging-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const { code, output } = await run(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", staging, "--noCheck"]);
  if (code !== 0) {
    await fs.rm(staging, { recursive: true, force: true });
    throw new Error(`tsc -p tsconfig.build.json failed (${code}):\n${output}`);
  }
  await fs.rename(staging, target);
}

/**
 * Builds of other sources are dead weight, and so is a staging directory whose worker died; a build
 * in progress (locked, or staged by a live process) is left alone.
 */
async function pruneOtherBuilds(keep: string): Promise<void> {
  const entries = await fs.readdir(BUILD_ROOT);
  const locked = new Set(entries.filter((e) => e.endsWith(".lock")).map((e) => e.slice(0, -".lock".length)));
  const dead = entries.filter((e) => {
    const pid = /\.staging-(\d+)$/.exec(e)?.[1];
    return pid !== undefined && !alive(Number(pid));
  });
  await Promise.all(
    [...entries.filter((e) => /^[0-9a-f]{16}$/.test(e) && e !== keep && !locked.has(e)), ...dead].map((e) =>
      fs.rm(path.join(BUILD_ROOT, e), { recursive: true, force: true }),
    ),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What the build depends on: src/ (tests excluded, as tsconfig.build.json does) and the compiler settings. */
async function sourceHash(): Promise<string> {
  const files = (await listFiles(path.join(ROOT, "src"))).filter((f) => !f.includes(`${path.sep}__tests__${path.sep}`));
  files.push(...["tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json"].map((f) => path.join(ROOT, f)));
  const hash = createHash("sha256");
  for (const file of files.sort()) {
    hash.update(path.relative(ROOT, file));
    hash.update("\0");
    hash.update(await fs.readFile(file));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? listFiles(full) : Promise.resolve(entry.isFile() ? [full] : []);
    }),
  );
  return nested.flat();
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** The V8 flags of package.json's `start` script (`node <flags> dist/main.js`), which a launcher must pass itself. */
export async function startScriptFlags(): Promise<string[]> {
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  if (words[0] !== "node" || !words.at(-1)?.endsWith(".js")) throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return words.slice(1, -1);
}

/**
 * Loaded into every spawned process (`--import`): it exits when the test process that spawned it
 * is gone (its parent pid changes), so a jest worker killed outright leaves no orphan listening.
 * Unref'd: it never keeps the process alive, and changes nothing else.
 */
const ORPHAN_WATCHDOG = `data:text/javascript,${encodeURIComponent(
  "const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 500).unref();",
)}`;

export interface ProcessOptions {
  /** Shown in errors; default the entry's name. */
  readonly name?: string;
  /** The script to run, relative to the build; default `main.js` (the subgraph). */
  readonly entry?: string;
  /**
   * The whole environment besides PATH: nothing else of the test's is inherited (no NODE_OPTIONS,
   * no vendor credentials a developer's shell may hold).
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * How to tell the process is ready: the URL from its log. Default: the first JSON log line whose
   * `msg` says `… ready at <url>` (main.ts: "attributes subgraph ready at …", users-main.ts: "users
   * subgraph ready at …").
   */
  readonly ready?: (line: string) => string | undefined;
  /** Default 60 s: a bound on a busy machine, not an expectation. */
  readonly readyTimeoutMs?: number;
  /** false: return at once, without waiting for a ready line (a process expected to refuse to start). */
  readonly waitForReady?: boolean;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  /** The URL the process logged as ready. */
  readonly url: string;
  /** stdout lines so far (the most recent 10,000). */
  readonly lines: readonly string[];
  readonly stderr: readonly string[];
  /** stdout's JSON lines, parsed (pino log records); other lines are left out. */
  logs(): Array<Record<string, any>>;
  /** Resolves with the first line so far or later that matches; rejects after `timeoutMs` or when the process exits first. */
  waitForLine(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Sends a signal; false when the process has already exited. */
  kill(signal?: NodeJS.Signals): boolean;
  readonly exited: Promise<ProcessExit>;
  readonly hasExited: boolean;
}

const MAX_LINES = 10_000;

export function readyAtLine(line: string): string | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const msg = (JSON.parse(line) as { msg?: unknown }).msg;
    const match = typeof msg === "string" ? / ready at (https?:\/\/\S+)/.exec(msg) : null;
    return match?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Processes started by one test file. `stopAll()` in afterAll SIGKILLs whatever is still running
 * and waits for it, whether the tests passed or not; the orphan watchdog covers a worker that
 * dies without running afterAll.
 */
export class ProcessGroup {
  private readonly running = new Set<RunningProcess>();

  async start(options: ProcessOptions = {}): Promise<RunningProcess> {
    const build = await productionBuild();
    const entry = path.join(build, options.entry ?? "main.js");
    const name = options.name ?? path.basename(entry, ".js");
    const flags = await startScriptFlags();
    const child = spawn(process.execPath, ["--import", ORPHAN_WATCHDOG, ...flags, entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    const stderr: string[] = [];
    const watchers = new Set<(line: string) => void>();
    let hasExited = false;
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once("exit", () => (hasExited = true));
      // "close", not "exit": only then has every line the process wrote been read from its pipes.
      child.once("close", (code, signal) => {
        hasExited = true;
        resolve({ code, signal });
      });
      // Spawning failed: there will be no "exit". Reported through `exited` and the ready wait.
      child.once("error", (error) => {
        stderr.push(`spawn failed: ${String(error)}`);
        if (child.pid === undefined) {
          hasExited = true;
          resolve({ code: null, signal: null });
        }
      });
    });
    const keep = (list: string[], line: string) => {
      list.push(line);
      if (list.length > MAX_LINES) list.shift();
    };
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
      keep(lines, line);
      for (const watcher of watchers) watcher(line);
    });
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (line) => keep(stderr, line));

    const waitForLine = (match: (line: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = (error?: Error, line?: string) => {
          clearTimeout(timer);
          watchers.delete(watcher);
          if (error) reject(error);
          else resolve(line!);
        };
        const watcher = (line: string) => {
          if (match(line)) done(undefined, line);
        };
        const timer = setTimeout(() => done(failure(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
        watchers.add(watcher);
        void exited.then((exit) => {
          done(failure(`exited (${exit.code ?? exit.signal}) before ${what}`));
        });
      });
    };
    const failure = (message: string) =>
      new Error(
        `${name} (pid ${child.pid}) ${message}\n--- stdout (last lines)\n${lines.slice(-20).join("\n")}\n--- stderr\n${stderr.slice(-20).join("\n")}`,
      );

    const handle = {
      name,
      pid: child.pid ?? -1,
      url: "",
      lines,
      stderr,
      logs: () => lines.filter((l) => l.startsWith("{")).flatMap((l) => tryParse(l)),
      waitForLine,
      kill: (signal: NodeJS.Signals = "SIGTERM") => !hasExited && child.kill(signal),
      exited,
      get hasExited() {
        return hasExited;
      },
    };
    this.running.add(handle);
    void exited.then(() => this.running.delete(handle));

    if (options.waitForReady === false) return handle;
    const ready = options.ready ?? readyAtLine;
    try {
      const line = await waitForLine((l) => ready(l) !== undefined, "its ready line", options.readyTimeoutMs ?? 60_000);
      handle.url = ready(line)!;
    } catch (error) {
      child.kill("SIGKILL");
      await exited;
      throw error;
    }
    return handle;
  }

  /** SIGKILLs every process still running and waits until each has exited. */
  async stopAll(): Promise<void> {
    const left = [...this.running];
    for (const p of left) p.kill("SIGKILL");
    await Promise.all(left.map((p) => p.exited));
  }
}

function tryParse(line: string): Array<Record<string, any>> {
  try {
    return [JSON.parse(line) as Record<string, any>];
  } catch {
    return [];
  }
}
