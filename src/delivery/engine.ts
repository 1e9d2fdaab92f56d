import { randomUUID } from "node:crypto";
import type { UpdateCommand } from "../domain/command.js";
import { deliverOne, refusalBeforeSending, type DispatchHooks } from "../domain/dispatch.js";
import { vendorFailure, type VendorFailure } from "../domain/failures.js";
import { failed, type DeliveryOutcome } from "../domain/results.js";
import { RequestScope } from "../domain/scope.js";
import { isCancellation, repeatSafeAt, type CallContext, type Vendor } from "../domain/vendor.js";
import { isRedisUnreachable } from "../redis/unavailable.js";
import { LockUnavailableError, type KeyedLock } from "../reliability/keyed-lock.js";
import type { LaneScheduler } from "./scheduler.js";
import { laneKey, type DeliveryStore, type VendorQueueStats } from "./store.js";
import {
  DEFAULT_DELIVERY_SETTINGS,
  retryDelayMs,
  type DeliveryAttempt,
  type DeliveryMode,
  type DeliveryRecord,
  type DeliverySettings,
  type Lane,
  type QueueReason,
  type QueuedDelivery,
  type UpdateOutcome,
} from "./types.js";

export interface DeliveryHooks extends DispatchHooks {
  /** A vendor's update was queued instead of answered (the operation's log line notes it). */
  readonly onQueued?: (queued: QueuedDelivery) => void;
}

export interface DeliverRequest {
  readonly command: UpdateCommand;
  readonly targets: readonly Vendor[];
  readonly mode: DeliveryMode;
  /** Recorded on queued deliveries: who may follow and cancel them. */
  readonly owner?: string | undefined;
  readonly context: CallContext;
  readonly hooks?: DeliveryHooks;
}

export interface DeliveryEngineOptions {
  readonly store: DeliveryStore;
  readonly scheduler: LaneScheduler;
  /** Each lane's lock: KeyedMutex in one process, RedisKeyedLock across processes. */
  readonly lock: KeyedLock;
  readonly vendors: readonly Vendor[];
  readonly settings?: Partial<DeliverySettings>;
  /** Whether this process works the queue (the embedded mode always; shared mode where BULK_WORKER is on). */
  readonly worker: boolean;
  readonly onError?: (error: unknown, where: { readonly lane?: Lane; readonly deliveryId?: string }) => void;
  /** Every queued attempt's outcome (metrics count them with the synchronous deliveries). */
  readonly onAttempt?: (outcome: DeliveryOutcome, durationMs: number) => void;
  readonly onSettled?: (record: DeliveryRecord) => void;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** The vendor code of a failure caused by the delivery queue itself, never by the vendor. */
export const QUEUE_UNAVAILABLE = "DELIVERY_QUEUE_UNAVAILABLE";
export const QUEUE_FULL = "DELIVERY_QUEUE_FULL";
/** How often a worker looks for lanes whose wake-up was lost (a scheduler's job lost with Redis data). */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * Updates in order per user and vendor, and GUARANTEED delivery: a vendor's retryable failure is
 * queued and retried until the vendor takes it, its window ends, or it is cancelled.
 *
 * Every update to vendor V for user U goes through the lane (V, U), under the lane's lock: while a
 * delivery is queued there, a later update (SYNC too) is queued behind it instead of sent, so an old
 * value retried late never overwrites a newer one. The lock is held while a direct update is in
 * flight, so a failure queued by it is queued before any later update looks at the lane.
 *
 * A queued attempt is sent only where the previous one certainly did not apply, or a repeat is
 * safe: a retryable failure says so, and an attempt whose process died before recording its outcome
 * is sent again only for a repeat-safe update; otherwise it ends as OUTCOME_UNKNOWN.
 */
export class DeliveryEngine {
  private readonly store: DeliveryStore;
  private readonly scheduler: LaneScheduler;
  private readonly lock: KeyedLock;
  private readonly vendors: readonly Vendor[];
  readonly settings: DeliverySettings;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly onError: NonNullable<DeliveryEngineOptions["onError"]>;
  private sweep: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: DeliveryEngineOptions) {
    this.store = options.store;
    this.scheduler = options.scheduler;
    this.lock = options.lock;
    this.vendors = options.vendors;
    this.settings = { ...DEFAULT_DELIVERY_SETTINGS, ...options.settings };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? (() => undefined);
    if (options.worker) {
      this.scheduler.start((lane, signal) => this.runLane(lane, signal));
      this.sweep = setInterval(() => void this.recoverLanes(), SWEEP_INTERVAL_MS);
      this.sweep.unref();
      void this.recoverLanes();
    }
  }

