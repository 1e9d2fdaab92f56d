import { randomUUID } from "node:crypto";
import type { FailureCategory } from "../domain/failures.js";
import { countBits, getBit, newBitmap, orInto, setBit, type Bitmap } from "./bitmap.js";
import type { FailedUsers, VendorFailedUsers } from "./retry.js";
import type { BulkFailure, BulkJobSnapshot, BulkJobSpec, CancelReason, JobStatus, VendorProgress } from "./types.js";
import { PackedUserIds, type UserIdList } from "./user-ids.js";

/**
 * Where jobs live. The in-memory store keeps one process's jobs; a shared store (Redis) makes
 * jobs visible to every replica. Every write is a small, atomic operation on one job's fields, so
 * a Redis implementation maps each onto a few commands in one MULTI, and none reads a job to
 * rewrite it:
 *
 * - `create`: HSET of the job's fields (owner included) and of each vendor's zeroed counters;
 * - `setStatus`: HSET status and startedAt / finishedAt (and, when finished, the user ids dropped
 *   unless a user failed: then kept, with the failure bitmaps, for a retry);
 * - `record`: HINCRBY of one vendor's succeeded / failed / cancelled and of `failed:<category>`
 *   per failure, then RPUSH of the failures onto the vendor's list and LTRIM 0 cap−1, so the list
 *   keeps the first `cap` failures and its length (LLEN) is the vendor's `failuresKept`; and a
 *   SETBIT per failure in the vendor's bitmap of its category (and of retryable failures), so a
 *   retry finds every failed user, kept or not;
 * - `failures`: LRANGE of one vendor's list (never a scan of every failure);
 * - `requestCancel`: HSETNX of the reason (the first one stays), and HSET cancelRequested for a
 *   CANCEL_REQUESTED.
 */
export interface JobStore {
  create(job: NewBulkJob): Promise<BulkJobSnapshot>;
  get(id: string): Promise<BulkJobSnapshot | undefined>;
  /** The ids to process; released (and no longer returned) once the job finishes. */
  userIds(id: string): Promise<UserIdList | undefined>;
  /**
   * A retry's users at one vendor: a bitmap over the job's user indexes; undefined for a job that
   * delivers every user at every vendor (and once the job finishes).
   */
  selection(id: string, vendor: string): Promise<Bitmap | undefined>;
  /** A finished job's failed users (see FailedUsers); undefined when it had none or keeps none. */
  failedUsers(id: string): Promise<FailedUsers | undefined>;
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
  /**
   * A retry's users per vendor (see prepareRetry): a bitmap over `userIds`' indexes for each vendor
   * of the spec, whose set bits are the vendor's `total`. Undefined: every user at every vendor.
   */
  readonly selections?: ReadonlyMap<string, Bitmap> | undefined;
  /** The job this one retries: it lists the new job in its `retries`. */
  readonly retryOf?: string | undefined;
}

/** Users of one vendor settled together (one chunk). */
export interface RecordedUsers {
  readonly succeeded: number;
  readonly failures: readonly RecordedFailure[];
  readonly cancelled: number;
}

/** A failed user, with its index in the job's user list (for the bitmaps of who failed). */
export interface RecordedFailure extends BulkFailure {
  readonly index: number;
}

export interface InMemoryJobStoreOptions {
  /** Finished jobs kept for `get`; older ones are forgotten. Default 1,000. */
  readonly retainFinishedJobs?: number;
  /** Failures whose details are kept per vendor of a job, the first ones recorded (BULK_MAX_FAILURES_KEPT). Default 1,000. */
  readonly maxFailuresKept?: number;
  /**
   * Bytes all finished jobs may hold for their failed users (ids and bitmaps, for a retry); beyond
   * it, the oldest jobs' go first (the jobs and their counts stay). Default 64 MiB.
   */
  readonly maxFailedUserBytes?: number;
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
  /** Which users failed, by category, over the job's user indexes: allocated on a category's first failure. */
  readonly failedBits: Partial<Record<FailureCategory, Bitmap>>;
  /** Which users' final failure was retryable: allocated on the first one. */
  retryableBits: Bitmap | undefined;
}

