import { setMaxListeners } from "node:events";
import { laneKey } from "./store.js";
import type { Lane } from "./types.js";
import { MAX_TIMER_MS } from "../util/sleep.js";

/** Works one lane: attempts its due deliveries in order (DeliveryEngine.runLane). */
export type LaneRunner = (lane: Lane, signal: AbortSignal) => Promise<void>;

/**
 * When lanes are worked: in this process on timers (TimerLaneScheduler), or by BullMQ delayed jobs
 * that any worker process takes (BullmqLaneScheduler). A wake may come early, late or twice: the
 * runner checks what is due under the lane's lock.
 */
export interface LaneScheduler {
  /** Makes sure the lane is worked at `at` (epoch ms) or soon after. */
  wake(lane: Lane, at: number): Promise<void>;
  /** Starts working lanes in this process with `run` (a process that does not work the queue never calls it). */
  start(run: LaneRunner): void;
  /** Takes no new lane; lanes being worked get `graceMs`, then their waits are given up (nothing sent is cut off). */
  stop(graceMs: number): Promise<void>;
}

/**
 * The embedded mode's scheduler: one timer per lane (the earliest wake wins), and at most
 * `concurrency` lanes worked at once; the rest wait their turn in wake order.
 */
export class TimerLaneScheduler implements LaneScheduler {
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout; lane: Lane }>();
  private readonly ready: Lane[] = [];
  private readonly readyKeys = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  // One signal for every lane this process runs, each of which may wait on it (for a rate slot, say).
  private readonly controller = withoutListenerLimit(new AbortController());
  private run: LaneRunner | undefined;
  private stopped = false;

  constructor(
    private readonly concurrency: number,
    private readonly onError: (error: unknown, lane: Lane) => void,
    private readonly now: () => number = Date.now,
  ) {}

  wake(lane: Lane, at: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const key = laneKey(lane);
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return Promise.resolve();
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.enqueue(key, lane);
      },
      // A longer delay would overflow the timer, which then fires at once (and again, and again):
      // the longest one instead, and the lane, not due yet, is woken again for the rest.
      Math.min(MAX_TIMER_MS, Math.max(0, at - this.now())),
    );
    timer.unref();
    this.timers.set(key, { at, timer, lane });
    return Promise.resolve();
  }

  start(run: LaneRunner): void {
    this.run = run;
    this.pump();
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    const abort = setTimeout(() => this.controller.abort(new Error("delivery worker stopping")), Math.max(0, graceMs));
    await Promise.allSettled([...this.running.values()]);
    clearTimeout(abort);
  }

  private enqueue(key: string, lane: Lane): void {
    if (this.stopped) return;
    if (!this.readyKeys.has(key)) {
      this.readyKeys.add(key);
      this.ready.push(lane);
    }
    this.pump();
  }

  private pump(): void {
    const run = this.run;
    if (!run) return;
    while (this.running.size < this.concurrency && this.ready.length > 0) {
      const index = this.ready.findIndex((lane) => !this.running.has(laneKey(lane)));
      if (index < 0) return;
      const [lane] = this.ready.splice(index, 1);
      const key = laneKey(lane!);
      this.readyKeys.delete(key);
      const work = run(lane!, this.controller.signal)
        .catch((error: unknown) => {
          this.onError(error, lane!);
          // Worked again later: whatever failed (a bug, most likely) must not strand the lane.
          void this.wake(lane!, this.now() + 5_000);
        })
        .finally(() => {
          this.running.delete(key);
          this.pump();
        });
      this.running.set(key, work);
    }
  }
}

/** An abort controller whose signal may have any number of listeners (one per lane waiting on it). */
export function withoutListenerLimit(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
