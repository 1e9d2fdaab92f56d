import { RateLimitWaitTooLong, type Waiter } from "../domain/vendor.js";

/**
 * One vendor credential's rate budget: what adapters, HttpClient's retries (RetryPacer) and the
 * metrics need. Two implementations sit side by side: `Pacer` (pacer.ts) holds the budget in this
 * process; `RedisPacer` (redis-pacer.ts) shares it with every replica and worker through Redis.
 * Both keep the same promises:
 *
 * - first come, first served among this process's callers;
 * - never more than `ratePerSecond` sends in any sliding second, with WINDOW_SLACK_MS of margin
 *   for arrivals that bunch on the way to the vendor;
 * - an interactive caller (not `background`) whose slot lies beyond `maxWaitMs` is refused at once
 *   with RateLimitWaitTooLong and nothing is reserved; a background caller waits as long as it takes;
 * - a `lowPriority` caller (bulk work, queued deliveries) takes a slot only when the schedule is
 *   booked less than lowPriorityHorizonMs ahead, so an interactive caller never waits behind more
 *   than that of its slots: a backlog draining at the limit leaves live requests a short wait;
 * - a caller whose signal aborts rejects with the signal's reason and its slot is given back where
 *   possible;
 * - `pause(seconds)` for a vendor's 429 slows every caller of the credential (see pauseFor).
 */
export interface RateBudget {
  readonly ratePerSecond: number;
  /** Longest an interactive caller waits for a slot (a background caller waits as long as it takes). */
  readonly maxWaitMs: number;
  /** Resolves when the caller may send; see the interface's promises. */
  acquire(waiter?: Waiter): Promise<void>;
  /** The vendor answered 429 with this `Retry-After` (seconds; NaN or negative when unreadable). */
  pause(seconds: number): void;
  /** Milliseconds a caller arriving now would wait at least (for the backlog gauge); never reserves. */
  peekDelayMs(): number;
  stats(): RateBudgetStats;
}

export interface RateBudgetStats {
  /** Slots handed to callers (first attempts and retries). */
  readonly acquired: number;
  /** Time callers spent waiting for their slots, in milliseconds. */
  readonly waitedMs: number;
  /** Redis round trips made for this budget (shared mode only). */
  readonly roundTrips?: number;
  /** Reserved slots not used because their time had passed by more than the tolerance (shared mode). */
  readonly droppedLate?: number;
}

/**
 * How far ahead low-priority callers may book a budget: 100 ms, or four slots at low rates (each
 * booking round trip then takes a few slots at once, in shared mode). An interactive caller waits at
 * most about this long behind them, where it used to wait behind every waiting bulk chunk and
 * delivery lane: single updates during a bulk job at 200/s had p50 / p99 609 / 781 ms, now ~90 / ~120
 * (bench/RESULTS.md). Booked closer, slots come due soon after the answer that grants them, and
 * arrivals bunched: 20 and 50 ms drew 1–4 × 429 per ~5,000 calls against a strict sliding second
 * (bench:shared:budget), 100 ms none, as before.
 */
export function lowPriorityHorizonMs(intervalMs: number): number {
  return Math.max(LOW_PRIORITY_HORIZON_MS, 4 * intervalMs);
}

export const LOW_PRIORITY_HORIZON_MS = 100;

/** A background caller waits for its slot as long as it takes; a low-priority one is background work too. */
export function waitsAsLongAsItTakes(waiter: Waiter): boolean {
  return waiter.background === true || waiter.lowPriority === true;
}

/** The longest a vendor's `Retry-After` pauses every caller of its credential. */
export const MAX_PAUSE_SECONDS = 60;

