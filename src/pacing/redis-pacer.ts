import type { Redis } from "ioredis";
import { RateLimitWaitTooLong, type Waiter } from "../domain/vendor.js";
import {
  lowPriorityHorizonMs,
  MAX_PAUSE_SECONDS,
  RateBudgetUnavailable,
  SHORT_PAUSE_MS,
  SHORT_RETRY_AFTER_SECONDS,
  waitsAsLongAsItTakes,
  WINDOW_SLACK_MS,
  type RateBudget,
  type RateBudgetStats,
} from "./budget.js";
import type { RateBudgetFactory } from "./pacer.js";

/**
 * A reserved slot whose time passed by more than this before its caller could go (an event-loop
 * stall, a slow Redis reply) is dropped, and the caller reserves again: sent late, it would land
 * in the same moment as the calls after it and bunch at the vendor. Must stay below
 * WINDOW_SLACK_MS: sends then never exceed the rate in any sliding second, across processes.
 */
export const LATE_TOLERANCE_MS = 5;
/** Most slots one round trip reserves (one per waiting caller, never more). */
export const MAX_BATCH = 64;
/**
 * A further round trip waits while this process already holds slots reaching further than this
 * ahead: its next waiters are behind those anyway, and waiting lets them share one round trip.
 */
export const LOOKAHEAD_MS = 10;
/** A round trip with no answer after this counts as failed (ioredis itself has no command timeout). */
const ROUND_TRIP_TIMEOUT_MS = 1_000;
/** How long a clock-offset sample counts (clocks drift apart slowly; Redis's wall clock may be stepped). */
const OFFSET_WINDOW_MS = 10_000;
/**
 * Idle budgets expire this long after their last slot or pause. Long, because a budget that is not
 * there starts one window late (see RESERVE): absent only after a day without calls, or when Redis
 * lost its data.
 */
const IDLE_TTL_MS = 86_400_000;

export interface RedisPacerOptions {
  /** Longest an interactive caller waits for its slot; default unbounded. */
  readonly maxWaitMs?: number;
  /** Margin for arrivals bunching on the way, ms per second (default WINDOW_SLACK_MS). */
  readonly windowSlackMs?: number;
  /** Default LATE_TOLERANCE_MS; must be below the slack. */
  readonly lateToleranceMs?: number;
  /** Default MAX_BATCH. */
  readonly maxBatch?: number;
  /** Default LOOKAHEAD_MS. */
  readonly lookaheadMs?: number;
  /** First wait of background callers before asking an unreachable Redis again (doubles up to 1 s); default 100 ms. */
  readonly retryMs?: number;
}

/*
 * One hash per credential: tat (theoretical arrival time of the next slot), until (nothing goes
 * out before), spm/spa (the last short pause's length and start). Every time is Redis's own clock
 * (TIME, microseconds): the processes' clocks differ, Redis's is the one they share. Each script
 * answers Redis's "now" with its times, and a process turns them into its own clock as offsets from
 * the moment the answer arrived (a reply is never early, so a slot is never sent before its time).
 */

/**
 * ARGV: interval µs, idle ttl ms, window µs, then one max delay µs per waiter (-1: a background
 * waiter, no bound; a low-priority waiter's bound is the horizon). A waiter refused gets -(its
 * delay) - 1, and the waiters after it in the batch are placed as if it had not asked.
 *
 * A budget with no schedule starts one window from now: it is new, idle for a day, or lost with
 * Redis's data (a restart without persistence, a flush), and then the calls of the last second,
 * which the vendor still counts, are unknown.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local s = redis.call('HMGET', KEYS[1], 'tat', 'until')
local tat = tonumber(s[1]) or 0
local paused = tonumber(s[2]) or 0
local interval = tonumber(ARGV[1])
if not s[1] then
  -- Kept at once, also when every waiter is refused: a low-priority one asks again when it comes due.
  tat = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'tat', tat)
  redis.call('PEXPIRE', KEYS[1], math.floor((math.max(tat, paused) - now) / 1000) + tonumber(ARGV[2]))
end
local start = math.max(tat, now, paused)
local candidate = start
local out = {now, paused}
for i = 4, #ARGV do
  local bound = tonumber(ARGV[i])
  local delay = candidate - now
  if bound < 0 or delay <= bound then
    out[#out + 1] = candidate
    candidate = candidate + interval
  else
    out[#out + 1] = -delay - 1
  end
end
if candidate > start then
  redis.call('HSET', KEYS[1], 'tat', candidate)
  redis.call('PEXPIRE', KEYS[1], math.floor((math.max(candidate, paused) - now) / 1000) + tonumber(ARGV[2]))
end
return out`;

/** ARGV: asked µs (-1: a short 429), first short pause µs, longest short pause µs, idle ttl ms. As pauseFor in budget.ts. */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local s = redis.call('HMGET', KEYS[1], 'until', 'spm', 'spa')
local paused = tonumber(s[1]) or 0
local spm = tonumber(s[2]) or 0
local spa = tonumber(s[3]) or 0
local asked = tonumber(ARGV[1])
if asked >= 0 then
  paused = math.max(paused, now + asked)
