import { hash } from "node:crypto";
import { RateLimitWaitTooLong, type Waiter } from "../domain/vendor.js";
import { MAX_TIMER_MS, sleep } from "../util/sleep.js";
import {
  lowPriorityHorizonMs,
  pauseFor,
  waitsAsLongAsItTakes,
  WINDOW_SLACK_MS,
  type PauseState,
  type RateBudget,
  type RateBudgetStats,
} from "./budget.js";

export { MAX_PAUSE_SECONDS, WINDOW_SLACK_MS, type RateBudget, type RateBudgetStats } from "./budget.js";

/** Rates above this skip the sliding-window check (it keeps one timestamp per call in a second). */
const MAX_WINDOW_CALLS = 100_000;

/**
 * The in-process rate budget: paces calls to at most `ratePerSecond`, first come first served,
 * with a small burst allowance (a generic cell rate algorithm: one "theoretical arrival time"
 * instead of a refill timer). One pacer is shared per vendor credential by every caller in the
 * process, single updates and bulk jobs alike, because the vendor counts them together.
 *
 * The vendor's second is taken as `1000 + windowSlackMs` long (WINDOW_SLACK_MS, see budget.ts):
 * calls are spaced by that over the rate, so arrivals that bunch on the way by up to the slack still
 * fit the vendor's own sliding second.
 *
 * The schedule alone is not enough against a vendor that counts calls in a sliding second: when
 * the event loop stalls (a large request body parsed, a long GC), every waiter whose slot passed
 * during the stall wakes at once, and that second would hold the rate plus the stall's worth. So a
 * call also waits until fewer than `ratePerSecond` calls went out in the last (slack-widened) second.
 *
 * A pause (a vendor's 429) also holds back callers already asleep on a slot it covers: they take a
 * new slot after it.
 *
 * Low-priority callers (bulk work, queued deliveries) reserve only while the schedule is booked less
 * than lowPriorityHorizonMs ahead; the others wait in their own queue, so they never fill the schedule
 * far ahead of a live request.
 */
export class Pacer implements RateBudget {
  /** Longest an interactive caller waits for a slot (a background caller waits as long as it takes). */
  readonly maxWaitMs: number;
  private readonly intervalMs: number;
  private readonly burstMs: number;
  private readonly windowMs: number;
  private theoreticalArrival = 0;
  private pauseState: PauseState = { pausedUntil: 0, shortPauseMs: 0, shortPauseAt: 0 };
  private waitedMs = 0;
  private acquired = 0;
  /** When each of the last calls went out, a ring buffer of one window's calls (oldest at `sentNext`). */
  private readonly sent: Float64Array | undefined;
  private sentNext = 0;
  /** Low-priority callers waiting for the schedule to come within the horizon, first come first served. */
  private readonly lowPriority: LowPriorityWaiter[] = [];
  private lowPriorityTimer: NodeJS.Timeout | undefined;
  /** Low-priority callers let through that have not reserved yet (they do when they resume). */
  private admittedPending = 0;
  private readonly horizonMs: number;

