import { randomUUID } from "node:crypto";
import type { BulkFailure, BulkJobSnapshot, BulkJobSpec, JobStatus, VendorProgress } from "./types.js";
import type { UserIdList } from "./user-ids.js";

/**
 * Where jobs live. The in-memory store keeps one process's jobs; a shared store (Redis) makes
 * jobs visible to every replica. Every write is a small, atomic-friendly operation (a status, a
 * counter increment, an append), so a Redis implementation maps onto HSET/HINCRBY/RPUSH.
 */
export interface JobStore {
  create(job: NewBulkJob): Promise<BulkJobSnapshot>;
  get(id: string): Promise<BulkJobSnapshot | undefined>;
  /** The ids to process; released (and no longer returned) once the job finishes. */
  userIds(id: string): Promise<UserIdList | undefined>;
  setStatus(id: string, status: JobStatus, at: Date): Promise<void>;
  record(id: string, vendor: string, delta: { succeeded: number; failures: readonly BulkFailure[]; cancelled: number }): Promise<void>;
  failures(id: string, page: { vendor?: string; offset: number; limit: number }): Promise<{ items: BulkFailure[]; total: number }>;
  requestCancel(id: string): Promise<boolean>;
}

export interface NewBulkJob {
  readonly spec: BulkJobSpec;
  readonly userIds: UserIdList;
  readonly duplicateUserIds: number;
  /** The creator's subject (see BulkJobSnapshot.owner). */
  readonly owner?: string | undefined;
}

interface StoredJob {
  snapshot: Mutable<BulkJobSnapshot>;
  progress: Map<string, Mutable<VendorProgress>>;
  failures: BulkFailure[];
  userIds: UserIdList | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class InMemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, StoredJob>();

  constructor(private readonly retainFinishedJobs = 1_000) {}

  create({ spec, userIds, duplicateUserIds, owner }: NewBulkJob): Promise<BulkJobSnapshot> {
    const id = randomUUID();
    const progress = new Map(
      spec.vendors.map((vendor) => [vendor, { vendor, total: userIds.length, succeeded: 0, failed: 0, cancelled: 0 }]),
    );
    const snapshot: Mutable<BulkJobSnapshot> = {
      id,
      spec,
      owner,
      status: "QUEUED",
      createdAt: new Date(),
      duplicateUserIds,
      progress: [],
      cancelRequested: false,
    };
    this.jobs.set(id, { snapshot, progress, failures: [], userIds });
    this.evictFinished();
    return Promise.resolve(this.view(this.jobs.get(id)!));
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
      job.userIds = undefined; // memory stays flat: only counts and failures outlive the run
    }
    return Promise.resolve();
  }

  record(id: string, vendor: string, delta: { succeeded: number; failures: readonly BulkFailure[]; cancelled: number }): Promise<void> {
    const job = this.require(id);
    const progress = job.progress.get(vendor);
    if (!progress) throw new Error(`job ${id} has no vendor ${vendor}`);
    progress.succeeded += delta.succeeded;
    progress.failed += delta.failures.length;
    progress.cancelled += delta.cancelled;
    for (const failure of delta.failures) job.failures.push(failure);
    return Promise.resolve();
  }

  failures(id: string, page: { vendor?: string; offset: number; limit: number }): Promise<{ items: BulkFailure[]; total: number }> {
    const job = this.require(id);
    const matching = page.vendor ? job.failures.filter((f) => f.vendor === page.vendor) : job.failures;
    return Promise.resolve({ items: matching.slice(page.offset, page.offset + page.limit), total: matching.length });
  }

  requestCancel(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job) return Promise.resolve(false);
    job.snapshot.cancelRequested = true;
    return Promise.resolve(true);
  }

  private view(job: StoredJob): BulkJobSnapshot {
    return { ...job.snapshot, progress: [...job.progress.values()].map((p) => ({ ...p })) };
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
