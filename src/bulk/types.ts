import type { FailureCategory, VendorFailure } from "../domain/failures.js";
import type { AttributeValue } from "../domain/values.js";

export const JOB_STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "PARTIALLY_FAILED", "FAILED", "CANCELLED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Why a job was stopped: cancelAttributeBulkJob, or the shutdown of the process running it (BulkEngine.stop). */
export const CANCEL_REASONS = ["CANCEL_REQUESTED", "SHUTDOWN"] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export function isFinished(status: JobStatus): boolean {
  return status !== "QUEUED" && status !== "RUNNING";
}

export interface VendorProgress {
  readonly vendor: string;
  /** Users to deliver at this vendor: the job's users, or for a retry the ones that failed at this vendor. */
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Failed users by the category of their final failure: always exact, adding up to `failed`. */
  readonly failedByCategory: Readonly<Partial<Record<FailureCategory, number>>>;
  /**
   * Failures whose details are kept, the first ones recorded (at most the store's cap, e.g.
   * BULK_MAX_FAILURES_KEPT): `failed − failuresKept` were counted but not kept.
   */
  readonly failuresKept: number;
}

export interface BulkFailure {
  readonly userId: string;
  readonly vendor: string;
  readonly failure: VendorFailure;
}

export interface BulkJobSpec {
  readonly attribute: string;
  readonly value: AttributeValue;
  readonly vendors: readonly string[];
}

/** What a job store returns: never the user ids themselves, only counts (failures are read page by page). */
export interface BulkJobSnapshot {
  readonly id: string;
  readonly spec: BulkJobSpec;
  /** The subject of the caller who created the job; undefined when authorization was off. Never changes. */
  readonly owner?: string;
  readonly status: JobStatus;
  readonly createdAt: Date;
  readonly startedAt?: Date;
  readonly finishedAt?: Date;
  /** Ids given more than once: each user is processed and counted once. */
  readonly duplicateUserIds: number;
  /**
   * Distinct users in the job. Each vendor's `total` is this, except in a retry, where each vendor
   * has its own subset of them (the users that failed there).
   */
  readonly users: number;
  readonly progress: readonly VendorProgress[];
  /** cancelAttributeBulkJob was called while the job was unfinished. */
  readonly cancelRequested: boolean;
  /** Why the job was stopped, once it was asked to (the first reason stays); undefined otherwise. */
  readonly cancelReason?: CancelReason;
  /** The job whose failed users this one retries (retryAttributeBulkJob); undefined for a job submitted with its ids. */
  readonly retryOf?: string;
  /** The jobs started to retry this one's failed users, oldest first. */
  readonly retries: readonly string[];
}

export function pending(progress: Pick<VendorProgress, "total" | "succeeded" | "failed" | "cancelled">): number {
  return progress.total - progress.succeeded - progress.failed - progress.cancelled;
}