  /** Whether a queued delivery survives a restart (false: this process's memory). */
  get durable(): boolean {
    return this.store.durable;
  }

  /** One outcome per target, in order: delivered, failed, or queued. */
  deliver(request: DeliverRequest): Promise<UpdateOutcome[]> {
    return Promise.all(request.targets.map((vendor) => this.deliverTo(vendor, request)));
  }

  get(id: string): Promise<DeliveryRecord | undefined> {
    return this.store.get(id);
  }

  stats(): Promise<VendorQueueStats[]> {
    return this.store.stats();
  }

  /**
   * Cancels a queued delivery: it is never attempted again (an attempt in flight is waited for, and
   * if it delivered, the delivery stays DELIVERED). A settled delivery is returned unchanged.
   */
  async cancel(id: string): Promise<DeliveryRecord | undefined> {
    const found = await this.store.get(id);
    if (!found || found.status !== "QUEUED") return found;
    const lane = { vendor: found.vendor, userId: found.userId };
    const result = await this.lock.run([laneKey(lane)], async () => {
      const current = await this.store.get(id);
      if (!current || current.status !== "QUEUED") return current;
      const { inFlightSince, ...rest } = current;
      const cancelled: DeliveryRecord = {
        ...rest,
        ...(inFlightSince === undefined
          ? {}
          : {
              attempts: [
                ...current.attempts,
                { startedAt: inFlightSince, durationMs: this.now() - inFlightSince, result: "lost" as const },
              ],
            }),
        status: "CANCELLED",
        finishedAt: this.now(),
        note:
          inFlightSince === undefined
            ? "cancelled"
            : "cancelled; the process sending its last attempt stopped before recording the outcome, so whether that attempt applied is unknown",
      };
      await this.settle(cancelled);
      return cancelled;
    });
    // The next delivery of the lane may go now.
    if (result?.status === "CANCELLED")
      await this.scheduler.wake(lane, this.now()).catch((error: unknown) => this.onError(error, { lane }));
    return result;
  }

  /** Stops working the queue in this process; queued deliveries stay queued (in Redis: for another worker). */
  stop(graceMs = 0): Promise<void> {
    this.stopped ??= (async () => {
      if (this.sweep) clearInterval(this.sweep);
      await this.scheduler.stop(graceMs);
    })();
    return this.stopped;
  }

  /** Attempts the lane's due deliveries in order, one per hold of its lock, until none is due. */
  async runLane(lane: Lane, signal: AbortSignal): Promise<void> {
    const key = laneKey(lane);
    // This worker stopping: the lane's work is left, and woken, for the next one.
    const handOver = (): Promise<void> => this.scheduler.wake(lane, this.now()).catch((error: unknown) => this.onError(error, { lane }));
    for (;;) {
      if (signal.aborted) return handOver();
      let step: "next" | "done";
      try {
        step = await this.lock.run([key], () => this.step(lane, signal), signal);
      } catch (error) {
        if (isCancellation(error, signal)) return handOver();
        throw error;
      }
      if (step === "done") return;
    }
  }

