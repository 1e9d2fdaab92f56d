import { setMaxListeners } from "node:events";
import { Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { DEFAULT_INPUT_LIMITS, type InputLimits } from "../domain/command.js";
import { vendorFailure, type VendorFailure } from "../domain/failures.js";
import { repeatSafeAt, type BulkChange, type Vendor } from "../domain/vendor.js";
import { countBits, type Bitmap } from "./bitmap.js";
import type { BulkProgressEvent } from "./engine.js";
import { deliverChunk, setCommand, statusEvent } from "./delivery.js";
import { readFailurePage, type FailurePage, type FailurePageRequest } from "./failure-pages.js";
import type { BulkJobs, RetryResult, SubmitResult } from "./jobs.js";
import type { RedisJobStore, SettledUser } from "./redis-store.js";
import { prepareRetry, type RetryRequest } from "./retry.js";
import type { NewBulkJob } from "./store.js";
import { DEFAULT_FAN_OUT_CHUNK_SIZE, prepareSubmission, type BulkSubmission } from "./submission.js";
import type { BulkJobSnapshot, JobStatus } from "./types.js";
import { isFinished } from "./types.js";

/** One chunk of one vendor's users: the unit of work BullMQ hands to a worker. */
export interface ChunkUnit {
  readonly jobId: string;
  readonly vendor: string;
  readonly chunk: number;
  readonly start: number;
  readonly end: number;
  /** A retry: deliver only the vendor's selected users of the range (the job's `sel:<vendor>` bitmap). */
  readonly selected?: true;
}

export interface SharedBulkEngineOptions {
  readonly store: RedisJobStore;
  /** For publishing cancels. */
  readonly commands: Redis;
  /** A connection of its own for the cancel channel (a subscribed connection takes no commands). */
  readonly subscriber: Redis;
  /** BullMQ's connection (maxRetriesPerRequest: null); its workers duplicate it for blocking reads. */
  readonly bullmq: Redis;
  readonly keyPrefix: string;
  readonly vendors: readonly Vendor[];
  readonly maxUserIds?: number;
  readonly fanOutConcurrency?: number;
  readonly fanOutChunkSize?: number;
  readonly retry?: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly limits?: InputLimits;
  /** Run a BullMQ worker in this process (BULK_WORKER); false: submit, follow and cancel only. */
  readonly worker?: false | { readonly concurrency: number; readonly lockDurationMs?: number; readonly stalledIntervalMs?: number };
  readonly onError?: (jobId: string, error: unknown) => void;
  readonly onProgress?: (event: BulkProgressEvent) => void;
  /**
   * How long a submit waits for its chunks to be queued before it answers anyway (default 5 s):
   * BullMQ's connection waits for Redis however long it is away, and the job is already stored.
   */
  readonly enqueueWaitMs?: number;
  /** A job still listed as unqueued this long after its creation is queued by a worker's sweep (default 60 s). */
  readonly unqueuedAfterMs?: number;
  /** How often a worker looks for such jobs (default 15 s). */
  readonly sweepIntervalMs?: number;
  /**
   * How often a worker with chunks in flight reads their jobs' cancel flags (default 500 ms): the
   * net under the cancel message, which pub/sub drops for a subscriber not (yet, or not again)
   * subscribed, a worker just started or reconnecting.
   */
  readonly cancelCheckMs?: number;
}

const QUEUE = "bulk-chunks";
/** Why a chunk's waits were given up: the job was cancelled (its unsent users count as cancelled), or this worker stops (they go back to the queue). */
const CANCELLED = new Error("bulk job cancelled");
const STOPPING = new Error("worker stopping");

/**
 * Shared mode's bulk jobs: stored in Redis (RedisJobStore) and cut into chunk units on a BullMQ
 * queue that every worker process takes from, so any replica submits, follows and cancels any job,
 * adding workers adds throughput up to the vendors' shared rate budgets, and a job survives the
 * restart of every process.
 *
 * - Every user is counted once: a worker records its chunk's outcomes through a per-job bitmap,
 *   so a chunk BullMQ runs again after its worker died (stalled-job recovery) counts only the users
 *   it had not settled.
 * - A chunk run again after a death may have sent some of those users already. They are sent again
 *   only where a repeat is safe (a bulk SET is, except at a vendor whose configuration makes it
 *   accumulate); elsewhere they end as AttributesDeliveryOutcomeUnknownError, never sent twice.
 * - A cancel is recorded in Redis, settles every chunk no worker holds at once, and reaches the
 *   chunks in flight on every worker through a pub/sub channel within milliseconds, or, where the
 *   message was lost, at the worker's next read of the flags (every 500 ms while it has chunks).
 * - A worker stopping for a shutdown finishes its chunks in flight within the grace, then gives
 *   back what it did not send: the chunk returns to the queue for another worker.
 * - A job is stored before its chunks are queued. If its submitter dies or Redis goes away in
 *   between, the job stays listed as unqueued, and a worker's sweep queues it (unit ids are
 *   deterministic, so a chunk queued twice runs once more at most, and counts nobody twice).
 */
export class SharedBulkEngine implements BulkJobs {
  private readonly store: RedisJobStore;
  private readonly queue: Queue<ChunkUnit>;
  private readonly worker: Worker<ChunkUnit> | undefined;
  private readonly vendors: readonly Vendor[];
  private readonly maxUserIds: number;
  private readonly fanOutConcurrency: number;
  private readonly fanOutChunkSize: number;
  private readonly retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  private readonly limits: InputLimits;
  private readonly onError: (jobId: string, error: unknown) => void;
  private readonly onProgress: (event: BulkProgressEvent) => void;
  private readonly cancelChannel: string;
  /** Chunks in flight in this process, by bulk job id. */
  private readonly running = new Map<string, Set<AbortController>>();
  private readonly enqueueWaitMs: number;
  private readonly unqueuedAfterMs: number;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private readonly cancelChecker: NodeJS.Timeout | undefined;
  private checkingCancels = false;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: SharedBulkEngineOptions) {
    this.store = options.store;
    this.vendors = options.vendors;
    this.maxUserIds = options.maxUserIds ?? 100_000;
    this.fanOutConcurrency = options.fanOutConcurrency ?? 32;
    this.fanOutChunkSize = options.fanOutChunkSize ?? DEFAULT_FAN_OUT_CHUNK_SIZE;
    this.retry = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 10_000, ...options.retry };
    this.limits = options.limits ?? DEFAULT_INPUT_LIMITS;
    this.onError = options.onError ?? (() => undefined);
    this.onProgress = options.onProgress ?? (() => undefined);
    this.enqueueWaitMs = options.enqueueWaitMs ?? 5_000;
    this.unqueuedAfterMs = options.unqueuedAfterMs ?? 60_000;
    const prefix = `${options.keyPrefix}:bullmq`;
    this.cancelChannel = `${options.keyPrefix}:bulk:cancel`;
    this.queue = new Queue<ChunkUnit>(QUEUE, {
      connection: options.bullmq,
      prefix,
      defaultJobOptions: {
        // A unit that throws (Redis unreachable for a moment) is tried again; its users are counted once whatever happens.
        attempts: 1_000,
        backoff: { type: "fixed", delay: 2_000 },
        removeOnComplete: true,
        removeOnFail: 1_000,
      },
    });
    this.queue.on("error", (error) => this.onError("queue", error));
    if (options.worker) {
      this.worker = new Worker<ChunkUnit>(QUEUE, (unit) => this.runChunk(unit), {
        connection: options.bullmq,
        prefix,
        concurrency: options.worker.concurrency,
        lockDuration: options.worker.lockDurationMs ?? 30_000,
        stalledInterval: options.worker.stalledIntervalMs ?? 30_000,
        // A chunk's users are counted once however often it runs again: let BullMQ recover it every time.
        maxStalledCount: 1_000,
      });
      this.worker.on("error", (error) => this.onError("worker", error));
      this.sweeper = setInterval(() => {
        this.queueUnqueued().catch((error: unknown) => this.onError("sweep", error));
      }, options.sweepIntervalMs ?? 15_000);
      this.sweeper.unref();
      this.cancelChecker = setInterval(() => void this.checkCancels(), options.cancelCheckMs ?? 500);
      this.cancelChecker.unref();
    }
    void options.subscriber.subscribe(this.cancelChannel).catch((error: unknown) => this.onError("subscriber", error));
    options.subscriber.on("message", (channel: string, jobId: string) => {
      if (channel === this.cancelChannel) this.abortLocal(jobId, CANCELLED);
    });
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
    const failed = await this.store.failedUsers(parent);
    const prepared = prepareRetry(parent, request, failed, { vendors: this.vendors, limits: this.limits, maxUserIds: this.maxUserIds });
    if (prepared.kind !== "ready") return prepared;
    return this.start({ ...prepared.job, owner: request.owner });
  }

  private async start(newJob: NewBulkJob): Promise<Extract<SubmitResult, { kind: "accepted" }>> {
    const sizes = Object.fromEntries(newJob.spec.vendors.map((id) => [id, this.chunkSize(this.vendor(id))]));
    const job = await this.store.create(newJob, sizes);
    const units = chunkUnits(job.id, job.spec.vendors, newJob.userIds.length, sizes, (vendor) => newJob.selections?.get(vendor));
    // From here the job is stored and will run: a failure to queue it now is the sweep's to mend,
    // so the caller gets its job, never an error that would invite a second submission.
    const enqueued = this.enqueue(job.id, units).then(
      () => true,
      (error: unknown) => {
        this.onError(job.id, error);
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([enqueued, new Promise((resolve) => (timer = setTimeout(resolve, this.enqueueWaitMs)))]);
    clearTimeout(timer);
    this.progress(statusEvent(job, job.status, true));
    return { kind: "accepted", job };
  }

  private async enqueue(jobId: string, units: readonly ChunkUnit[]): Promise<void> {
    for (let i = 0; i < units.length; i += 1_000) {
      await this.queue.addBulk(units.slice(i, i + 1_000).map((unit) => ({ name: "chunk", data: unit, opts: { jobId: unitId(unit) } })));
    }
    await this.store.markQueued(jobId);
  }

  /** Aborts this worker's chunks of jobs cancelled since (see `cancelCheckMs`); nothing to read while it has none. */
  private async checkCancels(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0 || this.checkingCancels) return;
    this.checkingCancels = true;
    try {
      const cancelled = await this.store.cancelled(ids);
      ids.forEach((id, i) => {
        if (cancelled[i]) this.abortLocal(id, CANCELLED);
      });
    } catch (error) {
      this.onError("cancel check", error);
    } finally {
      this.checkingCancels = false;
    }
  }

  /** Queues the jobs their submitters stored but did not finish queueing (see `unqueuedAfterMs`). */
  private async queueUnqueued(): Promise<void> {
    for (const id of await this.store.unqueued(Date.now() - this.unqueuedAfterMs, 20)) {
      const [job, plan] = await Promise.all([this.store.get(id), this.store.chunkPlan(id)]);
      if (!job || !plan || isFinished(job.status)) {
        await this.store.markQueued(id);
        continue;
      }
      // A retry's selections stay in Redis: every range gets a unit, and one without selected users runs empty.
      await this.enqueue(
        id,
        chunkUnits(id, job.spec.vendors, job.users, plan.chunkSizes, () => undefined, plan.selected),
      );
    }
  }

  get(id: string): Promise<BulkJobSnapshot | undefined> {
    return this.store.get(id);
  }

  failures(job: BulkJobSnapshot, request: FailurePageRequest): Promise<FailurePage> {
    return readFailurePage(this.store, job, request);
  }

  async cancel(id: string): Promise<BulkJobSnapshot | undefined> {
    const job = await this.store.get(id);
    if (!job) return undefined;
    if (isFinished(job.status)) return job;
    const result = await this.store.requestCancel(id, "CANCEL_REQUESTED");
    if (result.finished) this.finished(job, result.finished);
    // Every worker's chunks of this job in flight give up their waits.
    this.abortLocal(id, CANCELLED);
    await this.options.commands.publish(this.cancelChannel, id);
    return this.store.get(id);
  }

  /**
   * Stops this process's worker for a shutdown: it takes no new chunk, lets its chunks in flight
   * finish for `graceMs`, then gives up their waits; what they did not send goes back to the queue
   * for another worker (the job goes on: a shared job is not this process's to cancel).
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopped ??= (async () => {
      const graceMs = options.graceMs ?? 0;
      clearInterval(this.sweeper);
      clearInterval(this.cancelChecker);
      const timer = setTimeout(() => this.abortAll(STOPPING), Math.max(0, graceMs));
      try {
        await this.worker?.close();
      } finally {
        clearTimeout(timer);
      }
      await this.queue.close();
      await this.options.subscriber.unsubscribe().catch(() => undefined);
    })();
    return this.stopped;
  }

  /** BullMQ's processor: one chunk of one vendor's users. */
  private async runChunk(job: Job<ChunkUnit>): Promise<void> {
    const unit = job.data;
    const vendor = this.vendors.find((v) => v.id === unit.vendor);
    const claim = await this.store.claim(unit.jobId, unit.vendor, unit.chunk);
    if (claim.kind === "skip") return;
    const ids = await this.store.userIdRange(unit.jobId, unit.start, unit.end);
    const settled = await this.store.settled(unit.jobId, unit.vendor, unit.start, ids.length);
    const selected = unit.selected ? await this.store.selected(unit.jobId, unit.vendor, unit.start, ids.length) : undefined;
    const todo = ids.map((id, i) => ({ id, index: unit.start + i })).filter((_, i) => !settled[i] && (!selected || selected[i]));
    if (todo.length === 0) return;
    const snapshot = await this.store.get(unit.jobId);
    if (!snapshot) return;
    const change: BulkChange = { attribute: snapshot.spec.attribute, value: snapshot.spec.value };

    if (!vendor?.adapter) {
      const failure = vendorFailure(
        "VENDOR_NOT_CONFIGURED",
        unit.vendor,
        `${vendor?.displayName ?? unit.vendor} is not configured on the worker that ran this chunk`,
      );
      return this.settle(
        snapshot,
        unit,
        todo.map((user) => failedUser(user, unit.vendor, failure)),
      );
    }
    // A chunk a dead worker left: its unsettled users may have been sent. Send them again only where that is safe.
    if (claim.rerun && (claim.cancelRequested || !repeatSafeAt(vendor.adapter, setCommand(todo[0]!.id, change)))) {
      const failure = outcomeUnknown(vendor);
      return this.settle(
        snapshot,
        unit,
        todo.map((user) => failedUser(user, unit.vendor, failure)),
      );
    }
    if (claim.cancelRequested) {
      return this.settle(
        snapshot,
        unit,
        todo.map(({ index }) => ({ index, kind: "cancelled" })),
      );
    }

    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const inFlight = this.running.get(unit.jobId) ?? new Set<AbortController>();
    inFlight.add(controller);
    this.running.set(unit.jobId, inFlight);
    try {
      const native = vendor.capabilities.bulk !== undefined && vendor.adapter.setForMany !== undefined;
      const outcomes = await deliverChunk(
        {
          jobId: unit.jobId,
          vendor,
          change,
          signal: controller.signal,
          native,
          fanOutConcurrency: this.fanOutConcurrency,
          retry: this.retry,
          onError: this.onError,
        },
        todo.map((user) => user.id),
      );
      const stopping = controller.signal.reason === STOPPING;
      const users: SettledUser[] = [];
      for (const user of todo) {
        const outcome = outcomes.get(user.id)!;
        if (outcome === "cancelled") {
          // Never sent. A cancel counts it as cancelled; a stopping worker leaves it for the next one.
          if (!stopping) users.push({ index: user.index, kind: "cancelled" });
        } else if (outcome.ok) users.push({ index: user.index, kind: "succeeded" });
        else users.push(failedUser(user, unit.vendor, outcome.failure));
      }
      await this.settle(snapshot, unit, users);
      if (stopping && users.length < todo.length) {
        await this.store.release(unit.jobId, unit.vendor, unit.chunk);
        await this.queue.add("chunk", unit, { jobId: `${unitId(unit)}.r${Date.now()}` });
      }
    } finally {
      inFlight.delete(controller);
      if (inFlight.size === 0) this.running.delete(unit.jobId);
    }
  }

  private async settle(snapshot: BulkJobSnapshot, unit: ChunkUnit, users: readonly SettledUser[]): Promise<void> {
    if (users.length === 0) return;
    const result = await this.store.record(unit.jobId, unit.vendor, users);
    this.progress({
      kind: "users",
      jobId: unit.jobId,
      vendor: unit.vendor,
      succeeded: users.filter((u) => u.kind === "succeeded").length,
      cancelled: users.filter((u) => u.kind === "cancelled").length,
      failed: users.flatMap((u) => (u.kind === "failed" ? [u.failure.failure.category] : [])),
    });
    if (result.finished) this.finished(snapshot, result.finished);
  }

  private finished(job: BulkJobSnapshot, status: JobStatus): void {
    this.progress(statusEvent(job, status, true));
  }

  private abortLocal(jobId: string, reason: Error): void {
    for (const controller of this.running.get(jobId) ?? []) controller.abort(reason);
  }

  private abortAll(reason: Error): void {
    for (const controllers of this.running.values()) for (const controller of controllers) controller.abort(reason);
  }

  private vendor(id: string): Vendor {
    const vendor = this.vendors.find((v) => v.id === id);
    if (!vendor) throw new Error(`unknown vendor ${id}`);
    return vendor;
  }

  private chunkSize(vendor: Vendor): number {
    return vendor.capabilities.bulk && vendor.adapter?.setForMany ? vendor.capabilities.bulk.chunkSize : this.fanOutChunkSize;
  }

  private progress(event: BulkProgressEvent): void {
    try {
      this.onProgress(event);
    } catch (error) {
      this.onError(event.jobId, error);
    }
  }
}

