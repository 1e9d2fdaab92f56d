/**
 * The closed-loop latency tail (issue 26): each setup saturated by `c` clients in turn, the order
 * alternating every round, with every response's latency in decimal ms (autocannon's own histogram
 * rounds to whole ms). Added p99 = the build's p99 − Apollo's in the same round. With `diagnose`, the
 * servers run bench/support/diagnostics.ts, and each measured window reports their garbage
 * collections, event-loop delay and busy share, and which of the slow responses met a GC pause.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadTimed, type LoadResult } from "./load.js";
import { cpuMsOf, sleep } from "./proc.js";
import { table } from "./out.js";
import { median } from "./stats.js";

export interface TailSetup {
  readonly name: string;
  readonly url: string;
  readonly body: () => string;
  readonly pid: number;
}

interface Diagnostics {
  readonly wallMs: number;
  readonly utilization: number;
  readonly gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
  readonly gcPauses: ReadonlyArray<readonly [number, number]>;
  readonly eventLoopDelayMs: { p50: number; p99: number; p999: number; max: number };
}

export interface TailRun extends LoadResult {
  readonly setup: string;
  readonly round: number;
  readonly cpuUsPerRequest: number;
  readonly diagnostics?: Omit<Diagnostics, "gcPauses"> & {
    /** Share of responses slower than the run's p99 that overlapped a GC pause, and of all responses. */
    readonly slowMetGc: number;
    readonly allMetGc: number;
    readonly gcMsPerSecond: number;
  };
}

/** The diagnostics preload's window: SIGUSR2 opens it, the next closes it and appends a line to `<file>.<pid>`. */
async function diagnosticsWindow<T>(
  file: string,
  pid: number,
  measure: () => Promise<T>,
): Promise<{ result: T; diagnostics: Diagnostics }> {
  const path = `${file}.${pid}`;
  const linesBefore = existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).length : 0;
  process.kill(pid, "SIGUSR2");
  await sleep(20);
  const result = await measure();
  process.kill(pid, "SIGUSR2");
  for (let waited = 0; waited < 5_000; waited += 20) {
    const lines = existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
    if (lines.length > linesBefore) return { result, diagnostics: JSON.parse(lines.at(-1)!) as Diagnostics };
    await sleep(20);
  }
  throw new Error(`no diagnostics from pid ${pid} in ${path}`);
}

/** Share of the responses (those with latency above `threshold`) whose time on the server overlapped a GC pause. */
function shareMeetingGc(
  latencies: readonly number[],
  endedAt: readonly number[],
  pauses: Diagnostics["gcPauses"],
  threshold: number,
): number {
  const sorted = [...pauses].sort((a, b) => a[0] - b[0]);
  let chosen = 0;
  let met = 0;
  latencies.forEach((latency, i) => {
    if (latency <= threshold) return;
    chosen++;
    const end = endedAt[i]!;
    const start = end - latency;
    if (sorted.some(([at, ms]) => at < end && at + ms > start)) met++;
  });
  return chosen === 0 ? 0 : met / chosen;
}

