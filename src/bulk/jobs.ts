import type { InputProblem } from "../domain/command.js";
import type { FailurePage, FailurePageRequest } from "./failure-pages.js";
import type { BulkSubmission } from "./submission.js";
import type { RetryRequest } from "./retry.js";
import type { BulkJobSnapshot, JobStatus } from "./types.js";

export type SubmitResult =
  | { readonly kind: "accepted"; readonly job: BulkJobSnapshot }
  | { readonly kind: "invalid"; readonly problems: readonly InputProblem[] }
  | { readonly kind: "too-many"; readonly limit: number; readonly received: number };

export type RetryResult =
  | SubmitResult
  /** Only a finished job's failures can be retried. */
  | { readonly kind: "unfinished"; readonly status: JobStatus }
  /** No failed user of the job matches the request. */
  | { readonly kind: "nothing"; readonly message: string };

/**
 * Bulk jobs as the GraphQL layer sees them, whichever engine runs them: in this process
 * (BulkEngine) or on BullMQ workers sharing Redis (SharedBulkEngine).
 */
export interface BulkJobs {
  readonly maxUserIdsPerCall: number;
  submit(submission: BulkSubmission): Promise<SubmitResult>;
  /**
   * Starts a new job over the users that failed in `parent` (see prepareRetry): each resent only at
   * the vendors where it failed as requested. The new job links to `parent`, which lists it.
   */
  retryFailures(parent: BulkJobSnapshot, request: RetryRequest): Promise<RetryResult>;
  get(id: string): Promise<BulkJobSnapshot | undefined>;
  /** A page of the job's kept failures; `job` gives the vendors' list lengths. */
  failures(job: BulkJobSnapshot, request: FailurePageRequest): Promise<FailurePage>;
  /** Stops a job promptly: users not yet sent end as cancelled; requests already sent finish. */
  cancel(id: string): Promise<BulkJobSnapshot | undefined>;
  /** Stops this process's bulk work at a chunk boundary, for a shutdown (see each engine). */
  stop(options?: { graceMs?: number }): Promise<void>;
}
