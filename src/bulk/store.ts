import { randomUUID } from "node:crypto";
import type { FailureCategory } from "../domain/failures.js";
import type { BulkFailure, BulkJobSnapshot, BulkJobSpec, CancelReason, JobStatus, VendorProgress } from "./types.js";
import type { UserIdList } from "./user-ids.js";

/**
 * Where jobs live. The in-memory store keeps one process's jobs; a shared store (Redis) makes
 * jobs visible to every replica. Every write is a small, atomic operation on one job's fields, so
 * a Redis implementation maps each onto a few commands in one MULTI, and none reads a job to
 * rewrite it:
 *
 * - `create`: HSET of the job's fields (owner included) and of each vendor's zeroed counters;
 * - `setStatus`: HSET status and startedAt / finishedAt (and the user ids dropped when finished);
 * - `record`: HINCRBY of one vendor's succeeded / failed / cancelled and of `failed:<category>`
 *   per failure, then RPUSH of the failures onto the vendor's list and LTRIM 0 cap−1, so the list
 *   keeps the first `cap` failures and its length (LLEN) is the vendor's `failuresKept`;
 * - `failures`: LRANGE of one vendor's list (never a scan of every failure);
 * - `requestCancel`: HSETNX of the reason (the first one stays), and HSET cancelRequested for a
 *   CANCEL_REQUESTED.
 */
export interface JobStore {
  create(job: NewBulkJob): Promise<BulkJobSnapshot>;
  get(id: string): Promise<BulkJobSnapshot | undefined>;
  /** The ids to process; released (and no longer returned) once the job finishes. */
  userIds(id: string): Promise<UserIdList | undefined>;
  setStatus(id: string, status: JobStatus, at: Date): Promise<void>;
  /**
   * Adds settled users to one vendor's counts. Every failure is counted (in `failed` and by its
   * category); its details are kept only while the vendor has fewer than the store's cap.
   */
  record(id: string, vendor: string, delta: RecordedUsers): Promise<void>;
  /** One vendor's kept failures from `offset` (0-based, in the order recorded), at most `limit`. */
  failures(id: string, vendor: string, range: { offset: number; limit: number }): Promise<BulkFailure[]>;
  /**
   * Asks the job to stop: records `reason` unless one is recorded already, and sets
   * `cancelRequested` when the reason is CANCEL_REQUESTED. False for an unknown job.
   */
  requestCancel(id: string, reason: CancelReason): Promise<boolean>;
}

export interface NewBulkJob {
  readonly spec: BulkJobSpec;
  readonly userIds: UserIdList;
  readonly duplicateUserIds: number;
  /** The creator's subject (see BulkJobSnapshot.owner). */
  readonly owner?: string | undefined;
}

/** Users of one vendor settled together (one chunk). */
export interface RecordedUsers {
  readonly succeeded: number;
  readonly failures: readonly BulkFailure[];
  readonly cancelled: number;
}

export interface InMemoryJobStoreOptions {
  /** Finished jobs kept for `get`; older ones are forgotten. Default 1,000. */
  readonly retainFinishedJobs?: number;
  /** Failures whose details are kept per vendor of a job, the first ones recorded (BULK_MAX_FAILURES_KEPT). Default 1,000. */
  readonly maxFailuresKept?: number;
}

interface StoredVendor {
  readonly vendor: string;
  readonly total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  readonly failedByCategory: Partial<Record<FailureCategory, number>>;
  /** The first failures recorded, at most the store's cap. */
  readonly kept: BulkFailure[];
}

interface StoredJob {
  snapshot: Mutable<Omit<BulkJobSnapshot, "progress">>;
  /** In the job's vendor order. */
  vendors: Map<string, StoredVendor>;
  userIds: UserIdList | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, StoredJob>();
  private readonly retainFinishedJobs: number;
  private readonly maxFailuresKept: number;

  constructor(options: InMemoryJobStoreOptions = {}) {
    this.retainFinishedJobs = options.retainFinishedJobs ?? 1_000;
    this.maxFailuresKept = options.maxFailuresKept ?? 1_000;
  }

  create({ spec, userIds, duplicateUserIds, owner }: NewBulkJob): Promise<BulkJobSnapshot> {
    const id = randomUUID();
    const vendors = new Map(
      spec.vendors.map((vendor): [string, StoredVendor] => [
        vendor,
        { vendor, total: userIds.length, succeeded: 0, failed: 0, cancelled: 0, failedByCategory: {}, kept: [] },
      ]),
    );
    const snapshot: StoredJob["snapshot"] = {
      id,
      spec,
      owner,
      status: "QUEUED",
      createdAt: new Date(),
      duplicateUserIds,
      cancelRequested: false,
    };
    const job: StoredJob = { snapshot, vendors, userIds };
    this.jobs.set(id, job);
    this.evictFinished();
    return Promise.resolve(this.view(job));
  }

  get(id: string): Promise<BulkJobSnapshot | undefined> {
    const job = this.jobs.get(id);
    return Promise.resolve(job ? this.view(job) : undefined);
  }

  userIds(id: string): Promise<UserIdList | undefined> {
    return Promise.resolve(this.jobs.get(id)?.userIds);
  }

  setStatus(id: string, status: JobStatus, at: Date): Promise<void> {
    const job = this.require(id);
    job.snapshot.status = status;
    if (status === "RUNNING") job.snapshot.startedAt = at;
    if (status !== "QUEUED" && status !== "RUNNING") {
      job.snapshot.finishedAt = at;
      job.userIds = undefined; // memory stays flat: only counts and the kept failures outlive the run
    }
    return Promise.resolve();
  }

  record(id: string, vendor: string, delta: RecordedUsers): Promise<void> {
    const stored = this.require(id).vendors.get(vendor);
    if (!stored) throw new Error(`job ${id} has no vendor ${vendor}`);
    stored.succeeded += delta.succeeded;
    stored.failed += delta.failures.length;
    stored.cancelled += delta.cancelled;
    for (const failure of delta.failures) {
      const category = failure.failure.category;
      stored.failedByCategory[category] = (stored.failedByCategory[category] ?? 0) + 1;
      if (stored.kept.length < this.maxFailuresKept) stored.kept.push(failure);
    }
    return Promise.resolve();
  }

  failures(id: string, vendor: string, range: { offset: number; limit: number }): Promise<BulkFailure[]> {
    const kept = this.require(id).vendors.get(vendor)?.kept ?? [];
    const offset = Math.max(0, range.offset);
    return Promise.resolve(kept.slice(offset, offset + Math.max(0, range.limit)));
  }

  requestCancel(id: string, reason: CancelReason): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job) return Promise.resolve(false);
    job.snapshot.cancelReason ??= reason;
    if (reason === "CANCEL_REQUESTED") job.snapshot.cancelRequested = true;
    return Promise.resolve(true);
  }

  private view(job: StoredJob): BulkJobSnapshot {
    return {
      ...job.snapshot,
      progress: [...job.vendors.values()].map(({ kept, failedByCategory, ...counts }): VendorProgress => ({
        ...counts,
        failedByCategory: { ...failedByCategory },
        failuresKept: kept.length,
      })),
    };
  }

  private require(id: string): StoredJob {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`unknown bulk job ${id}`);
    return job;
  }

  /** Keeps the newest finished jobs only, so a long-running process does not grow without bound. */
  private evictFinished(): void {
    const finished = [...this.jobs.values()].filter((j) => j.snapshot.finishedAt);
    for (const job of finished.slice(0, Math.max(0, finished.length - this.retainFinishedJobs))) {
      this.jobs.delete(job.snapshot.id);
    }
  }
}