  constructor(
    readonly ratePerSecond: number,
    options: PacerOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0)) throw new Error("ratePerSecond must be positive");
    const burst = options.burst ?? 1;
    this.maxWaitMs = options.maxWaitMs ?? Infinity;
    this.windowMs = 1000 + Math.max(0, options.windowSlackMs ?? WINDOW_SLACK_MS);
    this.intervalMs = this.windowMs / ratePerSecond;
    this.burstMs = Math.max(0, burst - 1) * this.intervalMs;
    this.horizonMs = lowPriorityHorizonMs(this.intervalMs);
    // Rounded up: at 13.5/s the schedule itself puts 14 calls in some seconds, and flooring would slow it to 13/s.
    const callsPerWindow = Math.max(1, Math.ceil(ratePerSecond));
    this.sent = callsPerWindow <= MAX_WINDOW_CALLS ? new Float64Array(callsPerWindow).fill(-Infinity) : undefined;
  }

  /**
   * Resolves when the caller may send; rejects if the signal aborts first, or has already aborted
   * (a cancelled caller sends nothing new, with or without a wait). An interactive caller (not
   * `background`) whose slot lies further than `maxWaitMs` ahead is refused at once with
   * RateLimitWaitTooLong, its slot given back: waiting past the caller's own deadline would only
   * turn a rate limit into a timeout, and hold a request open for nothing.
   */
  async acquire(waiter: Waiter = {}): Promise<void> {
    const { signal } = waiter;
    // The signal's own reason, whatever it is: cancellation is recognised by that identity (isCancellation).
    signal?.throwIfAborted();
    const deadline = this.now() + this.maxWaitMs;
    for (;;) {
      // Checked and booked in one synchronous step, so callers arriving together cannot all pass.
      if (waiter.lowPriority === true && (this.lowPriority.length > 0 || this.bookedAheadMs() > this.horizonMs)) {
        await this.lowPriorityTurn(signal);
        this.admittedPending--;
      }
      const slot = this.reserve();
      const delay = slot - this.now();
      if (!waitsAsLongAsItTakes(waiter) && slot > deadline) {
        this.giveBack();
        throw new RateLimitWaitTooLong(delay);
      }
      this.acquired++;
      if (delay > 0) {
        this.waitedMs += delay;
        try {
          await sleep(delay, signal);
        } catch (error) {
          // A cancelled waiter sends nothing: its slot goes back, or every later caller waits for it.
          this.acquired--;
          this.giveBack();
          throw error;
        }
      }
      // A pause that began while this caller slept, and covers its slot: a new slot after it.
      if (slot < this.pauseState.pausedUntil) {
        this.acquired--;
        continue;
      }
      await this.admitWithinWindow(signal);
      return;
    }
  }

  /** Resolves when a low-priority caller may reserve: the schedule is booked less than the horizon ahead. */
  private lowPriorityTurn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: LowPriorityWaiter = {
        resolve,
        onAbort: () => {
          const index = this.lowPriority.indexOf(waiter);
          if (index >= 0) this.lowPriority.splice(index, 1);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own reason, kept for isCancellation
          reject(signal?.reason);
        },
        signal,
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.lowPriority.push(waiter);
      this.admitLowPriority();
    });
  }

  /** Lets low-priority callers through while their slots stay within the horizon; a timer for the rest. */
  private admitLowPriority(): void {
    clearTimeout(this.lowPriorityTimer);
    this.lowPriorityTimer = undefined;
    while (this.lowPriority.length > 0 && this.bookedAheadMs() <= this.horizonMs) {
      const waiter = this.lowPriority.shift()!;
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      // It reserves its slot when it resumes: counted as booked until then.
      this.admittedPending++;
      waiter.resolve();
    }
    if (this.lowPriority.length === 0) return;
    const wait = this.bookedAheadMs() - this.horizonMs;
    this.lowPriorityTimer = setTimeout(() => this.admitLowPriority(), Math.min(Math.max(1, wait), MAX_TIMER_MS));
    this.lowPriorityTimer.unref();
  }

  /** How far ahead of now the schedule is booked: a pause, and callers let through but not yet booked, count. */
  private bookedAheadMs(): number {
    const ahead = Math.max(this.theoreticalArrival, this.pauseState.pausedUntil) - this.now();
    return Math.max(0, ahead) + this.admittedPending * this.intervalMs;
  }

  private giveBack(): void {
    this.theoreticalArrival = Math.max(this.now(), this.theoreticalArrival - this.intervalMs);
  }

  /** Waits while the last window already holds `ratePerSecond` calls, then counts this one. */
  private async admitWithinWindow(signal: AbortSignal | undefined): Promise<void> {
    const sent = this.sent;
    if (!sent) return;
    for (;;) {
      const now = this.now();
      const wait = sent[this.sentNext]! + this.windowMs - now;
      if (wait <= 0) {
        sent[this.sentNext] = now;
        this.sentNext = (this.sentNext + 1) % sent.length;
        return;
      }
      this.waitedMs += wait;
      try {
        await sleep(wait, signal);
      } catch (error) {
        // The slot's time has passed: nothing to give back, and nothing was sent.
        this.acquired--;
        throw error;
      }
    }
  }

  /**
   * Milliseconds the next caller would wait at least, without reserving: the schedule's wait (a
   * pause included) or, when the last window already holds the rate's worth of calls, the wait for
   * its oldest to age out.
   */
  peekDelayMs(): number {
    const now = this.now();
    const scheduleWait = Math.max(this.theoreticalArrival - this.burstMs, this.pauseState.pausedUntil) - now;
    const windowWait = this.sent ? this.sent[this.sentNext]! + this.windowMs - now : 0;
    return Math.max(0, scheduleWait, windowWait);
  }

  /**
   * The vendor asked us to slow down (a 429 with this `Retry-After`): nothing goes out before the
   * pause pauseFor decides ends (budget.ts): a long `Retry-After` as asked (at most
   * MAX_PAUSE_SECONDS), a short one 100 ms first, doubling while the vendor keeps refusing.
   */
  pause(seconds: number): void {
    this.pauseState = pauseFor(seconds, this.now(), this.pauseState);
  }

  stats(): RateBudgetStats {
    return { acquired: this.acquired, waitedMs: Math.round(this.waitedMs) };
  }

  /** The caller's slot (on this pacer's clock), reserved. */
  private reserve(): number {
    const pausedUntil = this.pauseState.pausedUntil;
    const start = Math.max(this.theoreticalArrival, this.now(), pausedUntil);
    this.theoreticalArrival = start + this.intervalMs;
    // The burst allowance lets a call go before its place in the schedule, never into a pause.
    return Math.max(start - this.burstMs, pausedUntil);
  }
}