export async function closedLoopTail(options: {
  readonly setups: readonly TailSetup[];
  /** The setup every other is compared with (Apollo). */
  readonly baseline: string;
  readonly connectionsList: readonly number[];
  readonly rounds: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  /** DIAGNOSTICS_FILE the servers were started with, when they run the diagnostics preload. */
  readonly diagnosticsFile?: string;
}): Promise<{ runs: TailRun[]; rows: Array<Array<string | number>> }> {
  const runs: TailRun[] = [];
  for (const connections of options.connectionsList) {
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? [...options.setups] : [...options.setups].reverse();
      for (const setup of order) {
        const spec = { url: setup.url, connections, body: setup.body };
        await loadTimed({ ...spec, durationSec: options.warmupSec });
        const cpuBefore = cpuMsOf(setup.pid);
        const measure = () => loadTimed({ ...spec, durationSec: options.durationSec });
        const { result, diagnostics } = options.diagnosticsFile
          ? await diagnosticsWindow(options.diagnosticsFile, setup.pid, measure)
          : { result: await measure(), diagnostics: undefined };
        const { latencies, endedAt, ...summary } = result;
        const cpuUsPerRequest = Math.round(((cpuMsOf(setup.pid) - cpuBefore) * 1000) / Math.max(1, summary.requests));
        let extra: Pick<TailRun, "diagnostics"> = {};
        if (diagnostics) {
          const { gcPauses, ...rest } = diagnostics;
          const totalGcMs = Object.values(rest.gc).reduce((n, k) => n + k.totalMs, 0);
          extra = {
            diagnostics: {
              ...rest,
              slowMetGc: shareMeetingGc(latencies, endedAt, gcPauses, summary.p99),
              allMetGc: shareMeetingGc(latencies, endedAt, gcPauses, -1),
              gcMsPerSecond: (totalGcMs * 1000) / rest.wallMs,
            },
          };
        }
        runs.push({ ...summary, setup: setup.name, round, cpuUsPerRequest, ...extra });
        console.error(
          `tail c=${connections} round ${round} ${setup.name}: ${summary.rps} req/s p50 ${summary.p50} p99 ${summary.p99} max ${summary.max} ms, CPU ${cpuUsPerRequest} µs/req${
            extra.diagnostics
              ? `, GC ${extra.diagnostics.gcMsPerSecond.toFixed(1)} ms/s, loop delay p99 ${extra.diagnostics.eventLoopDelayMs.p99} max ${extra.diagnostics.eventLoopDelayMs.max} ms, slow responses meeting a GC ${(100 * extra.diagnostics.slowMetGc).toFixed(0)}% (all ${(100 * extra.diagnostics.allMetGc).toFixed(0)}%)`
              : ""
          }`,
        );
      }
    }
  }
  const rows = options.connectionsList.flatMap((connections) =>
    options.setups
      .filter((s) => s.name !== options.baseline)
      .map((setup) => {
        const of = (name: string) => runs.filter((r) => r.setup === name && r.connections === connections);
        const pairs = of(setup.name).map((build, i) => ({ build, base: of(options.baseline)[i]! }));
        const addedP99 = pairs.map((p) => p.build.p99 - p.base.p99);
        return [
          connections,
          setup.name,
          median(pairs.map((p) => p.build.rps / p.base.rps)).toFixed(3),
          median(pairs.map((p) => p.build.cpuUsPerRequest / p.base.cpuUsPerRequest)).toFixed(2),
          median(pairs.map((p) => p.build.p50 - p.base.p50)).toFixed(2),
          `${median(pairs.map((p) => p.base.p99)).toFixed(2)} / ${median(pairs.map((p) => p.build.p99)).toFixed(2)}`,
          median(addedP99).toFixed(2),
          `${Math.min(...addedP99).toFixed(2)} to ${Math.max(...addedP99).toFixed(2)}`,
          median(addedP99) <= 2 ? "met" : "MISSED",
        ];
      }),
  );
  console.log(
    `\nClosed-loop tail: each setup saturated by c clients in turn, order alternating, ${options.rounds} rounds of ${options.durationSec} s after ${options.warmupSec} s warm-up; per-response latency in decimal ms:\n`,
  );
  console.log(
    table(
      [
        "c",
        "build",
        `req/s ÷ ${options.baseline}`,
        "CPU/req ÷ baseline's",
        "added p50 ms",
        "p99 ms baseline / build (medians)",
        "added p99 ms (median of rounds)",
        "range",
        "target (≤ 2 ms)",
      ],
      rows,
    ),
  );
  if (options.diagnosticsFile) {
    const diagnosticRows = options.connectionsList.flatMap((connections) =>
      options.setups.map((setup) => {
        const ds = runs.filter((r) => r.setup === setup.name && r.connections === connections).map((r) => r.diagnostics!);
        const kind = (name: string, field: "count" | "totalMs" | "maxMs") => median(ds.map((d) => d.gc[name]?.[field] ?? 0));
        const perSecond = (name: string) => median(ds.map((d) => ((d.gc[name]?.count ?? 0) * 1000) / d.wallMs));
        return [
          connections,
          setup.name,
          median(ds.map((d) => d.utilization)).toFixed(3),
          median(ds.map((d) => d.gcMsPerSecond)).toFixed(1),
          `${perSecond("scavenge").toFixed(1)} / ${(kind("scavenge", "totalMs") / Math.max(1, kind("scavenge", "count"))).toFixed(2)} / ${kind("scavenge", "maxMs").toFixed(2)}`,
          `${perSecond("mark-compact").toFixed(2)} / ${kind("mark-compact", "maxMs").toFixed(2)}`,
          `${median(ds.map((d) => d.eventLoopDelayMs.p99)).toFixed(2)} / ${median(ds.map((d) => d.eventLoopDelayMs.max)).toFixed(2)}`,
          `${(100 * median(ds.map((d) => d.slowMetGc))).toFixed(0)}% / ${(100 * median(ds.map((d) => d.allMetGc))).toFixed(0)}%`,
        ];
      }),
    );
    console.log("\nWhere the pauses come from (medians over rounds of each measured window, from inside each server):\n");
    console.log(
      table(
        [
          "c",
          "setup",
          "event loop busy",
          "GC ms per s",
          "scavenges per s / mean ms / max ms",
          "mark-compacts per s / max ms",
          "event-loop delay p99 / max ms",
          "responses meeting a GC pause: slower than p99 / all",
        ],
        diagnosticRows,
      ),
    );
  }
  return { runs, rows };
}
