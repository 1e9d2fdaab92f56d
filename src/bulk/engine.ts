import { setMaxListeners } from "node:events";
import { DEFAULT_INPUT_LIMITS, type InputLimits } from "../domain/command.js";
import type { FailureCategory } from "../domain/failures.js";
import type { BulkChange, Vendor } from "../domain/vendor.js";
import { countBits, getBit, type Bitmap } from "./bitmap.js";
import { deliverChunk, finalStatus, statusEvent } from "./delivery.js";
import type { BulkJobs, RetryResult, SubmitResult } from "./jobs.js";
import { prepareRetry, type RetryRequest } from "./retry.js";
import { DEFAULT_FAN_OUT_CHUNK_SIZE, prepareSubmission, type BulkSubmission } from "./submission.js";

export type { BulkSubmission } from "./submission.js";
export type { SubmitResult } from "./jobs.js";
import { readFailurePage, type FailurePage, type FailurePageRequest } from "./failure-pages.js";
import type { WorkQueue } from "./queue.js";
import type { JobStore, NewBulkJob, RecordedFailure } from "./store.js";
import type { BulkJobSnapshot, CancelReason, JobStatus } from "./types.js";
import type { UserIdList } from "./user-ids.js";
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
      /** Distinct users in the job (BulkJobSnapshot.users). */
      readonly users: number;
      /** Users to deliver per vendor (its `total`), when not every vendor has every user (a retry). */
      readonly totals?: Readonly<Record<string, number>>;
      /**
       * The job runs across processes (shared mode): counted here, but not tracked as this
       * process's unfinished job, since another process may finish it.
       */
      readonly shared?: boolean;
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

/**
 * Runs bulk jobs: one attribute value for many users, per vendor through its native bulk path or
 * a fan-out paced by the vendor's shared pacer. Every user ends exactly once as succeeded,
 * failed (with its typed failure) or cancelled. A bulk write sets a value, so transient failures
 * are retried with bounded backoff; the last attempt's failure is what the report shows.
 */
export class BulkEngine implements BulkJobs {
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
    this.fanOutChunkSize = options.fanOutChunkSize ?? DEFAULT_FAN_OUT_CHUNK_SIZE;
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
    const prepared = prepareSubmission(submission, { vendors: this.vendors, limits: this.limits, maxUserIds: this.maxUserIds });
    if (prepared.kind !== "ready") return prepared;
    return this.start({ ...prepared.job, owner: submission.owner });
  }

  /** A new job over `parent`'s failed users (see BulkJobs.retryFailures and prepareRetry). */
  async retryFailures(parent: BulkJobSnapshot, request: RetryRequest): Promise<RetryResult> {
    if (!isFinished(parent.status)) return { kind: "unfinished", status: parent.status };
    const failed = await this.store.failedUsers(parent.id);
    const prepared = prepareRetry(parent, request, failed, { vendors: this.vendors, limits: this.limits, maxUserIds: this.maxUserIds });
    if (prepared.kind !== "ready") return prepared;
    return this.start({ ...prepared.job, owner: request.owner });
  }

  private async start(newJob: NewBulkJob): Promise<Extract<SubmitResult, { kind: "accepted" }>> {
    const job = await this.store.create(newJob);
    this.progress(statusEvent(job, job.status));
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
    const selections = new Map<string, Bitmap | undefined>();
    for (const vendor of job.spec.vendors) selections.set(vendor, await this.store.selection(jobId, vendor));
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
          return this.runVendor(jobId, vendor, userIds, selections.get(vendorId), change, controller.signal);
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

  /**
   * One vendor's users, chunk by chunk over the job's user indexes. With a `selection` (a retry),
   * only the selected users of each chunk are delivered and counted; a chunk with none is skipped.
   */
  private async runVendor(
    jobId: string,
    vendor: Vendor,
    userIds: UserIdList,
    selection: Bitmap | undefined,
    change: BulkChange,
    signal: AbortSignal,
  ): Promise<void> {
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
        let ids = userIds.slice(start, start + size);
        let indexes: number[] | undefined;
        if (selection) {
          indexes = [];
          const selected: string[] = [];
          ids.forEach((id, i) => {
            if (getBit(selection, start + i)) {
              selected.push(id);
              indexes!.push(start + i);
            }
          });
          ids = selected;
          if (ids.length === 0) continue;
        }
        const outcomes = await deliverChunk(
          {
            jobId,
            vendor,
            change,
            signal,
            native: native !== undefined,
            fanOutConcurrency: Math.floor(this.fanOutConcurrency / this.fanOutLanes),
            retry: this.retry,
            onError: this.onError,
          },
          ids,
        );
        let succeeded = 0;
        let cancelled = 0;
        const failures: RecordedFailure[] = [];
        ids.forEach((id, i) => {
          const outcome = outcomes.get(id)!;
          if (outcome === "cancelled") cancelled++;
          else if (outcome.ok) succeeded++;
          else failures.push({ userId: id, vendor: vendor.id, failure: outcome.failure, index: indexes ? indexes[i]! : start + i });
        });
        await this.record(jobId, vendor.id, { succeeded, failures, cancelled });
      }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, native?.concurrency ?? this.fanOutLanes), chunks) }, lane));
    // The chunks never started: nothing of theirs was sent.
    const from = Math.min(userIds.length, next * size);
    const unsent = selection ? countBits(selection, from, userIds.length) : userIds.length - from;
    if (unsent > 0) await this.record(jobId, vendor.id, { succeeded: 0, failures: [], cancelled: unsent });
  }

  private async setStatus(job: BulkJobSnapshot, status: JobStatus): Promise<void> {
    await this.store.setStatus(job.id, status, new Date());
    this.progress(statusEvent(job, status));
  }

  private async record(
    jobId: string,
    vendor: string,
    delta: { succeeded: number; failures: readonly RecordedFailure[]; cancelled: number },
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
}