elseif now >= paused then
  local p = tonumber(ARGV[2])
  if spm > 0 and now - spa < spm + 1000000 then p = math.min(spm * 2, tonumber(ARGV[3])) end
  paused = now + p
  spm = p
  spa = now
end
redis.call('HSET', KEYS[1], 'until', paused, 'spm', spm, 'spa', spa)
redis.call('PEXPIRE', KEYS[1], math.floor((paused - now) / 1000) + tonumber(ARGV[4]))
return {now, paused}`;

/** ARGV: interval µs, then slots given back. Each one that is the schedule's last is taken off it. */
const GIVE_BACK = `
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local interval = tonumber(ARGV[1])
local slots = {}
for i = 2, #ARGV do slots[#slots + 1] = tonumber(ARGV[i]) end
table.sort(slots, function(a, b) return a > b end)
local back = 0
for _, slot in ipairs(slots) do
  if tat == slot + interval then
    tat = slot
    back = back + 1
  end
end
if back > 0 then redis.call('HSET', KEYS[1], 'tat', tat) end
return back`;

type BudgetCommands = Redis & {
  rateBudgetReserve(key: string, ...args: Array<string | number>): Promise<number[]>;
  rateBudgetPause(key: string, ...args: Array<string | number>): Promise<number[]>;
  rateBudgetGiveBack(key: string, ...args: Array<string | number>): Promise<number>;
};

/** Defines the scripts on the connection once (ioredis sends EVALSHA, and EVAL after a NOSCRIPT). */
function withScripts(redis: Redis): BudgetCommands {
  const commands = redis as BudgetCommands;
  if (typeof commands.rateBudgetReserve !== "function") {
    redis.defineCommand("rateBudgetReserve", { numberOfKeys: 1, lua: RESERVE });
    redis.defineCommand("rateBudgetPause", { numberOfKeys: 1, lua: PAUSE });
    redis.defineCommand("rateBudgetGiveBack", { numberOfKeys: 1, lua: GIVE_BACK });
  }
  return commands;
}

interface Slot {
  /** Redis's clock, µs: what the schedule knows it by. */
  readonly server: number;
  /** This process's clock (performance.now), ms. */
  readonly local: number;
  /** When the answer that granted it was read (local ms). */
  readonly receivedAt: number;
}

interface Entry {
  readonly background: boolean;
  /** Books only within the horizon (Waiter.lowPriority); refused, it asks again when the schedule nears. */
  readonly lowPriority: boolean;
  /** Local ms before which a refused low-priority caller does not ask again. */
  notBefore: number;
  /** performance.now() after which an interactive caller is refused. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly startedAt: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly onAbort: () => void;
  /** Asked for in the round trip in flight. */
  requested: boolean;
  slot: Slot | undefined;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

/**
 * A vendor credential's rate budget shared by every process through Redis: a generic cell rate
 * algorithm in Lua (one theoretical arrival time per credential), with slots reserved in batches.
 *
 * - One round trip at a time per budget and process reserves one slot for each caller waiting then
 *   (up to MAX_BATCH): never a slot nobody waits for. At high rates callers pile up while a round
 *   trip is out, so round trips stay well below one per call (bench/RESULTS.md, "Rate budget").
 * - Callers get their slots first come, first served, and each goes at its slot's time. A slot more
 *   than LATE_TOLERANCE_MS late is dropped and the caller reserves again, so a stalled process
 *   cannot send a batch of overdue slots at once.
 * - An interactive caller whose slot would lie beyond its deadline is refused by the script itself
 *   (RateLimitWaitTooLong), and nothing is reserved for it. A background caller waits.
 * - A low-priority caller (bulk work, queued deliveries) is refused by the script, for now, when the
 *   schedule is booked beyond the horizon (lowPriorityHorizonMs), and asks again when it has come
 *   that close: however many wait in however many processes, live callers queue behind at most
 *   the horizon's worth of their slots.
 * - A cancelled caller's slot goes to the next caller here that has none, or back to the schedule
 *   when it is the schedule's last; otherwise it is lost (a gap of one slot).
 * - pause() writes the pause to Redis, so a 429 seen by any process holds back all of them: this
 *   process at once, the others at their next round trip (within LOOKAHEAD_MS plus a batch).
 *   Callers already holding a slot that the pause covers reserve again after it.
 * - Redis unreachable (or no answer within a second): nothing is sent without a slot from Redis.
 *   Interactive callers are refused at once with RateBudgetUnavailable (an AttributesRateLimitedError to the
 *   client, retry after 1 s); background callers wait and ask again, from 100 ms up to every second,
 *   until Redis answers or they are cancelled. A restarted, empty Redis has no schedule: the new one
 *   starts a window later, so the calls sent in the second before it (which the vendor still
 *   counts) and slots handed out before (at most one batch per process) never share a second with
 *   new ones.
 */
export class RedisPacer implements RateBudget {
  readonly maxWaitMs: number;
  private readonly redis: BudgetCommands;
  private readonly intervalUs: number;
  /** The vendor's second with the slack: what a new schedule waits for (see RESERVE). */
  private readonly windowUs: number;
  private readonly lateToleranceMs: number;
  private readonly maxBatch: number;
  private readonly lookaheadMs: number;
  private readonly horizonUs: number;
  private readonly retryMs: number;
  /** Callers waiting, first come first served. */
  private readonly queue: Entry[] = [];
  /** Slots whose caller was cancelled, for the next caller without one. */
  private spare: Slot[] = [];
  private toGiveBack: number[] = [];
  private inFlight = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private deferTimer: NodeJS.Timeout | undefined;
  private deferAt = 0;
  private retryDelayMs: number;
  /** What the last answer said, on this process's clock. */
  /** The latest pause Redis told us of (its clock, µs), and when it ends on this process's clock. */
  private pausedUntilServer = 0;
  private pausedUntilLocal = 0;
  /**
   * This process's own 429, until Redis answers with the pause it decided: slots received before
   * `provisionalSince` that lie before `provisionalUntil` (local ms) are held back. Slots received
   * after it were reserved after the pause on the same connection, so Redis already placed them.
   */
  private provisionalSince = -Infinity;
  private provisionalUntil = 0;
  private scheduleEndLocal = 0;
  private readonly offsetSamples: Array<{ at: number; offset: number }> = [];
  private acquired = 0;
  private waitedMs = 0;
  private roundTrips = 0;
  private droppedLate = 0;

  constructor(
    redis: Redis,
    /** The budget's Redis key: `${keyPrefix}:rate:<vendor>:<hashed credential>`. */
    readonly key: string,
    readonly ratePerSecond: number,
    options: RedisPacerOptions = {},
  ) {
    if (!(ratePerSecond > 0)) throw new Error("ratePerSecond must be positive");
    const slackMs = Math.max(0, options.windowSlackMs ?? WINDOW_SLACK_MS);
    this.redis = withScripts(redis);
    this.maxWaitMs = options.maxWaitMs ?? Infinity;
    this.intervalUs = Math.max(1, Math.round(((1000 + slackMs) * 1000) / ratePerSecond));
    this.windowUs = Math.round((1000 + slackMs) * 1000);
    this.lateToleranceMs = options.lateToleranceMs ?? Math.min(LATE_TOLERANCE_MS, slackMs / 2);
    this.maxBatch = options.maxBatch ?? MAX_BATCH;
    this.lookaheadMs = options.lookaheadMs ?? LOOKAHEAD_MS;
    this.horizonUs = Math.round(lowPriorityHorizonMs(this.intervalUs / 1000) * 1000);
    this.retryMs = options.retryMs ?? 100;
    this.retryDelayMs = this.retryMs;
  }

  acquire(waiter: Waiter = {}): Promise<void> {
    const { signal } = waiter;
    // The signal's own reason, whatever it is: cancellation is recognised by that identity (isCancellation).
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own reason, kept for isCancellation
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const now = performance.now();
      const entry: Entry = {
        background: waitsAsLongAsItTakes(waiter),
        lowPriority: waiter.lowPriority === true,
        notBefore: 0,
        deadline: now + this.maxWaitMs,
        signal,
        startedAt: now,
        resolve,
        reject,
        onAbort: () => this.cancel(entry),
        requested: false,
        slot: undefined,
        timer: undefined,
        done: false,
      };
      signal?.addEventListener("abort", entry.onAbort, { once: true });
      this.queue.push(entry);
      this.pump();
    });
  }

  peekDelayMs(): number {
    const now = performance.now();
    return Math.max(0, this.scheduleEndLocal - now, this.pausedUntilLocal - now, this.provisionalUntil - now);
  }

  /**
   * A 429 with this `Retry-After`: the pause pauseFor (budget.ts) describes, decided by Redis for
   * every process. This process holds back at once; if Redis cannot be reached, only this process.
   */
  pause(seconds: number): void {
    const askedSeconds = Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, MAX_PAUSE_SECONDS) : SHORT_RETRY_AFTER_SECONDS;
    const long = askedSeconds > SHORT_RETRY_AFTER_SECONDS;
    const sentAt = performance.now();
    this.provisionalSince = sentAt;
    this.provisionalUntil = Math.max(this.provisionalUntil, sentAt + (long ? askedSeconds * 1000 : SHORT_PAUSE_MS));
    this.roundTrips++;
    this.redis
      .rateBudgetPause(
        this.key,
        long ? Math.round(askedSeconds * 1e6) : -1,
        SHORT_PAUSE_MS * 1000,
        SHORT_RETRY_AFTER_SECONDS * 1e6,
        IDLE_TTL_MS,
      )
      .then(([now, until]) => this.learnPause(now!, until!, this.clockOffset(now!, performance.now()) + now! / 1000))
      .catch(() => undefined);
    this.reviewSlots();
  }

  stats(): RateBudgetStats {
    return { acquired: this.acquired, waitedMs: Math.round(this.waitedMs), roundTrips: this.roundTrips, droppedLate: this.droppedLate };
  }

  /** `serverNow` (µs) read at local time `localNow` (ms); a pause ending at `until` (µs). */
  private learnPause(serverNow: number, until: number, localNow: number): void {
    if (until <= this.pausedUntilServer) return;
    this.pausedUntilServer = until;
    this.pausedUntilLocal = Math.max(this.pausedUntilLocal, localNow + (until - serverNow) / 1000);
    this.reviewSlots();
  }

  /**
   * This process's clock minus Redis's (ms), from the answers of the last OFFSET_WINDOW_MS: the
   * smallest difference seen, since an answer is only ever delayed (by the network, or by this
   * event loop being busy when it arrived). A slot is then never placed earlier than Redis meant it,
   * and an answer read late does not hide that its slots are late.
   */
  private clockOffset(serverNow: number, receivedAt: number): number {
    const samples = this.offsetSamples;
    samples.push({ at: receivedAt, offset: receivedAt - serverNow / 1000 });
    while (samples.length > 1 && (samples[0]!.at < receivedAt - OFFSET_WINDOW_MS || samples.length > 256)) samples.shift();
    let offset = Infinity;
    for (const sample of samples) offset = Math.min(offset, sample.offset);
    return offset;
  }

  /** Whether a pause this process knows of began after the slot was reserved, and covers it. */
  private covered(slot: Slot): boolean {
    return slot.server < this.pausedUntilServer || (slot.receivedAt < this.provisionalSince && slot.local < this.provisionalUntil);
  }

  /** Callers holding a slot that a pause now covers give it up and reserve again. */
  private reviewSlots(): void {
    let dropped = false;
    for (const entry of this.queue) {
      if (entry.slot && this.covered(entry.slot)) {
        clearTimeout(entry.timer);
        entry.timer = undefined;
        entry.slot = undefined;
        dropped = true;
      }
    }
    this.spare = this.spare.filter((slot) => !this.covered(slot));
    if (dropped) this.pump();
  }

  /** Hands out spare slots, then asks Redis for the callers still without one. */
  private pump(): void {
    const now = performance.now();
    this.spare = this.spare.filter((slot) => slot.local >= now - this.lateToleranceMs && !this.covered(slot));
    for (const entry of this.queue) {
      if (this.spare.length === 0) break;
      if (entry.slot || entry.requested) continue;
      const slot = this.spare[0]!;
      if (!entry.background && slot.local > entry.deadline) continue;
      this.spare.shift();
      this.hold(entry, slot);
    }
    this.flushGiveBacks();
    if (this.inFlight || this.retryTimer) return;
    const unserved = this.queue.filter((entry) => !entry.slot && !entry.requested);
    const waiting = unserved.filter((entry) => entry.notBefore <= now);
    if (waiting.length === 0) {
      // Only low-priority callers the schedule refused: they ask again when it comes within their horizon.
      if (unserved.length > 0) this.deferUntil(Math.min(...unserved.map((entry) => entry.notBefore)), now);
      return;
    }
    // Callers behind slots this process already holds well ahead wait for them to come closer.
    let furthest = -Infinity;
    for (const entry of this.queue) if (entry.slot) furthest = Math.max(furthest, entry.slot.local);
    if (furthest - now > this.lookaheadMs && waiting.every((entry) => entry.background)) {
      this.deferUntil(furthest - this.lookaheadMs, now);
      return;
    }
    clearTimeout(this.deferTimer);
    this.deferTimer = undefined;
    void this.reserve(waiting.slice(0, this.maxBatch), now);
  }

  /** Pumps again at local time `at` (or sooner, if a pump is already due sooner). */
  private deferUntil(at: number, now: number): void {
    if (this.deferTimer && this.deferAt <= at) return;
    clearTimeout(this.deferTimer);
    this.deferAt = at;
    this.deferTimer = setTimeout(
      () => {
        this.deferTimer = undefined;
        this.pump();
      },
      Math.max(0, at - now),
    );
    this.deferTimer.unref();
  }

  private async reserve(batch: Entry[], now: number): Promise<void> {
    this.inFlight = true;
    this.roundTrips++;
    for (const entry of batch) entry.requested = true;
    const bounds = batch.map((entry) =>
      entry.lowPriority ? this.horizonUs : entry.background ? -1 : Math.max(0, Math.floor((entry.deadline - now) * 1000)),
    );
    let answer: number[];
    try {
      answer = await withTimeout(
        this.redis.rateBudgetReserve(this.key, this.intervalUs, IDLE_TTL_MS, this.windowUs, ...bounds),
        ROUND_TRIP_TIMEOUT_MS,
      );
    } catch (error) {
      this.inFlight = false;
      this.unreachable(batch, error);
      return;
    }
    const receivedAt = performance.now();
    this.inFlight = false;
    this.retryDelayMs = this.retryMs;
    const [serverNow, until] = answer as [number, number];
    const offset = this.clockOffset(serverNow, receivedAt);
    this.learnPause(serverNow, until, offset + serverNow / 1000);
    const toLocal = (server: number): number => offset + server / 1000;
    for (const [index, entry] of batch.entries()) {
      entry.requested = false;
      const value = answer[index + 2]!;
      if (value < 0 && entry.lowPriority) {
        // The schedule is booked beyond the horizon: ask again when it has come that close.
        if (!entry.done) entry.notBefore = receivedAt + (-value - 1 - this.horizonUs) / 1000;
        continue;
      }
      if (value < 0) {
        // Refused by the script: nothing reserved.
        this.finish(entry);
        entry.reject(new RateLimitWaitTooLong((-value - 1) / 1000));
        continue;
      }
      const slot = { server: value, local: toLocal(value), receivedAt };
      this.scheduleEndLocal = Math.max(this.scheduleEndLocal, slot.local + this.intervalUs / 1000);
      if (entry.done) this.release(slot);
      else this.hold(entry, slot);
    }
    this.pump();
  }

  /** Redis did not answer: interactive callers are refused, background ones ask again later. */
  private unreachable(batch: Entry[], cause: unknown): void {
    for (const entry of batch) {
      entry.requested = false;
      if (!entry.background && !entry.done) {
        this.finish(entry);
        entry.reject(new RateBudgetUnavailable(cause));
      }
    }
    // Interactive callers that came meanwhile are refused too: no answer is coming for them soon.
    for (const entry of [...this.queue]) {
      if (!entry.background && !entry.slot && !entry.requested) {
        this.finish(entry);
        entry.reject(new RateBudgetUnavailable(cause));
      }
    }
    if (this.queue.some((entry) => !entry.slot) && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, this.retryDelayMs);
      this.retryTimer.unref();
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 1_000);
    }
  }

  private hold(entry: Entry, slot: Slot): void {
    entry.slot = slot;
    const wait = slot.local - performance.now();
    if (wait <= 0) {
      // Due already (the usual case below the rate): right after this turn, not through setTimeout,
      // which waits at least 1 ms (bench/RESULTS.md, "Shared mode"). Unless a pause or a cancel took
      // the slot away meanwhile.
      setImmediate(() => {
        if (entry.slot === slot) this.due(entry);
      });
      return;
    }
    entry.timer = setTimeout(() => this.due(entry), wait);
    // A wait alone must not keep a shutting-down process alive.
    entry.timer.unref();
  }

  private due(entry: Entry): void {
    entry.timer = undefined;
    const slot = entry.slot;
    if (entry.done || !slot) return;
    const now = performance.now();
    if (this.covered(slot)) {
      entry.slot = undefined;
      this.pump();
      return;
    }
    if (now - slot.local > this.lateToleranceMs) {
      // Too late to send without bunching with the slots after it: reserve again.
      this.droppedLate++;
      entry.slot = undefined;
      this.pump();
      return;
    }
    this.finish(entry);
    this.acquired++;
    this.waitedMs += now - entry.startedAt;
    entry.resolve();
  }

  private cancel(entry: Entry): void {
    if (entry.done) return;
    const slot = entry.slot;
    clearTimeout(entry.timer);
    this.finish(entry);
    entry.reject(entry.signal?.reason);
    if (slot) this.release(slot);
    this.pump();
  }

  /** A slot its caller no longer wants: to the next caller, or back to the schedule if it is the last. */
  private release(slot: Slot): void {
    if (slot.local < performance.now() - this.lateToleranceMs) return;
    this.spare.push(slot);
    this.spare.sort((a, b) => a.local - b.local);
  }

  private flushGiveBacks(): void {
    // Spare slots no caller here can use go back to the schedule (if they are its last).
    if (this.queue.some((entry) => !entry.slot)) return;
    for (const slot of this.spare.splice(0)) this.toGiveBack.push(slot.server);
    if (this.toGiveBack.length === 0) return;
    const slots = this.toGiveBack.splice(0);
    this.roundTrips++;
    this.redis.rateBudgetGiveBack(this.key, this.intervalUs, ...slots).catch(() => undefined);
  }

  private finish(entry: Entry): void {
    entry.done = true;
    entry.signal?.removeEventListener("abort", entry.onAbort);
    const index = this.queue.indexOf(entry);
    if (index >= 0) this.queue.splice(index, 1);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Budgets shared through Redis, for PacerRegistry (runtime.ts): one RedisPacer per credential, its
 * key `${keyPrefix}:rate:<vendor>:<hashed credential>`. `redis` is a "commands" connection
 * (connectRedis): it fails fast while Redis is unreachable, which is what the budget relies on.
 */
export function redisBudgets(redis: Redis, keyPrefix: string, options: Omit<RedisPacerOptions, "maxWaitMs"> = {}): RateBudgetFactory {
  return (key, ratePerSecond, pacerOptions) =>
    new RedisPacer(redis, `${keyPrefix}:rate:${key}`, ratePerSecond, {
      ...options,
      ...(pacerOptions.maxWaitMs === undefined ? {} : { maxWaitMs: pacerOptions.maxWaitMs }),
      ...(pacerOptions.windowSlackMs === undefined ? {} : { windowSlackMs: pacerOptions.windowSlackMs }),
    });
}
