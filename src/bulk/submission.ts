import { unsupportedParts } from "../domain/check.js";
import { userIdProblem, type InputLimits, type InputProblem } from "../domain/command.js";
import { selectTargets } from "../domain/dispatch.js";
import type { BulkChange, Vendor } from "../domain/vendor.js";
import { setCommand } from "./delivery.js";
import type { NewBulkJob } from "./store.js";
import { PackedUserIds } from "./user-ids.js";

/** Users per chunk where a vendor has no native bulk path (both engines' default). */
export const DEFAULT_FAN_OUT_CHUNK_SIZE = 200;

export interface BulkSubmission {
  readonly userIds: readonly string[];
  readonly change: BulkChange;
  readonly vendors?: readonly string[] | null;
  /** Who submits it (BulkJobSnapshot.owner); undefined when authorization is off. */
  readonly owner?: string | undefined;
}

export type SubmissionCheck =
  | { readonly kind: "ready"; readonly job: Omit<NewBulkJob, "owner"> }
  | { readonly kind: "invalid"; readonly problems: readonly InputProblem[] }
  | { readonly kind: "too-many"; readonly limit: number; readonly received: number };

/**
 * Everything checked before a bulk job exists, the same for every engine: the ids (count, each
 * one's form), the attribute, the vendors (configured, and accepting this value for every user: a
 * value a vendor refuses for all is refused once, here). The job to create has its ids
 * de-duplicated (first occurrence kept) and packed.
 */
export function prepareSubmission(
  submission: BulkSubmission,
  settings: { readonly vendors: readonly Vendor[]; readonly limits: InputLimits; readonly maxUserIds: number },
): SubmissionCheck {
  const { userIds, change } = submission;
  if (userIds.length > settings.maxUserIds) return { kind: "too-many", limit: settings.maxUserIds, received: userIds.length };
  const problems: InputProblem[] = [];
  if (userIds.length === 0) problems.push({ path: ["input", "userIds"], message: "give at least one user id" });
  userIds.forEach((id, index) => {
    const refusal = userIdProblem(id, settings.limits);
    if (refusal) problems.push({ path: ["input", "userIds", String(index)], message: refusal });
  });
  if (change.attribute.length === 0) problems.push({ path: ["input", "attribute"], message: "must not be empty" });
  if (submission.vendors?.length === 0)
    problems.push({ path: ["input", "vendors"], message: "name at least one vendor, or omit the field" });
  if (problems.length > 0) return { kind: "invalid", problems };

  const targets = selectTargets(settings.vendors, submission.vendors);
  const sample = setCommand(userIds[0]!, change);
  targets.forEach((vendor) => {
    const path = ["input", "vendors", vendor.id];
    if (!vendor.adapter) {
      problems.push({ path, message: `${vendor.displayName} is not configured in this deployment` });
      return;
    }
    const refusals = [...unsupportedParts(sample, vendor.id, vendor.capabilities), ...(vendor.adapter.check?.(sample) ?? [])];
    for (const failure of refusals) problems.push({ path, message: failure.message });
  });
  if (problems.length > 0) return { kind: "invalid", problems };

  const unique = new Set(userIds);
  return {
    kind: "ready",
    job: {
      spec: { ...change, vendors: targets.map((v) => v.id) },
      userIds: PackedUserIds.from(unique, unique.size),
      duplicateUserIds: userIds.length - unique.size,
    },
  };
}