  private async deliverTo(vendor: Vendor, request: DeliverRequest): Promise<UpdateOutcome> {
    // Nothing can be sent to this vendor: no lane to respect, the refusal is the answer.
    if (refusalBeforeSending(vendor, request.command)) return deliverOne(vendor, request.command, request.context, request.hooks);
    const lane = { vendor: vendor.id, userId: request.command.userId };
    try {
      return await this.lock.run([laneKey(lane)], () => this.inLane(vendor, lane, request));
    } catch (error) {
      // Raised before anything was sent (the lock, or the lane's depth): the order cannot be checked, so nothing is sent.
      if (error instanceof LockUnavailableError || isRedisUnreachable(error)) {
        return failed(
          vendorFailure(
            "VENDOR_UNAVAILABLE",
            vendor.id,
            `the delivery queue (shared mode's Redis) cannot be reached to check that no earlier update of this user is queued for ${vendor.displayName}; nothing was sent`,
            { retryable: true, vendorCode: QUEUE_UNAVAILABLE, retryAfterSeconds: 1 },
          ),
        );
      }
      throw error;
    }
  }

  private async inLane(vendor: Vendor, lane: Lane, request: DeliverRequest): Promise<UpdateOutcome> {
    if ((await this.store.depth(lane)) > 0) {
      const behind = await this.store.tail(lane);
      const now = this.now();
      const record = this.newRecord(vendor, request, "BEHIND_EARLIER_DELIVERY", now, now, []);
      const appended = await this.append(record);
      if (appended !== "appended") {
        return failed(
          vendorFailure(
            "VENDOR_UNAVAILABLE",
            vendor.id,
            appended === "full"
              ? `an earlier update of this user is queued for ${vendor.displayName}, and this one cannot queue behind it: the delivery queue holds DELIVERY_MAX_QUEUED (${this.settings.maxQueued}) deliveries; nothing was sent`
              : `an earlier update of this user is queued for ${vendor.displayName}, and this one cannot queue behind it: the delivery queue cannot be reached; nothing was sent`,
            { retryable: true, vendorCode: appended === "full" ? QUEUE_FULL : QUEUE_UNAVAILABLE, retryAfterSeconds: 60 },
          ),
        );
      }
      return this.queued(record, request.hooks, behind);
    }

    const startedAt = this.now();
    const started = performance.now();
    const outcome = await deliverOne(vendor, request.command, request.context, request.hooks);
    if (request.mode === "SYNC" || outcome.ok) return outcome;
    const failure = outcome.failure;
    if (failure.retryable) {
      const attempt: DeliveryAttempt = { startedAt, durationMs: performance.now() - started, result: "failed", failure };
      const now = this.now();
      const next = now + retryDelayMs(1, this.settings, failure.retryAfterSeconds, this.random);
      // No retry possible within the settings: the failure is the answer, as in SYNC mode.
      if (this.settings.maxAttempts <= 1 || next >= startedAt + this.settings.windowMs) return outcome;
      const record = this.newRecord(vendor, request, "RETRYABLE_FAILURE", startedAt, next, [attempt]);
      const appended = await this.append(record);
      if (appended !== "appended") {
        const why =
          appended === "full"
            ? `the delivery queue holds DELIVERY_MAX_QUEUED (${this.settings.maxQueued}) deliveries`
            : "the delivery queue cannot be reached";
        return failed({ ...failure, message: `${failure.message}; not queued for retries: ${why}` });
      }
      await this.scheduler.wake(lane, next).catch((error: unknown) => this.onError(error, { lane, deliveryId: record.id }));
      return this.queued(record, request.hooks);
    }
    if (mayHaveApplied(failure) && !repeatSafeAt(vendor.adapter!, request.command)) return failed(outcomeUnknown(vendor, failure));
    return outcome;
  }