interface StoredJob {
  snapshot: Mutable<Omit<BulkJobSnapshot, "progress" | "retries">>;
  /** In the job's vendor order. */
  vendors: Map<string, StoredVendor>;
  userIds: UserIdList | undefined;
  selections: ReadonlyMap<string, Bitmap> | undefined;
  /** Once finished, with failures: the failed users only, compacted (see compactFailedUsers). */
  failedUsers: FailedUsers | undefined;
  /** What `failedUsers` holds, in bytes (see maxFailedUserBytes). */
  failedUserBytes: number;
  readonly retries: string[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, StoredJob>();
  private readonly retainFinishedJobs: number;
  private readonly maxFailuresKept: number;
  private readonly maxFailedUserBytes: number;
  /** The sum of every job's `failedUserBytes`. */
  private failedUserBytes = 0;

  constructor(options: InMemoryJobStoreOptions = {}) {
    this.retainFinishedJobs = options.retainFinishedJobs ?? 1_000;
    this.maxFailuresKept = options.maxFailuresKept ?? 1_000;
    this.maxFailedUserBytes = options.maxFailedUserBytes ?? 64 * 1024 * 1024;
  }

  create({ spec, userIds, duplicateUserIds, owner, selections, retryOf }: NewBulkJob): Promise<BulkJobSnapshot> {
    const id = randomUUID();
    const vendors = new Map(
      spec.vendors.map((vendor): [string, StoredVendor] => {
        const selection = selections?.get(vendor);
        if (selections && !selection) throw new Error(`a selection of users for ${vendor} is missing`);
        const total = selection ? countBits(selection, 0, userIds.length) : userIds.length;
        return [
          vendor,
          {
            vendor,
            total,
            succeeded: 0,
            failed: 0,
            cancelled: 0,
            failedByCategory: {},
            kept: [],
            failedBits: {},
            retryableBits: undefined,
          },
        ];
      }),
    );
    const snapshot: StoredJob["snapshot"] = {
      id,
      spec,
      owner,
      status: "QUEUED",
      createdAt: new Date(),
      duplicateUserIds,
      users: userIds.length,
      cancelRequested: false,
      ...(retryOf === undefined ? {} : { retryOf }),
    };
    const job: StoredJob = { snapshot, vendors, userIds, selections, failedUsers: undefined, failedUserBytes: 0, retries: [] };
    this.jobs.set(id, job);
    if (retryOf !== undefined) this.jobs.get(retryOf)?.retries.push(id);
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

  selection(id: string, vendor: string): Promise<Bitmap | undefined> {
    return Promise.resolve(this.jobs.get(id)?.selections?.get(vendor));
  }

  failedUsers(id: string): Promise<FailedUsers | undefined> {
    return Promise.resolve(this.jobs.get(id)?.failedUsers);
  }

  setStatus(id: string, status: JobStatus, at: Date): Promise<void> {
    const job = this.require(id);
    job.snapshot.status = status;
    if (status === "RUNNING") job.snapshot.startedAt = at;
    if (status !== "QUEUED" && status !== "RUNNING") {
      job.snapshot.finishedAt = at;
      // Memory stays flat: only counts, the kept failures and (compacted) the failed users outlive the run.
      if (job.userIds) this.keepFailedUsers(job, compactFailedUsers(job));
      job.userIds = undefined;
      job.selections = undefined;
      for (const vendor of job.vendors.values()) {
        for (const category of Object.keys(vendor.failedBits) as FailureCategory[]) delete vendor.failedBits[category];
        vendor.retryableBits = undefined;
      }
    }
    return Promise.resolve();
  }

  record(id: string, vendor: string, delta: RecordedUsers): Promise<void> {
    const job = this.require(id);
    const stored = job.vendors.get(vendor);
    if (!stored) throw new Error(`job ${id} has no vendor ${vendor}`);
    stored.succeeded += delta.succeeded;
    stored.failed += delta.failures.length;
    stored.cancelled += delta.cancelled;
    for (const { index, ...failure } of delta.failures) {
      const category = failure.failure.category;
      stored.failedByCategory[category] = (stored.failedByCategory[category] ?? 0) + 1;
      if (stored.kept.length < this.maxFailuresKept) stored.kept.push(failure);
      // Who failed, for a retry (a job already finished has compacted its users: nothing to mark).
      if (!job.userIds) continue;
      setBit((stored.failedBits[category] ??= newBitmap(job.userIds.length)), index);
      if (failure.failure.retryable) setBit((stored.retryableBits ??= newBitmap(job.userIds.length)), index);
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
      progress: [...job.vendors.values()].map(
        ({ kept, failedByCategory, failedBits: _bits, retryableBits: _retryable, ...counts }): VendorProgress => ({
          ...counts,
          failedByCategory: { ...failedByCategory },
          failuresKept: kept.length,
        }),
      ),
      retries: [...job.retries],
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
      this.failedUserBytes -= job.failedUserBytes;
      this.jobs.delete(job.snapshot.id);
    }
  }

  /** Keeps a finished job's failed users within the budget, letting the oldest jobs' go first. */
  private keepFailedUsers(job: StoredJob, failedUsers: FailedUsers | undefined): void {
    if (!failedUsers) return;
    job.failedUsers = failedUsers;
    job.failedUserBytes = sizeOf(failedUsers);
    this.failedUserBytes += job.failedUserBytes;
    for (const oldest of this.jobs.values()) {
      if (this.failedUserBytes <= this.maxFailedUserBytes) break;
      if (!oldest.failedUsers) continue;
      this.failedUserBytes -= oldest.failedUserBytes;
      oldest.failedUsers = undefined;
      oldest.failedUserBytes = 0;
    }
  }
}

function sizeOf(failed: FailedUsers): number {
  const { bytes, ends } = (failed.ids as PackedUserIds).parts();
  let size = bytes.length + ends.byteLength;
  for (const vendor of failed.vendors.values()) {
    size += vendor.retryable.length;
    for (const bits of Object.values(vendor.byCategory)) size += bits.length;
  }
  return size;
}

/**
 * A finishing job's failed users, compacted: the ids of the users that failed at some vendor
 * (packed, in the job's order) and the bitmaps re-indexed over them, so what a finished job keeps
 * grows with its failed users, not with its users. Undefined when no user failed.
 */
function compactFailedUsers(job: StoredJob): FailedUsers | undefined {
  const userIds = job.userIds;
  const failing = [...job.vendors.values()].filter((v) => Object.keys(v.failedBits).length > 0);
  if (!userIds || failing.length === 0) return undefined;
  const any = newBitmap(userIds.length);
  for (const vendor of failing) for (const bits of Object.values(vendor.failedBits)) orInto(any, bits);
  const indexes = new Uint32Array(countBits(any));
  for (let index = 0, n = 0; n < indexes.length; index++) if (getBit(any, index)) indexes[n++] = index;
  const ids = PackedUserIds.from(
    {
      *[Symbol.iterator]() {
        for (const index of indexes) yield userIds.slice(index, index + 1)[0]!;
      },
    },
    indexes.length,
  );
  const reindex = (bits: Bitmap | undefined): Bitmap => {
    const out = newBitmap(indexes.length);
    if (bits) for (let n = 0; n < indexes.length; n++) if (getBit(bits, indexes[n]!)) setBit(out, n);
    return out;
  };
  const vendors = new Map(
    failing.map((vendor): [string, VendorFailedUsers] => [
      vendor.vendor,
      {
        byCategory: Object.fromEntries(Object.entries(vendor.failedBits).map(([category, bits]) => [category, reindex(bits)])),
        retryable: reindex(vendor.retryableBits),
      },
    ]),
  );
  return { ids, vendors };
}
