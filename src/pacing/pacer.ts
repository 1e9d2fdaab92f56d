import { createHash } from "node:crypto";

/**
 * Paces calls to at most `ratePerSecond`, first come first served, with a small burst allowance
 * (a generic cell rate algorithm: one "theoretical arrival time" instead of a refill timer).
 * One pacer is shared per vendor credential by every caller in the process, single updates and
 * bulk jobs alike, because the vendor counts them together.
 */
export class Pacer {
  private readonly intervalMs: number;
  private readonly burstMs: number;
  private theoreticalArrival = 0;
  private waitedMs = 0;
  private acquired = 0;

  constructor(
    readonly ratePerSecond: number,
    burst = 1,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0)) throw new Error("ratePerSecond must be positive");
    this.intervalMs = 1000 / ratePerSecond;
    this.burstMs = Math.max(0, burst - 1) * this.intervalMs;
  }

  /**
   * Resolves when the caller may send; rejects if the signal aborts first, or has already aborted
   * (a cancelled caller sends nothing new, with or without a wait).
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("aborted");
    const delay = this.reserve();
    this.acquired++;
    if (delay <= 0) return;
    this.waitedMs += delay;
    await sleep(delay, signal);
  }

  /** Milliseconds the next caller would wait, without reserving. */
  peekDelayMs(): number {
    return Math.max(0, this.theoreticalArrival - this.burstMs - this.now());
  }

  /** The vendor asked us to slow down: nothing goes out before `seconds` from now. */
  pause(seconds: number): void {
    this.theoreticalArrival = Math.max(this.theoreticalArrival, this.now() + seconds * 1000);
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
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    // A wait alone must not keep a shutting-down process alive.
    timer.unref();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** One pacer per key (vendor + credential), created on first use. */
/**
 * A stable key for one vendor credential (`<vendor>:<hash>`): pacer keys may appear in
 * diagnostics and metrics, credentials must not.
 */
export function credentialKey(vendor: string, credential: string): string {
  return `${vendor}:${createHash("sha256").update(credential).digest("hex").slice(0, 16)}`;
}

export class PacerRegistry {
  private readonly pacers = new Map<string, Pacer>();

  /** The pacer shared by everything in the process that uses this vendor credential. */
  forCredential(vendor: string, credential: string, ratePerSecond: number, burst?: number): Pacer {
    return this.get(credentialKey(vendor, credential), ratePerSecond, burst);
  }

  get(key: string, ratePerSecond: number, burst?: number): Pacer {
    let pacer = this.pacers.get(key);
    if (!pacer) {
      pacer = new Pacer(ratePerSecond, burst);
      this.pacers.set(key, pacer);
    }
    return pacer;
  }

  /** Every pacer created so far with its key (`<vendor>:<hashed credential>`), for metrics. */
  entries(): Array<[string, Pacer]> {
    return [...this.pacers.entries()];
  }
}
