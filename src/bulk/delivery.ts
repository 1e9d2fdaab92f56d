import type { UpdateCommand } from "../domain/command.js";
import { vendorFailure, type VendorFailure } from "../domain/failures.js";
import type { DeliveryOutcome } from "../domain/results.js";
import { RequestScope } from "../domain/scope.js";
import { isCancellation, type BulkChange, type CallContext, type Vendor } from "../domain/vendor.js";
import { mapWithConcurrency } from "../util/concurrency.js";
import type { BulkProgressEvent } from "./engine.js";
import type { BulkJobSnapshot, JobStatus } from "./types.js";

/**
 * One chunk of a bulk job at one vendor: the users' deliveries with retries, shared by the
 * in-process engine and shared mode's workers. Every user ends with a delivery outcome or
 * "cancelled" (never sent).
 */
export type ChunkOutcome = DeliveryOutcome | "cancelled";

export interface ChunkDelivery {
  readonly jobId: string;
  readonly vendor: Vendor;
  readonly change: BulkChange;
  /** Ends waiting (pacing, backoff) on a cancel or at the end of a shutdown's grace; never a request already sent. */
  readonly signal: AbortSignal;
  /** Through the vendor's native bulk path (`setForMany`), or one update per user. */
  readonly native: boolean;
  /** Users in flight at once on the fan-out path. */
  readonly fanOutConcurrency: number;
  /** Requests per user, retries included: each user's one retry budget (BULK_MAX_ATTEMPTS). */
  readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** An adapter that threw: the users get a typed INTERNAL failure, and the error goes here for the logs. */
  readonly onError: (jobId: string, error: unknown) => void;
}

/** Categories worth another attempt: the same request may succeed later by itself. */
const RETRIED = new Set(["RATE_LIMITED", "VENDOR_UNAVAILABLE"]);

/**
 * Delivers one chunk, retrying transient failures with bounded backoff (honouring the vendor's
 * retry hints) until the user's attempts are spent. The last attempt's failure is the outcome; a
 * user cancelled before a retry keeps the failure of the attempt it had (it was sent).
 */
export async function deliverChunk(delivery: ChunkDelivery, ids: readonly string[]): Promise<Map<string, ChunkOutcome>> {
  const { signal, retry } = delivery;
  const outcomes = new Map<string, ChunkOutcome>();
  let todo = ids;
  for (let attempt = 1; todo.length > 0; attempt++) {
    if (signal.aborted) {
      for (const id of todo) if (!outcomes.has(id)) outcomes.set(id, "cancelled");
      break;
    }
    const results = await deliverOnce(delivery, todo);
    for (const [id, outcome] of results) if (outcome !== "cancelled" || !outcomes.has(id)) outcomes.set(id, outcome);
    const again = todo.filter((id) => {
      const outcome = results.get(id)!;
      return outcome !== "cancelled" && !outcome.ok && outcome.failure.retryable && RETRIED.has(outcome.failure.category);
    });
    if (again.length === 0 || attempt >= retry.maxAttempts) break;
    const hinted = Math.max(
      0,
      ...again.map((id) => {
        const outcome = results.get(id) as Extract<DeliveryOutcome, { ok: false }>;
        return (outcome.failure.retryAfterSeconds ?? 0) * 1000;
      }),
    );
    const backoff = Math.min(retry.maxDelayMs, Math.max(hinted, retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2)));
    // A cancel during the wait leaves these users with their last failure: they were attempted.
    if (!(await abortableDelay(backoff, signal))) break;
    todo = again;
  }
  return outcomes;
}

async function deliverOnce(delivery: ChunkDelivery, ids: readonly string[]): Promise<Map<string, ChunkOutcome>> {
  const { jobId, vendor, change, signal } = delivery;
  const adapter = vendor.adapter!;
  // Background work: pacing waits as long as the vendor asks, behind live requests, and the chunk's
  // attempts are each user's one retry budget (the vendor HttpClient does not retry these calls itself).
  const context: CallContext = { requestId: `bulk:${jobId}`, signal, background: true, lowPriority: true, scope: new RequestScope() };
  const crashed = (error: unknown): DeliveryOutcome => {
    delivery.onError(jobId, error);
    return { ok: false, vendor: vendor.id, failure: internalFailure(vendor, jobId) };
  };
  if (delivery.native) {
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
  const results = await mapWithConcurrency(ids, delivery.fanOutConcurrency, async (userId): Promise<ChunkOutcome> => {
    if (signal.aborted) return "cancelled";
    try {
      return await adapter.update(setCommand(userId, change), context);
    } catch (error) {
      // As on the native path: only the cancel itself (a pacer wait given up) means nothing was sent.
      return isCancellation(error, signal) ? "cancelled" : crashed(error);
    }
  });
  return new Map(ids.map((id, i) => [id, results[i]!]));
}

/** A bulk change for one user, as the single-user update path takes it. */
export function setCommand(userId: string, change: BulkChange): UpdateCommand {
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
    { retryable: false },
  );
}

/** How a job that settled every user ended. */
export function finalStatus(job: Pick<BulkJobSnapshot, "cancelRequested" | "progress">): JobStatus {
  // Users cancelled without a cancel request were stopped by a shutdown: the job did not complete.
  if (job.cancelRequested || job.progress.some((p) => p.cancelled > 0)) return "CANCELLED";
  const failed = job.progress.reduce((n, p) => n + p.failed, 0);
  const succeeded = job.progress.reduce((n, p) => n + p.succeeded, 0);
  if (failed === 0) return "SUCCEEDED";
  return succeeded === 0 ? "FAILED" : "PARTIALLY_FAILED";
}

/** A status change as observers see it (see BulkProgressEvent). */
export function statusEvent(job: BulkJobSnapshot, status: JobStatus, shared?: true): BulkProgressEvent {
  const retry = job.progress.some((p) => p.total !== job.users);
  return {
    kind: "status",
    jobId: job.id,
    status,
    vendors: job.spec.vendors,
    users: job.users,
    ...(retry ? { totals: Object.fromEntries(job.progress.map((p) => [p.vendor, p.total])) } : {}),
    ...(shared ? { shared } : {}),
  };
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
