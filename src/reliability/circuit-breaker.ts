import { vendorFailure, type VendorFailure } from "../domain/failures.js";
import type { ProfileReadOutcome } from "../domain/profile-read.js";
import type { DeliveryOutcome } from "../domain/results.js";
import { LOCK_UNAVAILABLE } from "./keyed-lock.js";
import { endedBeforeSending, type BulkChange, type CallContext, type VendorAdapter } from "../domain/vendor.js";
import type { UpdateCommand } from "../domain/command.js";

export interface CircuitSettings {
  /** Consecutive unavailability failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long an open circuit fails fast before letting one probe through. */
  readonly cooldownMs: number;
}

export type CircuitState = "closed" | "open" | "half-open";

/**
 * Stops hammering a vendor that is down: after `failureThreshold` consecutive unavailability
 * failures (5xx, timeouts, connection faults) calls fail fast with AttributesVendorUnavailableError and a
 * retry delay, nothing sent, until the cooldown ends; then one probe decides whether it closes.
 * Refusals about the request itself (bad value, unknown user) say the vendor is up: they reset it.
 */
export class CircuitBreaker {
  private state: CircuitState = "closed";
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly listeners: Array<(state: CircuitState) => void> = [];

  constructor(
    readonly vendor: string,
    private readonly displayName: string,
    private readonly settings: CircuitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): CircuitState {
    if (this.state === "open" && this.now() - this.openedAt >= this.settings.cooldownMs) return "half-open";
    return this.state;
  }

  onChange(listener: (state: CircuitState) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs the call, or returns the fail-fast failure without running it. `unavailable` judges the
   * result (undefined: it says nothing about the vendor). A call that ended before sending (its
   * caller's cancellation, a rate-budget wait refused for its deadline) is not counted either.
   */
  async run<T>(
    call: () => Promise<T>,
    unavailable: (result: T) => boolean | undefined,
    failFast: (failure: VendorFailure) => T,
    signal?: AbortSignal,
  ): Promise<T> {
    const state = this.current;
    if (state === "open" || (state === "half-open" && this.probing)) return failFast(this.fastFailure());
    const probe = state === "half-open";
    if (probe) this.probing = true;
    try {
      const result = await call();
      const verdict = unavailable(result);
      if (verdict !== undefined) this.settle(!verdict);
      return result;
    } catch (error) {
      if (!endedBeforeSending(error, signal)) this.settle(false);
      throw error;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private settle(ok: boolean): void {
    if (ok) {
      this.consecutiveFailures = 0;
      this.transition("closed");
      return;
    }
    this.consecutiveFailures++;
    if (this.state !== "closed" || this.consecutiveFailures >= this.settings.failureThreshold) {
      this.openedAt = this.now();
      this.transition("open");
    }
  }

  private transition(state: CircuitState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  private fastFailure(): VendorFailure {
    const remainingMs = Math.max(0, this.settings.cooldownMs - (this.now() - this.openedAt));
    return vendorFailure(
      "VENDOR_UNAVAILABLE",
      this.vendor,
      `${this.displayName} failed ${this.settings.failureThreshold} times in a row; calls are paused (nothing was sent)`,
      { retryable: true, retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)), vendorCode: "CIRCUIT_OPEN" },
    );
  }
}

/** Failures that say nothing about the vendor: its own open circuit, and a shared lock not taken (nothing sent). */
const NOT_ABOUT_THE_VENDOR: ReadonlySet<string | undefined> = new Set(["CIRCUIT_OPEN", LOCK_UNAVAILABLE]);

const isUnavailable = (outcome: DeliveryOutcome | ProfileReadOutcome): boolean =>
  !outcome.ok && outcome.failure.category === "VENDOR_UNAVAILABLE" && !NOT_ABOUT_THE_VENDOR.has(outcome.failure.vendorCode);

/** The adapter behind a circuit breaker, with the same interface. */
export function withCircuitBreaker(adapter: VendorAdapter, breaker: CircuitBreaker): VendorAdapter {
  const vendor = breaker.vendor;
  const wrapped: VendorAdapter = {
    update: (command: UpdateCommand, context: CallContext) =>
      breaker.run(
        () => adapter.update(command, context),
        // A dry run's writes answer themselves: they say nothing about the vendor.
        (outcome) => (context.dryRun ? undefined : isUnavailable(outcome)),
        (failure): DeliveryOutcome => ({ ok: false, vendor, failure }),
        context.signal,
      ),
  };
  if (adapter.check) wrapped.check = (command) => adapter.check!(command);
  if (adapter.isRepeatSafe) wrapped.isRepeatSafe = (command) => adapter.isRepeatSafe!(command);
  if (adapter.planBulk) wrapped.planBulk = (userCount) => adapter.planBulk!(userCount);
  if (adapter.readProfiles) {
    const read = adapter.readProfiles.bind(adapter);
    wrapped.readProfiles = (userIds, context) =>
      breaker.run(
        () => read(userIds, context),
        (results) => results.size > 0 && [...results.values()].every(isUnavailable),
        (failure) => new Map(userIds.map((id): [string, ProfileReadOutcome] => [id, { ok: false, failure }])),
        context.signal,
      );
  }
  if (adapter.setForMany) {
    const setForMany = adapter.setForMany.bind(adapter);
    wrapped.setForMany = (userIds: readonly string[], change: BulkChange, context: CallContext) =>
      breaker.run(
        () => setForMany(userIds, change, context),
        // A cancelled bulk call returns only the users it sent: too little to judge the vendor by; a dry run's writes say nothing.
        (results) =>
          context.dryRun || (context.signal?.aborted && results.size < userIds.length)
            ? undefined
            : results.size > 0 && [...results.values()].every(isUnavailable),
        (failure) => new Map(userIds.map((id): [string, DeliveryOutcome] => [id, { ok: false, vendor, failure }])),
        context.signal,
      );
  }
  return wrapped;
}
