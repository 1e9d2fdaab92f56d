/**
 * A preload (`node --import=…/diagnostics.js`) for the latency-tail benchmark: it watches a server
 * process from inside, without touching its code, for the pauses a closed-loop tail is made of.
 * SIGUSR2 starts a window; the next SIGUSR2 ends it and appends one JSON line to `$DIAGNOSTICS_FILE.<pid>`:
 * every garbage collection (kind, duration), the event loop's delay (sampled every millisecond) and
 * the time its thread spent busy (event loop utilization).
 */
import { appendFileSync } from "node:fs";
import {
  constants,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type EventLoopUtilization,
  type PerformanceEntry,
} from "node:perf_hooks";

if (!process.env.DIAGNOSTICS_FILE) throw new Error("DIAGNOSTICS_FILE is not set");
// One file per process: the servers of one run share the variable.
const file = `${process.env.DIAGNOSTICS_FILE}.${process.pid}`;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental-marking",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks",
};

let window: { gcs: Array<{ kind: string; ms: number; at: number }>; elu: EventLoopUtilization; startedAt: number } | undefined;
const delay = monitorEventLoopDelay({ resolution: 1 });
const observer = new PerformanceObserver((list) => {
  if (!window) return;
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1;
    window.gcs.push({ kind: GC_KINDS[kind] ?? String(kind), ms: entry.duration, at: performance.timeOrigin + entry.startTime });
  }
});
observer.observe({ entryTypes: ["gc"] });

process.on("SIGUSR2", () => {
  if (!window) {
    delay.reset();
    delay.enable();
    window = { gcs: [], elu: performance.eventLoopUtilization(), startedAt: performance.now() };
    return;
  }
  delay.disable();
  const { gcs, elu, startedAt } = window;
  window = undefined;
  const wallMs = performance.now() - startedAt;
  const byKind: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
  for (const gc of gcs) {
    const k = (byKind[gc.kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    k.count++;
    k.totalMs += gc.ms;
    k.maxMs = Math.max(k.maxMs, gc.ms);
  }
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  appendFileSync(
    file,
    `${JSON.stringify({
      wallMs,
      utilization: performance.eventLoopUtilization(elu).utilization,
      gc: byKind,
      // [start (epoch ms), duration ms] of each, to match against slow responses' times.
      gcPauses: gcs.map((gc) => [gc.at, gc.ms]),
      eventLoopDelayMs: {
        // monitorEventLoopDelay counts the timer's lateness beyond its 1 ms resolution.
        p50: ms(delay.percentile(50)),
        p99: ms(delay.percentile(99)),
        p999: ms(delay.percentile(99.9)),
        max: ms(delay.max),
      },
    })}\n`,
  );
});