  /** One step of a lane's work, under its lock: settle or attempt its head. */
  private async step(lane: Lane, signal: AbortSignal): Promise<"next" | "done"> {
    const head = await this.store.head(lane);
    if (!head) return "done";
    if (head.status !== "QUEUED") {
      await this.store.settle(head, this.settings.retentionMs); // a settled record left in its lane: take it out
      return "next";
    }
    let record = head;
    const vendor = this.vendors.find((v) => v.id === record.vendor);
    if (record.inFlightSince !== undefined) {
      const { inFlightSince, ...rest } = record;
      record = {
        ...rest,
        attempts: [...record.attempts, { startedAt: inFlightSince, durationMs: this.now() - inFlightSince, result: "lost" }],
      };
      if (!record.repeatSafe) {
        await this.finish(record, "FAILED", {
          outcome: failed(outcomeUnknown(vendor ?? { id: record.vendor, displayName: record.vendor }, undefined)),
          note: "the process sending an attempt stopped before recording its outcome, and this update is not safe to send twice",
        });
        return "next";
      }
      await this.store.update(record);
    }
    const now = this.now();
    if (now >= record.expiresAt) {
      await this.finish(record, "EXPIRED", {
        ...lastOutcome(record),
        note:
          record.attempts.length === 0
            ? "its retry window ended before its turn: an earlier update of this user held the lane until then"
            : "its retry window (DELIVERY_RETRY_WINDOW_SECONDS) ended",
      });
      return "next";
    }
    if (record.nextAttemptAt > now) {
      await this.scheduler.wake(lane, record.nextAttemptAt);
      return "done";
    }
    if (!vendor) {
      await this.finish(record, "FAILED", {
        outcome: failed(vendorFailure("VENDOR_NOT_CONFIGURED", record.vendor, `${record.vendor} is not known to this process`)),
      });
      return "next";
    }

    await this.store.update({ ...record, inFlightSince: now });
    const started = performance.now();
    let outcome: DeliveryOutcome;
    try {
      outcome = await deliverOne(
        vendor,
        record.command,
        // Behind live requests in the rate budget: a draining backlog must not make them wait (issue 23).
        {
          requestId: `delivery-${record.id}-${record.attempts.length + 1}`,
          scope: new RequestScope(),
          background: true,
          lowPriority: true,
          signal,
        },
        {
          onOutcome: (o, details) => this.options.onAttempt?.(o, details.durationMs),
          onAdapterCrash: (_vendor, error) => this.onError(error, { lane, deliveryId: record.id }),
        },
      );
    } catch (error) {
      if (!isCancellation(error, signal)) throw error;
      // This worker stops, and nothing was sent: the delivery stays as it was, for the next worker.
      await this.store.update(record);
      throw error;
    }
    const attempt: DeliveryAttempt = outcome.ok
      ? { startedAt: now, durationMs: performance.now() - started, result: "delivered" }
      : { startedAt: now, durationMs: performance.now() - started, result: "failed", failure: outcome.failure };
    record = { ...record, attempts: [...record.attempts, attempt] };
    if (outcome.ok) {
      await this.finish(record, "DELIVERED", { outcome });
      return "next";
    }
    const failure = outcome.failure;
    if (failure.retryable) {
      if (record.attempts.length >= this.settings.maxAttempts) {
        await this.finish(record, "EXPIRED", { outcome, note: `${record.attempts.length} attempts made (DELIVERY_MAX_ATTEMPTS)` });
        return "next";
      }
      const next = this.now() + retryDelayMs(record.attempts.length, this.settings, failure.retryAfterSeconds, this.random);
      if (next >= record.expiresAt) {
        await this.finish(record, "EXPIRED", {
          outcome,
          note: "its retry window (DELIVERY_RETRY_WINDOW_SECONDS) ends before the next attempt",
        });
        return "next";
      }
      await this.store.update({ ...record, nextAttemptAt: next });
      await this.scheduler.wake(lane, next);
      return "done";
    }
    const final = mayHaveApplied(failure) && !record.repeatSafe ? failed(outcomeUnknown(vendor, failure)) : outcome;
    await this.finish(record, "FAILED", { outcome: final });
    return "next";
  }

