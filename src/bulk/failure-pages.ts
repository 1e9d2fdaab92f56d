import type { JobStore } from "./store.js";
import type { BulkFailure, BulkJobSnapshot } from "./types.js";

/** Where a kept failure stands: its vendor, and its index in that vendor's list (0-based, in the order recorded). */
export interface FailurePosition {
  readonly vendor: string;
  readonly index: number;
}

export interface FailurePageRequest {
  /** One vendor's failures; undefined: every vendor's, each in turn in the job's vendor order. */
  readonly vendor?: string | undefined;
  /** Start after this position (a cursor); undefined: from the first. */
  readonly after?: FailurePosition | undefined;
  readonly limit: number;
}

export interface FailurePage {
  readonly items: ReadonlyArray<{ readonly position: FailurePosition; readonly failure: BulkFailure }>;
  /** Kept failures in the view (one vendor's, or every vendor's), not every failure: see VendorProgress.failuresKept. */
  readonly totalCount: number;
  readonly hasNextPage: boolean;
}

/** A position that is not in this view: another vendor's failure, or no vendor of the job. */
export class ForeignPositionError extends Error {}

/**
 * Reads one page of a job's kept failures. The all-vendors view is each vendor's list in turn, so a
 * position comes from the vendors' lengths (`failuresKept` in the snapshot) and the page needs one
 * range read per vendor it touches: nothing scans or filters the job's failures. A vendor's list
 * only grows at its end, so a position stays valid while the job runs; failures recorded later at
 * a vendor already paged past come in a new pass (or per vendor), not at the end.
 */
export async function readFailurePage(
  store: Pick<JobStore, "failures">,
  job: BulkJobSnapshot,
  request: FailurePageRequest,
): Promise<FailurePage> {
  const lists = job.progress
    .filter((p) => request.vendor === undefined || p.vendor === request.vendor)
    .map((p) => ({ vendor: p.vendor, length: p.failuresKept }));
  let list = 0;
  let index = 0;
  if (request.after) {
    const after = request.after;
    list = lists.findIndex((l) => l.vendor === after.vendor);
    if (list < 0) throw new ForeignPositionError(`no vendor ${after.vendor} in this view`);
    index = after.index + 1;
  }
  const items: Array<FailurePage["items"][number]> = [];
  const limit = Math.max(0, request.limit);
  for (; list < lists.length; list++, index = 0) {
    const { vendor, length } = lists[list]!;
    const wanted = Math.min(length - index, limit - items.length);
    if (wanted > 0) {
      const failures = await store.failures(job.id, vendor, { offset: index, limit: wanted });
      failures.forEach((failure, i) => items.push({ position: { vendor, index: index + i }, failure }));
      index += failures.length;
    }
    if (items.length >= limit) break;
  }
  // What is left after the page: the rest of the list it stopped in, and every later list.
  const left = list < lists.length ? Math.max(0, lists[list]!.length - index) + lists.slice(list + 1).reduce((n, l) => n + l.length, 0) : 0;
  return { items, totalCount: lists.reduce((n, l) => n + l.length, 0), hasNextPage: left > 0 };
}