/** BullMQ job ids may not contain ":". */
/**
 * A job's chunk units, chunk by chunk with every vendor in turn, so the vendors progress side by
 * side, each at its own rate. With a vendor's selection at hand, a range without selected users
 * gets no unit; `allSelected` marks every unit as a retry's without one (each reads the selection).
 */
function chunkUnits(
  jobId: string,
  vendors: readonly string[],
  total: number,
  sizes: Readonly<Record<string, number>>,
  selectionOf: (vendor: string) => Bitmap | undefined,
  allSelected = false,
): ChunkUnit[] {
  const units: ChunkUnit[] = [];
  const longest = Math.max(...vendors.map((vendor) => Math.ceil(total / sizes[vendor]!)));
  for (let chunk = 0; chunk < longest; chunk++) {
    for (const vendor of vendors) {
      const size = sizes[vendor]!;
      const selection = selectionOf(vendor);
      const start = chunk * size;
      const end = Math.min(total, (chunk + 1) * size);
      if (start >= total || (selection && countBits(selection, start, end) === 0)) continue;
      units.push({ jobId, vendor, chunk, start, end, ...(selection || allSelected ? { selected: true as const } : {}) });
    }
  }
  return units;
}

function unitId(unit: ChunkUnit): string {
  return `${unit.jobId}.${unit.vendor}.${unit.chunk}`;
}

function failedUser(user: { readonly id: string; readonly index: number }, vendor: string, failure: VendorFailure): SettledUser {
  return { index: user.index, kind: "failed", failure: { userId: user.id, vendor, failure } };
}

function outcomeUnknown(vendor: Vendor): VendorFailure {
  return vendorFailure(
    "OUTCOME_UNKNOWN",
    vendor.id,
    `the worker sending this user's value to ${vendor.displayName} stopped while the request may have been in flight; whether it was applied is unknown, and sending it again is not safe here, so it was not resent`,
    { retryable: false },
  );
}
