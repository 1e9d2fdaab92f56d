import { setMaxListeners } from "node:events";
import { unsupportedParts } from "../domain/check.js";
import { DEFAULT_INPUT_LIMITS, userIdProblem, type InputLimits, type InputProblem, type UpdateCommand } from "../domain/command.js";
import { selectTargets } from "../domain/dispatch.js";
import { vendorFailure, type FailureCategory, type VendorFailure } from "../domain/failures.js";
import type { DeliveryOutcome } from "../domain/results.js";
import { RequestScope } from "../domain/scope.js";
import { isCancellation, type BulkChange, type CallContext, type Vendor } from "../domain/vendor.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import { readFailurePage, type FailurePage, type FailurePageRequest } from "./failure-pages.js";
import type { WorkQueue } from "./queue.js";
import type { JobStore } from "./store.js";
import type { BulkFailure, BulkJobSnapshot, CancelReason, JobStatus } from "./types.js";
import { PackedUserIds, type UserIdList } from "./user-ids.js";
import { isFinished, pending } from "./types.js";

export interface BulkEngineOptions {
  readonly store: JobStore;
  readonly queue: WorkQueue;
  readonly vendors: readonly Vendor[];
  /** Most user ids one call may submit (BULK_MAX_USER_IDS). */
  readonly maxUserIds?: number;
  /** Users in flight per vendor without a native bulk path; the vendor's pacer sets the rate. */
  readonly fanOutConcurrency?: number;
  /** Users per progress update on the fan-out path. */
  readonly fanOutChunkSize?: number;
  readonly retry?: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly limits?: InputLimits;
  readonly onError?: (jobId: string, error: unknown) => void;
  /** Every status change and every settled chunk of users, for metrics. Must not throw. */
  readonly onProgress?: (event: BulkProgressEvent) => void;
}

/**
 * What a job did, as it happens: a status change (with the job's vendors and user count, so an
 * observer needs no store look-up), or users settled at one vendor.
 */
export type BulkProgressEvent =
  | {
      readonly kind: "status";
      readonly jobId: string;
      readonly status: JobStatus;
      readonly vendors: readonly string[];
      readonly users: number;
    }
  | {
      readonly kind: "users";
      readonly jobId: string;
      readonly vendor: string;
      readonly succeeded: number;
      readonly cancelled: number;
      /** The category of each failed user's final failure. */
      readonly failed: readonly FailureCategory[];
    };

export interface BulkSubmission {
  readonly userIds: readonly string[];
  readonly change: BulkChange;
  readonly vendors?: readonly string[] | null;
  /** Who submits it (BulkJobSnapshot.owner); undefined when authorization is off. */
  readonly owner?: string | undefined;
}

export type SubmitResult =
  | { readonly kind: "accepted"; readonly job: BulkJobSnapshot }
  | { readonly kind: "invalid"; readonly problems: readonly InputProblem[] }
  | { readonly kind: "too-many"; readonly limit: number; readonly received: number };

type ChunkOutcome = DeliveryOutcome | "cancelled";

/** Categories worth another attempt: the same request may succeed later by itself. */
const RETRIED = new Set(["RATE_LIMITED", "VENDOR_UNAVAILABLE"]);

/**
 * Runs bulk jobs: one attribute value for many users, per vendor through its native bulk path or
 * a fan-out paced by the vendor's shared pacer. Every user ends exactly once as succeeded,
 * failed (with its typed failure) or cancelled. A bulk write sets a value, so transient failures
 * are retried with bounded backoff; the last attempt's failure is what the report shows.
 */