/**
 * Margin for jitter, in milliseconds of every second: the budget spaces calls as if the vendor's
 * second were this much longer (at 1,000/s, calls go out every 1.02 ms and at most `rate` of them in
 * any 1,020 ms), so the vendor's own sliding second still holds no more than its limit when arrivals
 * bunch on the way by up to this much. Measured (bench/RESULTS.md, "Rate budget"): against a
 * stand-in counting a strict sliding second on this 2-core machine, the shortest span of `rate + 1`
 * arrivals was 15–35 ms shorter than that of the sends, now and then ~50 ms (either event loop
 * stalling). With no margin a 10 s run at 1,000/s drew 9–13 429s; with 20 ms, 0–2 (each now costs a
 * 100 ms pause, see pauseFor), at 0.97 of the limit; 40 ms cost 4–5% and still drew one now and then.
 * It costs 2% of the limit at any rate.
 */
export const WINDOW_SLACK_MS = 20;

/**
 * A 429 whose `Retry-After` is at most this (or unreadable) is "short": the vendor's window is
 * full now, and a sliding window frees room continuously, long before the second the header can
 * only round up to.
 */
export const SHORT_RETRY_AFTER_SECONDS = 1;
/** First pause of every caller after a short 429 (see pauseFor). */
export const SHORT_PAUSE_MS = 100;

/** State of the short-pause escalation, kept with the budget (in process or in Redis). */
export interface PauseState {
  /** When nothing may go out before (the budget's clock, ms). */
  pausedUntil: number;
  /** The last short pause's length, ms (0: none yet). */
  shortPauseMs: number;
  /** When the last short pause began (ms). */
  shortPauseAt: number;
}

/**
 * How long a 429 pauses every caller of the credential, and the new state. Shared by both budgets
 * (redis-pacer.ts does the same in Lua, against Redis's clock).
 *
 * - A `Retry-After` longer than SHORT_RETRY_AFTER_SECONDS is honoured as asked, at most
 *   MAX_PAUSE_SECONDS (a vendor asking for hours is asked again, by one request, after a minute).
 * - A short one (`Retry-After: 1`, none, or unreadable) pauses SHORT_PAUSE_MS first: enough for a
 *   sliding window to drop a tenth of a second's calls, which is what makes room. A further 429 for
 *   a call sent after that pause ended doubles the pause (200, 400, 800, then the full second),
 *   so a vendor that really blocks for the whole second is honoured after a few calls; one more
 *   than a second after the last short pause starts again at SHORT_PAUSE_MS. 429s that come back
 *   while a pause lasts (calls sent before it) change nothing. One `Retry-After: 1` used to stop
 *   every call for a second: at 1,000/s a run of strict-window 429s halved throughput.
 */
export function pauseFor(seconds: number, now: number, state: PauseState): PauseState {
  const asked = Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, MAX_PAUSE_SECONDS) : SHORT_RETRY_AFTER_SECONDS;
  if (asked > SHORT_RETRY_AFTER_SECONDS) {
    return { ...state, pausedUntil: Math.max(state.pausedUntil, now + asked * 1000) };
  }
  if (now < state.pausedUntil) return state;
  const escalate = state.shortPauseMs > 0 && now - state.shortPauseAt < state.shortPauseMs + 1000;
  const pauseMs = escalate ? Math.min(state.shortPauseMs * 2, SHORT_RETRY_AFTER_SECONDS * 1000) : SHORT_PAUSE_MS;
  return { pausedUntil: now + pauseMs, shortPauseMs: pauseMs, shortPauseAt: now };
}

/**
 * The shared budget could not be reached (Redis down): an interactive caller is refused at once,
 * nothing sent, as if the budget had no slot within its deadline (the same typed AttributesRateLimitedError,
 * `retryAfterSeconds` 1). Sending without the shared budget could exceed the vendor's limit.
 */
export class RateBudgetUnavailable extends RateLimitWaitTooLong {
  constructor(override readonly cause: unknown) {
    super(1_000, true);
    this.name = "RateBudgetUnavailable";
    this.message = "the shared rate budget (Redis) is unreachable: nothing was sent";
  }
}
