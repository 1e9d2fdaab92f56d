import { describe, expect, it } from "@jest/globals";
import { Pacer } from "../../src/pacing/pacer.js";

/** The shared pacer's contract with cancellation: a cancelled caller never gets a slot. */
describe("Pacer", () => {
  it("spaces callers at its rate and lets a burst through at once", async () => {
    let now = 0;
    const pacer = new Pacer(10, 2, () => now);
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
    const pacer = new Pacer(1, 1, () => 0);
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(pacer.acquire(controller.signal)).rejects.toThrow("cancelled");
    expect(pacer.stats().acquired).toBe(0);
    expect(pacer.peekDelayMs()).toBe(0); // the next caller is not delayed by the refused one
  });

  it("rejects a waiting caller when its signal aborts", async () => {
    const pacer = new Pacer(0.5, 1);
    await pacer.acquire();
    const controller = new AbortController();
    const waiting = pacer.acquire(controller.signal);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });
});
