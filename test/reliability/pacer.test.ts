import { describe, expect, it } from "@jest/globals";
import { isCancellation, RateLimitWaitTooLong } from "../../src/domain/vendor.js";
import { lowPriorityHorizonMs, pauseFor, SHORT_PAUSE_MS, type PauseState } from "../../src/pacing/budget.js";
import { MAX_PAUSE_SECONDS, Pacer, WINDOW_SLACK_MS } from "../../src/pacing/pacer.js";
import { sleep } from "../../src/util/sleep.js";

/**
 * The in-process rate budget. Its second is 1000 + WINDOW_SLACK_MS (20) ms long: at 10/s calls are
 * 102 ms apart, at most 10 in any 1,020 ms.
 */
describe("Pacer", () => {
  it("takes the vendor's second as 20 ms longer, a margin for arrivals that bunch on the way", () => {
    expect(WINDOW_SLACK_MS).toBe(20);
  });

  it("spaces callers at its rate and lets a burst through at once", async () => {
    let now = 0;
    const pacer = new Pacer(10, { burst: 2 }, () => now);
    const started = performance.now();
    await pacer.acquire();
    await pacer.acquire();
    expect(pacer.peekDelayMs()).toBeCloseTo(102, 5);
    now = 102;
    expect(pacer.peekDelayMs()).toBe(0);
    expect(pacer.stats()).toEqual({ acquired: 2, waitedMs: 0 });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("books low-priority callers at most the horizon ahead, so a live caller goes after a few of their slots, not all", async () => {
    // 50/s: slots 20.4 ms apart, a 100 ms horizon (lowPriorityHorizonMs), about five slots.
    expect(lowPriorityHorizonMs(1020 / 50)).toBe(100);
    const pacer = new Pacer(50);
    const order: string[] = [];
    const backlog = Array.from({ length: 30 }, (_, i) =>
      pacer.acquire({ background: true, lowPriority: true }).then(() => order.push(`bulk-${i}`)),
    );
    await sleep(30);
    expect(pacer.peekDelayMs()).toBeLessThanOrEqual(100 + 20.4);
    const sentBefore = order.length;
    const live = pacer.acquire().then(() => order.push("live"));
    await Promise.all([...backlog, live]);
    // Without priority the live caller would come after all 30; with it, after the few booked ahead.
    expect(order.indexOf("live") - sentBefore).toBeLessThanOrEqual(7);
    expect(order.filter((name) => name.startsWith("bulk"))).toEqual(Array.from({ length: 30 }, (_, i) => `bulk-${i}`));
    expect(pacer.stats().acquired).toBe(31);
  });

  it("a low-priority caller cancelled in its queue rejects with its reason; the ones behind it still go", async () => {
    const pacer = new Pacer(200);
    const first = Array.from({ length: 30 }, () => pacer.acquire({ background: true, lowPriority: true }));
    const controller = new AbortController();
    const cancelled = pacer.acquire({ background: true, lowPriority: true, signal: controller.signal });
    const after = pacer.acquire({ background: true, lowPriority: true });
    controller.abort(new Error("job cancelled"));
    await expect(cancelled).rejects.toThrow("job cancelled");
    await Promise.all([...first, after]);
    expect(pacer.stats().acquired).toBe(31);
  });

  it("refuses a caller whose signal has already aborted, without reserving a slot", async () => {
    const pacer = new Pacer(1, { burst: 1 }, () => 0);
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(pacer.acquire({ signal: controller.signal })).rejects.toThrow("cancelled");
    expect(pacer.stats().acquired).toBe(0);
    expect(pacer.peekDelayMs()).toBe(0); // the next caller is not delayed by the refused one
  });

  it("rejects a waiting caller when its signal aborts", async () => {
    const pacer = new Pacer(0.5, { burst: 1 });
    await pacer.acquire();
    const controller = new AbortController();
    const waiting = pacer.acquire({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });

  it("rejects with the signal's own reason even when it is not an Error, so the caller can tell its cancellation apart", async () => {
    const pacer = new Pacer(0.5, { burst: 1 });
    await pacer.acquire();
    const already = new AbortController();
    already.abort("shutting down");
    const refused = await pacer.acquire({ signal: already.signal }).catch((error: unknown) => error);
    expect(refused).toBe("shutting down");
    expect(isCancellation(refused, already.signal)).toBe(true);
    const later = new AbortController();
    const waiting = pacer.acquire({ signal: later.signal }).catch((error: unknown) => error);
    later.abort("shutting down");
    const rejected = await waiting;
    expect(rejected).toBe("shutting down");
    expect(isCancellation(rejected, later.signal)).toBe(true);
    const sleeping = sleep(60_000, later.signal).catch((error: unknown) => error);
    expect(await sleeping).toBe("shutting down");
  });

  it("never lets more than its rate out in any second, even when an event-loop stall wakes every overdue waiter at once", async () => {
    const rate = 20;
    const pacer = new Pacer(rate);
    const sentAt: number[] = [];
    const waiters = Array.from({ length: 45 }, () => pacer.acquire().then(() => sentAt.push(performance.now())));
    // A 500 ms stall once the first second is full: the ~10 slots inside it fall due together when it ends.
    setTimeout(() => {
      const until = performance.now() + 500;
      while (performance.now() < until) {
        // blocking on purpose
      }
    }, 1_100);
    await Promise.all(waiters);
    // 990 ms rather than 1000: the times are taken when each caller resumes, a little after the pacer let it go.
    const busiestSecond = Math.max(...sentAt.map((start) => sentAt.filter((t) => t >= start && t < start + 990).length));
    expect(busiestSecond).toBeLessThanOrEqual(rate);
    expect(sentAt).toHaveLength(45);
  });

  it("keeps a fractional rate: 2.5/s is not held to 2 calls a second", async () => {
    let now = 0;
    const pacer = new Pacer(2.5, { burst: 1 }, () => now);
    for (const at of [0, 408, 816]) {
      now = at;
      expect(pacer.peekDelayMs()).toBeCloseTo(0, 5);
      await pacer.acquire(); // the third within 1,020 ms: the window check allows ceil(2.5) = 3
    }
    expect(pacer.stats()).toEqual({ acquired: 3, waitedMs: 0 });
  });

  it("reports the one-second check's wait too, not only the schedule's, so the backlog gauge does not under-read", async () => {
    let now = 0;
    const pacer = new Pacer(2, { burst: 2 }, () => now); // a burst of 2 at 2/s: both go at 0 and fill the window
    await pacer.acquire();
    await pacer.acquire();
    // The schedule alone would let the next one go at 510 ms; the window that began at 0 holds it to 1,020 ms.
    expect(pacer.peekDelayMs()).toBe(1_020);
    now = 600;
    expect(pacer.peekDelayMs()).toBe(420);
    now = 1_020;
    expect(pacer.peekDelayMs()).toBe(0);
  });

  it("gives a cancelled waiter's slot back, so the callers after it do not wait for nothing", async () => {
    const now = 0;
    const pacer = new Pacer(1, { burst: 1 }, () => now);
    await pacer.acquire(); // sends at 0; the next slot is at 1.02 s
    const controllers = [new AbortController(), new AbortController()];
    const waiting = controllers.map((c) => pacer.acquire({ signal: c.signal })); // slots at 1.02 s and 2.04 s
    expect(pacer.peekDelayMs()).toBe(3_060);
    for (const c of controllers) c.abort(new Error("cancelled"));
    await Promise.all(waiting.map((w) => expect(w).rejects.toThrow("cancelled")));
    expect(pacer.peekDelayMs()).toBe(1_020); // as if they had never asked
    expect(pacer.stats().acquired).toBe(1);
  });

  it("pauses for a vendor's Retry-After, but never longer than MAX_PAUSE_SECONDS", () => {
    const now = 0;
    const pacer = new Pacer(1_000, { burst: 1 }, () => now);
    pacer.pause(5);
    expect(pacer.peekDelayMs()).toBe(5_000);
    pacer.pause(1_717_171_717); // an epoch time sent as delta-seconds
    expect(pacer.peekDelayMs()).toBe(MAX_PAUSE_SECONDS * 1000);
  });

  it.each([NaN, -3, Infinity])("treats a Retry-After of %p as a short one (a brief pause), so pacing stays on", async (seconds) => {
    let now = 0;
    const pacer = new Pacer(10, { burst: 1 }, () => now);
    pacer.pause(seconds);
    expect(pacer.peekDelayMs()).toBe(SHORT_PAUSE_MS);
    now = SHORT_PAUSE_MS;
    await pacer.acquire();
    expect(pacer.peekDelayMs()).toBeCloseTo(102, 5); // still paced at 10/s afterwards
  });

  it("pauses briefly for a short 429 and doubles while the vendor keeps refusing calls sent after the pause, up to the whole second", () => {
    let state: PauseState = { pausedUntil: 0, shortPauseMs: 0, shortPauseAt: 0 };
    const lengths: number[] = [];
    let now = 10_000;
    for (let i = 0; i < 6; i++) {
      state = pauseFor(1, now, state);
      lengths.push(state.pausedUntil - now);
      now = state.pausedUntil + 5; // the next 429 is for a call sent right after the pause
    }
    expect(lengths).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    // 429s coming back for calls sent before the pause began change nothing.
    const during = pauseFor(1, state.pausedUntil - 50, state);
    expect(during).toBe(state);
    // A 429 long after the last short pause starts again at 100 ms.
    const later = state.pausedUntil + 5_000;
    expect(pauseFor(1, later, state).pausedUntil - later).toBe(100);
    // A Retry-After longer than a second is honoured as asked, whatever the state.
    expect(pauseFor(2, later, state).pausedUntil).toBe(Math.max(state.pausedUntil, later + 2_000));
  });

  it("holds back a caller already asleep on a slot that a pause now covers: it takes a slot after the pause", async () => {
    const pacer = new Pacer(20); // 51 ms apart
    await pacer.acquire();
    const started = performance.now();
    const second = pacer.acquire({ background: true }); // its slot is ~51 ms away
    pacer.pause(1); // a short 429: nothing before 100 ms from now
    await second;
    expect(performance.now() - started).toBeGreaterThanOrEqual(SHORT_PAUSE_MS - 2);
    expect(pacer.stats().acquired).toBe(2);
  });

  it("refuses an interactive caller whose slot lies beyond maxWaitMs, giving the slot back; a background caller waits", async () => {
    const now = 0;
    const pacer = new Pacer(1, { maxWaitMs: 1_500 }, () => now);
    await pacer.acquire(); // at 0; the next slot is at 1 s
    pacer.pause(5); // a vendor's Retry-After: nothing before 5 s
    const refused = await pacer.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitWaitTooLong);
    expect((refused as RateLimitWaitTooLong).waitMs).toBe(5_000);
    expect(pacer.peekDelayMs()).toBe(5_000); // nothing reserved by the refused caller
    const background = new AbortController();
    const waiting = pacer.acquire({ background: true, signal: background.signal });
    expect(pacer.peekDelayMs()).toBe(6_020); // the background caller holds the 5 s slot
    background.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });

  it("treats a low-priority caller as background work: never refused for maxWaitMs, it waits its turn", async () => {
    const pacer = new Pacer(20, { maxWaitMs: 1 });
    await pacer.acquire(); // the next slot is 51 ms away, beyond the 1 ms bound
    await expect(pacer.acquire()).rejects.toBeInstanceOf(RateLimitWaitTooLong);
    await pacer.acquire({ lowPriority: true });
    expect(pacer.stats().acquired).toBe(2);
  });
});