  private newRecord(
    vendor: Vendor,
    request: DeliverRequest,
    reason: QueueReason,
    createdAt: number,
    nextAttemptAt: number,
    attempts: DeliveryAttempt[],
  ): DeliveryRecord {
    const { command } = request;
    const own = command.vendorOptions[vendor.id];
    return {
      id: randomUUID(),
      vendor: vendor.id,
      userId: command.userId,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
      command: { ...command, vendorOptions: own === undefined ? {} : { [vendor.id]: own } },
      repeatSafe: repeatSafeAt(vendor.adapter!, command),
      status: "QUEUED",
      reason,
      createdAt,
      expiresAt: createdAt + this.settings.windowMs,
      nextAttemptAt,
      attempts,
    };
  }

  private async append(record: DeliveryRecord): Promise<"appended" | "full" | "unreachable"> {
    try {
      return await this.store.append(record, this.settings.maxQueued);
    } catch (error) {
      if (isRedisUnreachable(error)) return "unreachable";
      throw error;
    }
  }

  private queued(record: DeliveryRecord, hooks: DeliveryHooks | undefined, behind?: string): QueuedDelivery {
    const last = record.attempts.at(-1)?.failure;
    const queued: QueuedDelivery = {
      queued: true,
      vendor: record.vendor,
      deliveryId: record.id,
      reason: record.reason,
      attempts: record.attempts.length,
      ...(record.reason === "RETRYABLE_FAILURE" ? { nextAttemptAt: record.nextAttemptAt } : {}),
      expiresAt: record.expiresAt,
      ...(last ? { lastError: last } : {}),
      ...(behind === undefined ? {} : { behind }),
      durable: this.store.durable,
    };
    try {
      hooks?.onQueued?.(queued);
    } catch {
      // Observing must not change the answer.
    }
    return queued;
  }

  private finish(
    record: DeliveryRecord,
    status: "DELIVERED" | "FAILED" | "EXPIRED",
    details: { readonly outcome?: DeliveryOutcome; readonly note?: string },
  ): Promise<void> {
    const { inFlightSince: _, ...rest } = record;
    return this.settle({
      ...rest,
      status,
      finishedAt: this.now(),
      ...(details.outcome ? { outcome: details.outcome } : {}),
      ...(details.note ? { note: details.note } : {}),
    });
  }

  private async settle(record: DeliveryRecord): Promise<void> {
    await this.store.settle(record, this.settings.retentionMs);
    try {
      this.options.onSettled?.(record);
    } catch (error) {
      this.onError(error, { deliveryId: record.id });
    }
  }

  /** Wakes lanes overdue by a sweep interval: their scheduled wake-up was lost (or is about to run). */
  private async recoverLanes(): Promise<void> {
    try {
      const lanes = await this.store.dueLanes(this.now() - SWEEP_INTERVAL_MS, 500);
      for (const lane of lanes) await this.scheduler.wake(lane, this.now());
    } catch (error) {
      this.onError(error, {});
    }
  }
}

/** Whether a failure leaves open that the vendor applied the update (it answered nothing usable after it was sent). */
function mayHaveApplied(failure: VendorFailure): boolean {
  return failure.category === "VENDOR_UNAVAILABLE" && !failure.retryable;
}

function lastOutcome(record: DeliveryRecord): { outcome?: DeliveryOutcome } {
  const failure = record.attempts.findLast((a) => a.failure)?.failure;
  return failure ? { outcome: failed(failure) } : {};
}

function outcomeUnknown(vendor: Pick<Vendor, "id" | "displayName">, failure: VendorFailure | undefined): VendorFailure {
  return vendorFailure(
    "OUTCOME_UNKNOWN",
    vendor.id,
    failure
      ? `${vendor.displayName} may have applied this update (${failure.message}); sending it again is not safe (it is not repeat-safe, an INCREMENT for example), so it is not retried`
      : `the process sending this update to ${vendor.displayName} stopped while the request may have been in flight; sending it again is not safe (it is not repeat-safe, an INCREMENT for example), so it was not resent`,
    { retryable: false, related: failure ? [failure] : [] },
  );
}
