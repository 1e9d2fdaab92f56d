import { createHash } from "node:crypto";
import { RateLimitWaitTooLong, type Waiter } from "../domain/vendor.js";

/** The longest a vendor's `Retry-After` pauses every caller of its credential. */
export const MAX_PAUSE_SECONDS = 60;
/** setTimeout fires at once for anything longer (Node warns and uses 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Rates above this skip the sliding-window check (it keeps one timestamp per call in a second). */
const MAX_WINDOW_CALLS = 100_000;

/**
 * Paces calls to at most `ratePerSecond`, first come first served, with a small burst allowance
 * (a generic cell rate algorithm: one "theoretical arrival time" instead of a refill timer).
 * One pacer is shared per vendor credential by every caller in the process, single updates and
 * bulk jobs alike, because the vendor counts them together.
 *
 * The schedule alone is not enough against a vendor that counts calls in a sliding second: when
 * the event loop stalls (a large request body parsed, a long GC), every waiter whose slot passed
 * during the stall wakes at once, and that second would hold the rate plus the stall's worth. So a
 * call also waits until fewer than `ratePerSecond` calls went out in the last second.
 */
export class Pacer {
  /** Longest an interactive caller waits for a slot (a background caller waits as long as it takes). */
  readonly maxWaitMs: number;
  private readonly intervalMs: number;
  private readonly burstMs: number;
  private theoreticalArrival = 0;
  private waitedMs = 0;
  private acquired = 0;
  /** When each of the last calls went out, a ring buffer of one second's calls (oldest at `sentNext`). */
  private readonly sent: Float64Array | undefined;
  private sentNext = 0;

  constructor(
    readonly ratePerSecond: number,
    options: PacerOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0)) throw new Error("ratePerSecond must be positive");
    const burst = options.burst ?? 1;
    this.maxWaitMs = options.maxWaitMs ?? Infinity;
    this.intervalMs = 1000 / ratePerSecond;
    this.burstMs = Math.max(0, burst - 1) * this.intervalMs;
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
    const delay = this.reserve();
    if (delay > this.maxWaitMs && waiter.background !== true) {
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
    await this.admitWithinSecond(signal);
  }

  private giveBack(): void {
    this.theoreticalArrival = Math.max(this.now(), this.theoreticalArrival - this.intervalMs);
  }

  /** Waits while the last second already holds `ratePerSecond` calls, then counts this one. */
  private async admitWithinSecond(signal: AbortSignal | undefined): Promise<void> {
    const sent = this.sent;
    if (!sent) return;
    for (;;) {
      const now = this.now();
      const wait = sent[this.sentNext]! + 1000 - now;
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
   * Milliseconds the next caller would wait at least, without reserving: the schedule's wait or,
   * when the last second already holds the rate's worth of calls, the wait for its oldest to age out.
   */
  peekDelayMs(): number {
    const now = this.now();
    const scheduleWait = this.theoreticalArrival - this.burstMs - now;
    const windowWait = this.sent ? this.sent[this.sentNext]! + 1000 - now : 0;
    return Math.max(0, scheduleWait, windowWait);
  }

  /**
   * The vendor asked us to slow down: nothing goes out before `seconds` from now, at most
   * MAX_PAUSE_SECONDS (a vendor asking for hours is asked again after that, by one request, which a
   * 429 pauses again). A value that is not a finite, non-negative number pauses for 1 s: a broken
   * `Retry-After` must neither stop a vendor for good nor switch its pacing off.
   */
  pause(seconds: number): void {
    const wait = Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, MAX_PAUSE_SECONDS) : 1;
    this.theoreticalArrival = Math.max(this.theoreticalArrival, this.now() + wait * 1000);
  }

  stats(): { acquired: number; waitedMs: number } {
    return { acquired: this.acquired, waitedMs: Math.round(this.waitedMs) };
  }

  private reserve(): number {
    const now = this.now();
    const start = Math.max(this.theoreticalArrival, now);
    const delay = start - this.burstMs - now;
    this.theoreticalArrival = start + this.intervalMs;
    return delay;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // Rejects with the signal's own reason, whatever it is: cancellation is recognised by that identity (isCancellation).
    if (signal?.aborted) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own reason, kept for isCancellation
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own reason, kept for isCancellation
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    // A wait alone must not keep a shutting-down process alive.
    timer.unref();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A stable key for one vendor credential (`<vendor>:<hash>`): pacer keys may appear in
 * diagnostics and metrics, credentials must not.
 */
export function credentialKey(vendor: string, credential: string): string {
  return `${vendor}:${createHash("sha256").update(credential).digest("hex").slice(0, 16)}`;
}

export interface PacerOptions {
  /** Calls that may go out back to back before spacing applies; default 1. */
  readonly burst?: number;
  /**
   * Longest an interactive caller waits for its slot; default unbounded. Vendors pass their
   * request timeout: a caller that would wait longer gets RateLimitedError at once instead.
   */
  readonly maxWaitMs?: number;
}

/** One pacer per key (vendor + credential), created on first use. */
export class PacerRegistry {
  private readonly pacers = new Map<string, Pacer>();

  /** `maxWaitMs` replaces every vendor's own bound (VENDOR_MAX_WAIT_MS) when set. */
  constructor(private readonly settings: { readonly maxWaitMs?: number } = {}) {}

  /** The pacer shared by everything in the process that uses this vendor credential. */
  forCredential(vendor: string, credential: string, ratePerSecond: number, options?: PacerOptions): Pacer {
    return this.get(credentialKey(vendor, credential), ratePerSecond, options);
  }

  get(key: string, ratePerSecond: number, options: PacerOptions = {}): Pacer {
    let pacer = this.pacers.get(key);
    if (!pacer) {
      const maxWaitMs = this.settings.maxWaitMs ?? options.maxWaitMs;
      pacer = new Pacer(ratePerSecond, { ...options, ...(maxWaitMs === undefined ? {} : { maxWaitMs }) });
      this.pacers.set(key, pacer);
    }
    return pacer;
  }

  /** Every pacer created so far with its key (`<vendor>:<hashed credential>`), for metrics. */
  entries(): Array<[string, Pacer]> {
    return [...this.pacers.entries()];
  }
}
