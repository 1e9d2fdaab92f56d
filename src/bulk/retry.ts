import type { InputLimits, InputProblem } from "../domain/command.js";
import { FAILURE_CATEGORIES, type FailureCategory } from "../domain/failures.js";
import type { Vendor } from "../domain/vendor.js";
import { countBits, getBit, newBitmap, orInto, setBit, type Bitmap } from "./bitmap.js";
import type { NewBulkJob } from "./store.js";
import { prepareSubmission } from "./submission.js";
import type { BulkJobSnapshot } from "./types.js";
import type { UserIdList } from "./user-ids.js";

/** retryAttributeBulkJob's choice of users: which failures, at which vendors. */
export interface RetryRequest {
  /** Resend at these vendors of the job; default: every vendor of the job with matching failures. */
  readonly vendors?: readonly string[] | null;
  /**
   * The failures to resend, by the category (error code) of the user's final failure, retryable or
   * not; default: the failures whose final error was retryable.
   */
  readonly codes?: readonly string[] | null;
  /** Who starts the retry: the new job's owner (BulkJobSnapshot.owner). */
  readonly owner?: string | undefined;
}

/** Which users failed at one vendor of a finished job, as bitmaps over `FailedUsers.ids`. */
export interface VendorFailedUsers {
  /** By the category of the user's final failure; a category without failures may be absent. */
  readonly byCategory: Readonly<Partial<Record<FailureCategory, Bitmap>>>;
  /** The users whose final failure was retryable. */
  readonly retryable: Bitmap;
}

/**
 * What a finished job keeps of its failed users, for a retry: every one of them, not only the
 * failures whose details are kept. A store may keep the job's whole id list (shared mode) or only
 * the ids of the users that failed somewhere (in process); the bitmaps index `ids` either way.
 */
export interface FailedUsers {
  readonly ids: UserIdList;
  /** The vendors with failures; a vendor without is absent. */
  readonly vendors: ReadonlyMap<string, VendorFailedUsers>;
}

/** A retry ready to be created (a new job, through the same checks as a submitted one), or why not. */
export type RetryCheck =
  | { readonly kind: "ready"; readonly job: Omit<NewBulkJob, "owner"> }
  | { readonly kind: "invalid"; readonly problems: readonly InputProblem[] }
  | { readonly kind: "too-many"; readonly limit: number; readonly received: number }
  /** No failed user of the job matches the request. */
  | { readonly kind: "nothing"; readonly message: string };

/**
 * Chooses a retry's users from a finished job's failed users and checks the new job as a submitted
 * one is checked (prepareSubmission: the vendors configured, the value accepted by each). The new
 * job's users are the union of the users chosen at each vendor, in the parent's order; each vendor
 * gets a selection of them (a bitmap over the new job's user indexes), so a user that failed at one
 * vendor only is resent there only.
 */
export function prepareRetry(
  parent: BulkJobSnapshot,
  request: RetryRequest,
  failed: FailedUsers | undefined,
  settings: { readonly vendors: readonly Vendor[]; readonly limits: InputLimits; readonly maxUserIds: number },
): RetryCheck {
  const name = (id: string) => settings.vendors.find((v) => v.id === id)?.displayName ?? id;
  const problems: InputProblem[] = [];
  if (request.vendors?.length === 0) problems.push({ path: ["input", "vendors"], message: "name at least one vendor, or omit the field" });
  request.vendors?.forEach((vendor, index) => {
    if (!parent.spec.vendors.includes(vendor))
      problems.push({
        path: ["input", "vendors", String(index)],
        message: `${name(vendor)} is not a vendor of bulk job ${parent.id} (its vendors: ${parent.spec.vendors.map(name).join(", ")})`,
      });
  });
  if (request.codes?.length === 0) problems.push({ path: ["input", "codes"], message: "name at least one error code, or omit the field" });
  request.codes?.forEach((code, index) => {
    if (!(FAILURE_CATEGORIES as readonly string[]).includes(code))
      problems.push({
        path: ["input", "codes", String(index)],
        message: `${code} is not the code of a vendor failure: give the codes of AttributesVendorError types (${FAILURE_CATEGORIES.join(", ")})`,
      });
  });
  if (problems.length > 0) return { kind: "invalid", problems };

  const codes = request.codes ? [...new Set(request.codes as readonly FailureCategory[])] : undefined;
  const vendors = request.vendors ? parent.spec.vendors.filter((v) => request.vendors!.includes(v)) : parent.spec.vendors;
  const what = `${codes ? `whose final error was ${codes.join(" or ")}` : "whose final failure was retryable"} at ${vendors.map(name).join(", ")}`;
  if (!failed) {
    const anyFailed = parent.progress.some((p) => vendors.includes(p.vendor) && p.failed > 0);
    return {
      kind: "nothing",
      message: anyFailed
        ? `the failed users of bulk job ${parent.id} are no longer kept; nothing to retry`
        : `bulk job ${parent.id} has no failed users at ${vendors.map(name).join(", ")}; nothing to retry`,
    };
  }

  // Each vendor's chosen users over the parent's indexes, and their union.
  const length = failed.ids.length;
  const union = newBitmap(length);
  const chosen = new Map<string, Bitmap>();
  for (const vendor of vendors) {
    const users = failed.vendors.get(vendor);
    if (!users) continue;
    const bits = newBitmap(length);
    if (codes) for (const code of codes) orInto(bits, users.byCategory[code] ?? EMPTY);
    else orInto(bits, users.retryable);
    if (countBits(bits) === 0) continue;
    chosen.set(vendor, bits);
    orInto(union, bits);
  }
  const count = countBits(union);
  if (count === 0) return { kind: "nothing", message: `bulk job ${parent.id} has no failed users ${what}; nothing to retry` };

  // The new job's users, in the parent's order, and each vendor's selection over their new indexes.
  const userIds: string[] = [];
  const selections = new Map([...chosen.keys()].map((vendor) => [vendor, newBitmap(count)]));
  for (let index = 0; index < length; index++) {
    if (!getBit(union, index)) continue;
    for (const [vendor, bits] of chosen) if (getBit(bits, index)) setBit(selections.get(vendor)!, userIds.length);
    userIds.push(failed.ids.slice(index, index + 1)[0]!);
  }
  const prepared = prepareSubmission(
    {
      userIds,
      change: { attribute: parent.spec.attribute, value: parent.spec.value },
      vendors: parent.spec.vendors.filter((v) => chosen.has(v)),
    },
    settings,
  );
  if (prepared.kind !== "ready") return prepared;
  // The ids were distinct already: de-duplicating kept every one in place, so the selections hold.
  if (prepared.job.userIds.length !== userIds.length) throw new Error("a retry's user ids were not distinct");
  return { kind: "ready", job: { ...prepared.job, selections, retryOf: parent.id } };
}

const EMPTY: Bitmap = new Uint8Array(0);