export class BulkEngine {
  private readonly store: JobStore;
  private readonly queue: WorkQueue;
  private readonly vendors: readonly Vendor[];
  private readonly maxUserIds: number;
  private readonly fanOutConcurrency: number;
  /** Fan-out chunks in flight per vendor (each with its share of the fan-out concurrency). */
  private readonly fanOutLanes: number;
  private readonly fanOutChunkSize: number;
  private readonly retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  private readonly limits: InputLimits;
  private readonly onError: (jobId: string, error: unknown) => void;
  private readonly onProgress: (event: BulkProgressEvent) => void;
  private readonly running = new Map<string, AbortController>();
  /** stop() was called: no chunk and no job starts any more. */
  private draining = false;
  /** stop()'s grace is over: running jobs give up their waits. */
  private graceOver = false;
  private readonly graceTimers: NodeJS.Timeout[] = [];
  /** stop()'s work, shared by every call, and whether it is done. */
  private stopped: Promise<void> | undefined;
  private drained = false;

  constructor(options: BulkEngineOptions) {
    this.store = options.store;
    this.queue = options.queue;
    this.vendors = options.vendors;
    this.maxUserIds = options.maxUserIds ?? 100_000;
    this.fanOutConcurrency = options.fanOutConcurrency ?? 32;
    this.fanOutLanes = Math.min(2, this.fanOutConcurrency);
    this.fanOutChunkSize = options.fanOutChunkSize ?? 200;
    this.retry = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 10_000, ...options.retry };
    this.limits = options.limits ?? DEFAULT_INPUT_LIMITS;
    this.onError = options.onError ?? (() => undefined);
    this.onProgress = options.onProgress ?? (() => undefined);
    this.queue.start((jobId) => this.run(jobId));
  }

  get maxUserIdsPerCall(): number {
    return this.maxUserIds;
  }

  async submit(submission: BulkSubmission): Promise<SubmitResult> {
    const { userIds, change } = submission;
    if (userIds.length > this.maxUserIds) return { kind: "too-many", limit: this.maxUserIds, received: userIds.length };
    const problems: InputProblem[] = [];
    if (userIds.length === 0) problems.push({ path: ["input", "userIds"], message: "give at least one user id" });
    userIds.forEach((id, index) => {
      const refusal = userIdProblem(id, this.limits);
      if (refusal) problems.push({ path: ["input", "userIds", String(index)], message: refusal });
    });
    if (change.attribute.length === 0) problems.push({ path: ["input", "attribute"], message: "must not be empty" });
    if (submission.vendors?.length === 0)
      problems.push({ path: ["input", "vendors"], message: "name at least one vendor, or omit the field" });
    if (problems.length > 0) return { kind: "invalid", problems };

    const targets = selectTargets(this.vendors, submission.vendors);
    const sample = setCommand(userIds[0]!, change);
    targets.forEach((vendor) => {
      const path = ["input", "vendors", vendor.id];
      if (!vendor.adapter) {
        problems.push({ path, message: `${vendor.displayName} is not configured in this deployment` });
        return;
      }
      // A value the vendor refuses for every user is refused once, before the job exists.
      const refusals = [...unsupportedParts(sample, vendor.id, vendor.capabilities), ...(vendor.adapter.check?.(sample) ?? [])];
      for (const failure of refusals) problems.push({ path, message: failure.message });
    });
    if (problems.length > 0) return { kind: "invalid", problems };

    const unique = new Set(userIds);
    const packed = PackedUserIds.from(unique, unique.size);
    const job = await this.store.create({
      spec: { ...change, vendors: targets.map((v) => v.id) },
      userIds: packed,
      duplicateUserIds: userIds.length - unique.size,
      owner: submission.owner,
    });
    this.progress({ kind: "status", jobId: job.id, status: job.status, vendors: job.spec.vendors, users: unique.size });
    if (this.draining) {
      // The engine is shutting down: the job is answered, typed, as one the shutdown cancelled.
      await this.cancelUnstarted(job.id, "SHUTDOWN");
      return { kind: "accepted", job: (await this.store.get(job.id)) ?? job };
    }
    await this.queue.enqueue(job.id);
    return { kind: "accepted", job };
  }

  get(id: string): Promise<BulkJobSnapshot | undefined> {
    return this.store.get(id);
  }

  /** A page of the job's kept failures (see readFailurePage); `job` gives the vendors' list lengths. */
  failures(job: BulkJobSnapshot, request: FailurePageRequest): Promise<FailurePage> {
    return readFailurePage(this.store, job, request);
  }

  /** Stops a job promptly: users not yet sent end as cancelled; requests already sent finish. */
  async cancel(id: string): Promise<BulkJobSnapshot | undefined> {
    const job = await this.store.get(id);
    if (!job) return undefined;
    if (isFinished(job.status)) return job;
    await this.store.requestCancel(id, "CANCEL_REQUESTED");
    this.running.get(id)?.abort(new Error("bulk job cancelled"));
    if (job.status === "QUEUED") await this.cancelRemaining(id);
    return this.store.get(id);
  }

  /**
   * Stops bulk work at a chunk boundary, for a shutdown. At once, no chunk and no queued job starts
   * any more; chunks already in flight go on (their requests go out and are counted by their
   * outcomes) until `graceMs` ends (default 0; Infinity waits for them). Then their remaining waits
   * are given up as a cancel does: users not yet sent count as cancelled, and requests already
   * sent are not aborted (they end within the vendor's timeout). Every job that did not complete,
   * queued ones and any submitted from now on included, ends CANCELLED with `cancelReason`
   * SHUTDOWN and exact counts. Resolves once every job has them. A second call shares the first
   * one's work and may only shorten the grace.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.draining = true;
    const graceMs = options.graceMs ?? 0;
    if (!(graceMs > 0)) this.endGrace();
    else if (Number.isFinite(graceMs) && !this.drained) this.graceTimers.push(setTimeout(() => this.endGrace(), graceMs));
    this.stopped ??= this.drain();
    return this.stopped;
  }

  /** The grace is over: every running job gives up its waits, as on a cancel. */
  private endGrace(): void {
    this.graceOver = true;
    for (const controller of this.running.values()) controller.abort(new Error("shutting down"));
  }

  private async drain(): Promise<void> {
    try {
      // Jobs the queue will never run now were never started: every user of theirs is cancelled.
      for (const id of await this.queue.stop()) await this.cancelUnstarted(id, "SHUTDOWN");
    } finally {
      this.drained = true;
      for (const timer of this.graceTimers) clearTimeout(timer);
    }
  }

  private async cancelUnstarted(id: string, reason: CancelReason): Promise<void> {
    await this.store.requestCancel(id, reason);
    await this.cancelRemaining(id);
  }

  private async cancelRemaining(id: string): Promise<void> {
    const job = await this.store.get(id);
    if (!job || isFinished(job.status)) return;
    for (const progress of job.progress) {
      const left = pending(progress);
      if (left > 0) await this.record(id, progress.vendor, { succeeded: 0, failures: [], cancelled: left });
    }
    await this.setStatus(job, "CANCELLED");
  }

  private async run(jobId: string): Promise<void> {
    const job = await this.store.get(jobId);
    if (!job || isFinished(job.status)) return;
    if (this.draining) return this.cancelUnstarted(jobId, "SHUTDOWN");
    const userIds = await this.store.userIds(jobId);
    if (job.cancelRequested || !userIds) return this.cancelRemaining(jobId);
    const controller = new AbortController();
    // Every user waiting on a pacer listens to this signal.
    setMaxListeners(0, controller.signal);
    this.running.set(jobId, controller);
    if (this.graceOver) controller.abort(new Error("shutting down"));
    try {
      await this.setStatus(job, "RUNNING");
      const change: BulkChange = { attribute: job.spec.attribute, value: job.spec.value };
      await Promise.all(
        job.spec.vendors.map((vendorId) => {
          const vendor = this.vendors.find((v) => v.id === vendorId);
          if (!vendor?.adapter) throw new Error(`vendor ${vendorId} is no longer available`);
          return this.runVendor(jobId, vendor, userIds, change, controller.signal);
        }),
      );
      const status = finalStatus((await this.store.get(jobId))!);
      // Users cancelled without a cancel request were stopped by the shutdown: say so.
      if (status === "CANCELLED" && this.draining) await this.store.requestCancel(jobId, "SHUTDOWN");
      await this.setStatus(job, status);
    } catch (error) {
      this.onError(jobId, error);
      await this.setStatus(job, "FAILED");
    } finally {
      this.running.delete(jobId);
    }
  }

  private async runVendor(jobId: string, vendor: Vendor, userIds: UserIdList, change: BulkChange, signal: AbortSignal): Promise<void> {
    const native = vendor.capabilities.bulk && vendor.adapter?.setForMany ? vendor.capabilities.bulk : undefined;
    const size = native?.chunkSize ?? this.fanOutChunkSize;
    const chunks = Math.ceil(userIds.length / size);
    let next = 0;
    // Fan-out chunks run in lanes that share the fan-out concurrency, so one chunk's last calls
    // drain while the next chunk's go out and the vendor's pacer never idles between chunks. A
    // lane starts no chunk after a cancel or a stop; the chunk it has in flight goes on. Chunks
    // are cut (and their ids unpacked) as they start, not up front: a million-id job would
    // otherwise hold one more copy of its id list per vendor for its whole run.
    const lane = async (): Promise<void> => {
      while (next < chunks && !signal.aborted && !this.draining) {
        const start = next++ * size;
        const ids = userIds.slice(start, start + size);
        const outcomes = await this.deliverWithRetries(jobId, vendor, ids, change, signal, native !== undefined);
        let succeeded = 0;
        let cancelled = 0;
        const failures: BulkFailure[] = [];
        for (const id of ids) {
          const outcome = outcomes.get(id)!;
          if (outcome === "cancelled") cancelled++;
          else if (outcome.ok) succeeded++;
          else failures.push({ userId: id, vendor: vendor.id, failure: outcome.failure });
        }
        await this.record(jobId, vendor.id, { succeeded, failures, cancelled });
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, native?.concurrency ?? this.fanOutLanes), chunks) }, lane));
    // The chunks never started: nothing of theirs was sent.
    const unsent = userIds.length - Math.min(userIds.length, next * size);
    if (unsent > 0) await this.record(jobId, vendor.id, { succeeded: 0, failures: [], cancelled: unsent });
  }

  private async setStatus(job: BulkJobSnapshot, status: JobStatus): Promise<void> {
    await this.store.setStatus(job.id, status, new Date());
    this.progress({ kind: "status", jobId: job.id, status, vendors: job.spec.vendors, users: job.progress[0]?.total ?? 0 });
  }

  private async record(
    jobId: string,
    vendor: string,
    delta: { succeeded: number; failures: readonly BulkFailure[]; cancelled: number },
  ): Promise<void> {
    await this.store.record(jobId, vendor, delta);
    this.progress({
      kind: "users",
      jobId,
      vendor,
      succeeded: delta.succeeded,
      cancelled: delta.cancelled,
      failed: delta.failures.map((f) => f.failure.category),
    });
  }

  private progress(event: BulkProgressEvent): void {
    try {
      this.onProgress(event);
    } catch (error) {
      // Observing a job must never change it.
      this.onError(event.jobId, error);
    }
  }

  private async deliverWithRetries(
    jobId: string,
    vendor: Vendor,
    ids: readonly string[],
    change: BulkChange,
    signal: AbortSignal,
    native: boolean,
  ): Promise<Map<string, ChunkOutcome>> {
    const outcomes = new Map<string, ChunkOutcome>();
    let todo = ids;
    for (let attempt = 1; todo.length > 0; attempt++) {
      if (signal.aborted) {
        for (const id of todo) if (!outcomes.has(id)) outcomes.set(id, "cancelled");
        break;
      }
      const results = await this.deliver(jobId, vendor, todo, change, signal, native);
      // A user cancelled before a retry keeps the failure of the attempt it had: it was sent.
      for (const [id, outcome] of results) if (outcome !== "cancelled" || !outcomes.has(id)) outcomes.set(id, outcome);
      const again = todo.filter((id) => {
        const outcome = results.get(id)!;
        return outcome !== "cancelled" && !outcome.ok && outcome.failure.retryable && RETRIED.has(outcome.failure.category);
      });
      if (again.length === 0 || attempt >= this.retry.maxAttempts) break;
      const hinted = Math.max(
        0,
        ...again.map((id) => {
          const outcome = results.get(id) as Extract<DeliveryOutcome, { ok: false }>;
          return (outcome.failure.retryAfterSeconds ?? 0) * 1000;
        }),
      );
      const backoff = Math.min(
        this.retry.maxDelayMs,
        Math.max(hinted, this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)),
      );
      // A cancel during the wait leaves these users with their last failure: they were attempted.
      if (!(await abortableDelay(backoff, signal))) break;
      todo = again;
    }
    return outcomes;
  }

  private async deliver(
    jobId: string,
    vendor: Vendor,
    ids: readonly string[],
    change: BulkChange,
    signal: AbortSignal,
    native: boolean,
  ): Promise<Map<string, ChunkOutcome>> {
    const adapter = vendor.adapter!;
    // Background work: pacing waits as long as the vendor asks, and this engine's attempts are each
    // user's one retry budget (the vendor HttpClient does not retry these calls itself).
    const context: CallContext = { requestId: `bulk:${jobId}`, signal, background: true, scope: new RequestScope() };
    const crashed = (error: unknown): DeliveryOutcome => {
      this.onError(jobId, error);
      return { ok: false, vendor: vendor.id, failure: internalFailure(vendor, jobId) };
    };
    if (native) {
      try {
        const results = await adapter.setForMany!(ids, change, context);
        // A cancelled native call leaves out the users it did not send (see VendorAdapter.setForMany).
        const missing = (): ChunkOutcome => (signal.aborted ? "cancelled" : crashed(new Error(`no outcome for a user from ${vendor.id}`)));
        return new Map(ids.map((id) => [id, results.get(id) ?? missing()]));
      } catch (error) {
        // Only the cancel itself means nothing was sent; anything else is a crash whose outcome is unknown.
        if (isCancellation(error, signal)) return new Map(ids.map((id) => [id, "cancelled" as const]));
        const failure = crashed(error);
        return new Map(ids.map((id) => [id, failure]));
      }
    }
    const results = await mapWithConcurrency(
      ids,
      Math.floor(this.fanOutConcurrency / this.fanOutLanes),
      async (userId): Promise<ChunkOutcome> => {
        if (signal.aborted) return "cancelled";
        try {
          return await adapter.update(setCommand(userId, change), context);
        } catch (error) {
          // As on the native path: only the cancel itself (a pacer wait given up) means nothing was sent.
          return isCancellation(error, signal) ? "cancelled" : crashed(error);
        }
      },
    );
    return new Map(ids.map((id, i) => [id, results[i]!]));
  }
}

/** A bulk change for one user, as the single-user update path takes it. */
function setCommand(userId: string, change: BulkChange): UpdateCommand {
  return {
    userId,
    operations: [{ kind: "SET", attribute: change.attribute, value: change.value }],
    profile: {},
    tags: { add: [], remove: [] },
    vendorOptions: {},
  };
}

function internalFailure(vendor: Vendor, jobId: string): VendorFailure {
  return vendorFailure(
    "INTERNAL",
    vendor.id,
    `the ${vendor.displayName} integration failed unexpectedly in bulk job ${jobId}; whether the value was applied is unknown`,
    {
      retryable: false,
    },
  );
}

function finalStatus(job: BulkJobSnapshot): JobStatus {
  // Users cancelled without a cancel request were stopped by a shutdown: the job did not complete.
  if (job.cancelRequested || job.progress.some((p) => p.cancelled > 0)) return "CANCELLED";
  const failed = job.progress.reduce((n, p) => n + p.failed, 0);
  const succeeded = job.progress.reduce((n, p) => n + p.succeeded, 0);
  if (failed === 0) return "SUCCEEDED";
  return succeeded === 0 ? "FAILED" : "PARTIALLY_FAILED";
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
