import { describe, expect, it } from "@jest/globals";
import { isCancellation, RateLimitWaitTooLong } from "../../src/domain/vendor.js";
import { MAX_PAUSE_SECONDS, Pacer, sleep } from "../../src/pacing/pacer.js";

/** The shared pacer's contract with cancellation: a cancelled caller never gets a slot. */
describe("Pacer", () => {
  it("spaces callers at its rate and lets a burst through at once", async () => {
    let now = 0;
    const pacer = new Pacer(10, { burst: 2 }, () => now);
    const started = performance.now();
    await pacer.acquire();
    await pacer.acquire();
    expect(pacer.peekDelayMs()).toBeCloseTo(100, 5);
    now = 100;
    expect(pacer.peekDelayMs()).toBe(0);
    expect(pacer.stats()).toEqual({ acquired: 2, waitedMs: 0 });
    expect(performance.now() - started).toBeLessThan(1_000);
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
    for (const at of [0, 400, 800]) {
      now = at;
      expect(pacer.peekDelayMs()).toBe(0);
      await pacer.acquire(); // the third within 1 s: the one-second check allows ceil(2.5) = 3
    }
    expect(pacer.stats()).toEqual({ acquired: 3, waitedMs: 0 });
  });

  it("reports the one-second check's wait too, not only the schedule's, so the backlog gauge does not under-read", async () => {
    let now = 0;
    const pacer = new Pacer(2, { burst: 2 }, () => now); // a burst of 2 at 2/s: both go at 0 and fill the second
    await pacer.acquire();
    await pacer.acquire();
    // The schedule alone would let the next one go at 500 ms; the second that began at 0 holds it to 1000 ms.
    expect(pacer.peekDelayMs()).toBe(1_000);
    now = 600;
    expect(pacer.peekDelayMs()).toBe(400);
    now = 1_000;
    expect(pacer.peekDelayMs()).toBe(0);
  });

  it("gives a cancelled waiter's slot back, so the callers after it do not wait for nothing", async () => {
    const now = 0;
    const pacer = new Pacer(1, { burst: 1 }, () => now);
    await pacer.acquire(); // sends at 0; the next slot is at 1 s
    const controllers = [new AbortController(), new AbortController()];
    const waiting = controllers.map((c) => pacer.acquire({ signal: c.signal })); // slots at 1 s and 2 s
    expect(pacer.peekDelayMs()).toBe(3_000);
    for (const c of controllers) c.abort(new Error("cancelled"));
    await Promise.all(waiting.map((w) => expect(w).rejects.toThrow("cancelled")));
    expect(pacer.peekDelayMs()).toBe(1_000); // as if they had never asked
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

  it.each([NaN, -3, Infinity])("treats a Retry-After of %p as a 1 s pause, so pacing stays on", async (seconds) => {
    let now = 0;
    const pacer = new Pacer(10, { burst: 1 }, () => now);
    pacer.pause(seconds);
    expect(pacer.peekDelayMs()).toBe(1_000);
    now = 1_000;
    await pacer.acquire();
    expect(pacer.peekDelayMs()).toBeCloseTo(100, 5); // still paced at 10/s afterwards
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
    expect(pacer.peekDelayMs()).toBe(6_000); // the background caller holds the 5 s slot
    background.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });
});
