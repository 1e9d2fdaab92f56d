/**
 * Child process that hosts the sandbox vendors for a benchmark, so their CPU and memory are not
 * the subgraph's. Configured by BENCH_VENDORS (JSON, see VendorsProcessConfig); answers requests
 * from the parent over IPC: stats, journal summaries, clearing.
 */
import "reflect-metadata";
import { parseRandomFaults, RateWindow, type SandboxHandler, type SandboxServer } from "../../src/sandbox/kit.js";
import { vendorModules } from "../../src/vendors/index.js";

export interface VendorsProcessConfig {
  /** Vendor ids to start (default: every registered vendor). */
  readonly vendors?: readonly string[];
  /** Users that exist in every sandbox: "1".."N". */
  readonly seedUsers: number;
  /** Per vendor: the sandbox's rate limit (requests per second), replacing the documented one. */
  readonly rateLimits?: Readonly<Record<string, number>>;
  /** Per vendor: milliseconds every request waits before it is answered. */
  readonly delaysMs?: Readonly<Record<string, number>>;
  /** SANDBOX_FAULTS syntax, applied to every sandbox. */
  readonly faults?: string;
  /**
   * Keep the time (ms since the epoch, sub-millisecond) at which every sandbox's rate window
   * counted each request, for the "arrivals" request (bench/rate-budget.ts): how arrivals bunch.
   */
  readonly recordArrivals?: boolean;
  /**
   * Per vendor whose sandbox has no account-wide rate window of its own (Leanplum's refuses only
   * concurrent requests per user): a strict sliding one-second window at this limit in front of it,
   * the same RateWindow the other sandboxes count with, answering 429 with Retry-After beyond it.
   */
  readonly strictWindows?: Readonly<Record<string, number>>;
}

export type VendorsRequest =
  | { readonly id: number; readonly op: "stats" }
  | { readonly id: number; readonly op: "journal" }
  | { readonly id: number; readonly op: "clear" }
  | { readonly id: number; readonly op: "mark" }
  | { readonly id: number; readonly op: "arrivals" }
  | { readonly id: number; readonly op: "admissions" };

/** With `recordArrivals`: every request a rate window counted since the last call, and whether it admitted it. */
export interface Admissions {
  /** Epoch ms (sub-millisecond), in the order counted. */
  readonly at: number[];
  readonly admitted: boolean[];
}

export interface SandboxStats {
  readonly requests: number;
  readonly statuses: Record<number, number>;
  /** Requests since the last "mark", and the span between the first and last of them (10 ms resolution). */
  readonly sinceMark: number;
  readonly spanMs: number;
}

/** Journal entries counted by "METHOD /path" (digits folded to :id; Leanplum by action). */
export type JournalSummary = Record<string, Record<string, number>>;

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_VENDORS ?? "{}") as VendorsProcessConfig;
  const arrivals: number[] = [];
  const admissions: { at: number[]; admitted: boolean[] } = { at: [], admitted: [] };
  if (config.recordArrivals) {
    // The window's own clock reading for each request it counts (admitted or refused), as epoch time.
    const prototype = RateWindow.prototype;
    const admit = Object.getOwnPropertyDescriptor(prototype, "admit")!.value as (key: string, now?: number) => boolean;
    prototype.admit = function (this: RateWindow, key: string, now: number = performance.now()): boolean {
      const at = performance.timeOrigin + now;
      arrivals.push(at);
      const admitted = admit.call(this, key, now);
      admissions.at.push(at);
      admissions.admitted.push(admitted);
      return admitted;
    };
  }
  const wanted = config.vendors ?? vendorModules.map((m) => m.id);
  const seedUserIds = Array.from({ length: config.seedUsers }, (_, i) => String(i + 1));
  const faults = config.faults ? parseRandomFaults(config.faults) : undefined;
  if (faults && faults.problems.length > 0) throw new Error(faults.problems.join("; "));
  const sandboxes = new Map<string, SandboxServer>();
  const envs: Record<string, Record<string, string | undefined>> = {};
  for (const module of vendorModules.filter((m) => wanted.includes(m.id))) {
    const rate = config.rateLimits?.[module.id];
    const sandbox = await module.startSandbox({
      host: "127.0.0.1",
      seedUserIds,
      ...(rate ? { rateLimitPerSecond: rate } : {}),
    });
    const strictLimit = config.strictWindows?.[module.id];
    if (strictLimit) {
      // The handler is the sandbox's vendor logic (admin routes and faults are served before it).
      const target = sandbox as unknown as { handler: SandboxHandler };
      const inner = target.handler;
      const window = new RateWindow(strictLimit);
      target.handler = (request) =>
        window.admit("account")
          ? inner(request)
          : {
              status: 429,
              headers: { "retry-after": String(window.retryAfterSeconds("account")) },
              body: { response: [{ success: false, error: { message: "Too many requests (bench strict window)" } }] },
            };
    }
    const delay = config.delaysMs?.[module.id];
    if (delay) sandbox.setResponseDelay(delay);
    if (faults) sandbox.setRandomFaults(faults.faults);
    sandboxes.set(module.id, sandbox);
    envs[module.id] = { ...module.sandboxEnv(sandbox.url) };
  }

  // Watches request counters, so a benchmark can tell when each vendor's traffic started and ended.
  const windows = new Map(
    [...sandboxes].map(([id, s]) => [id, { base: s.requestCount(), last: s.requestCount(), firstAt: NaN, lastAt: NaN }]),
  );
  setInterval(() => {
    const now = performance.now();
    for (const [id, s] of sandboxes) {
      const w = windows.get(id)!;
      const n = s.requestCount();
      if (n === w.last) continue;
      if (Number.isNaN(w.firstAt)) w.firstAt = now;
      w.lastAt = now;
      w.last = n;
    }
  }, 10).unref();

  process.on("message", (message: VendorsRequest) => {
    let result: unknown;
    switch (message.op) {
      case "stats":
        result = Object.fromEntries(
          [...sandboxes].map(([id, s]) => {
            const w = windows.get(id)!;
            const stats: SandboxStats = {
              requests: s.requestCount(),
              statuses: s.statusCounts(),
              sinceMark: s.requestCount() - w.base,
              spanMs: Number.isNaN(w.firstAt) ? 0 : Math.round(w.lastAt - w.firstAt),
            };
            return [id, stats];
          }),
        );
        break;
      case "mark":
        for (const [id, s] of sandboxes)
          windows.set(id, {
            base: s.requestCount(),
            last: s.requestCount(),
            firstAt: NaN,
            lastAt: NaN,
          });
        result = true;
        break;
      case "journal":
        result = Object.fromEntries([...sandboxes].map(([id, s]) => [id, summarize(s)]));
        break;
      case "clear":
        for (const s of sandboxes.values()) s.clearJournal();
        arrivals.length = 0;
        admissions.at.length = 0;
        admissions.admitted.length = 0;
        result = true;
        break;
      case "admissions":
        result = { at: admissions.at.splice(0), admitted: admissions.admitted.splice(0) } satisfies Admissions;
        break;
      case "arrivals":
        result = arrivals.splice(0);
        break;
    }
    process.send!({ id: message.id, result });
  });
  process.on("disconnect", () => {
    void Promise.all([...sandboxes.values()].map((s) => s.close())).then(() => process.exit(0));
  });
  process.send!({ ready: true, envs });
}

function summarize(sandbox: SandboxServer): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of sandbox.journal()) {
    const action = entry.query.action ? `?action=${entry.query.action}` : "";
    const key = `${entry.method} ${entry.path.replace(/\/\d+(?=\/|$)/g, "/:id")}${action}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

await main();