interface LowPriorityWaiter {
  readonly resolve: () => void;
  readonly onAbort: () => void;
  readonly signal: AbortSignal | undefined;
}

/**
 * A stable key for one vendor credential (`<vendor>:<hash>`): pacer keys may appear in
 * diagnostics and metrics, credentials must not.
 */
export function credentialKey(vendor: string, credential: string): string {
  return `${vendor}:${hash("sha256", credential, "hex").slice(0, 16)}`;
}

export interface PacerOptions {
  /** Calls that may go out back to back before spacing applies; default 1. */
  readonly burst?: number;
  /**
   * Longest an interactive caller waits for its slot; default unbounded. Vendors pass their
   * request timeout: a caller that would wait longer gets AttributesRateLimitedError at once instead.
   */
  readonly maxWaitMs?: number;
  /** Margin for arrivals bunching on the way, in ms per second (default WINDOW_SLACK_MS, budget.ts). */
  readonly windowSlackMs?: number;
}

/**
 * Makes the budget of one credential. `key` is `<vendor>:<hashed credential>` (never a raw
 * credential); `options.maxWaitMs` is already resolved (VENDOR_MAX_WAIT_MS or the vendor's own).
 */
export type RateBudgetFactory = (key: string, ratePerSecond: number, options: PacerOptions) => RateBudget;

/** The default: every budget held in this process. */
export const inProcessBudgets: RateBudgetFactory = (_key, ratePerSecond, options) => new Pacer(ratePerSecond, options);

/**
 * One budget per key (vendor + credential), created on first use, in process (the default) or
 * shared through Redis (`factory`: redisBudgets in redis-pacer.ts).
 */
export class PacerRegistry {
  private readonly pacers = new Map<string, RateBudget>();
  private readonly factory: RateBudgetFactory;

  /** `maxWaitMs` replaces every vendor's own bound (VENDOR_MAX_WAIT_MS) when set. */
  constructor(private readonly settings: { readonly maxWaitMs?: number; readonly factory?: RateBudgetFactory } = {}) {
    this.factory = settings.factory ?? inProcessBudgets;
  }

  /** The budget shared by everything that uses this vendor credential. */
  forCredential(vendor: string, credential: string, ratePerSecond: number, options?: PacerOptions): RateBudget {
    return this.get(credentialKey(vendor, credential), ratePerSecond, options);
  }

  get(key: string, ratePerSecond: number, options: PacerOptions = {}): RateBudget {
    let pacer = this.pacers.get(key);
    if (!pacer) {
      const maxWaitMs = this.settings.maxWaitMs ?? options.maxWaitMs;
      pacer = this.factory(key, ratePerSecond, { ...options, ...(maxWaitMs === undefined ? {} : { maxWaitMs }) });
      this.pacers.set(key, pacer);
    }
    return pacer;
  }

  /** Every budget created so far with its key (`<vendor>:<hashed credential>`), for metrics. */
  entries(): Array<[string, RateBudget]> {
    return [...this.pacers.entries()];
  }
}
