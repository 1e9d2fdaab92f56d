import { vendorFailure, type VendorFailure } from "../domain/failures.js";
import { failed, type DeliveryOutcome } from "../domain/results.js";
import type { BulkCallPlan, BulkChange, CallContext, PreviewedRequest, Vendor } from "../domain/vendor.js";
import { setCommand } from "./delivery.js";

/** Users whose requests a bulk dry run shows by default (look-ups among them are real calls, paced like any). */
export const DEFAULT_SAMPLE_USERS = 3;

export interface BulkVendorPlan extends BulkCallPlan {
  readonly vendor: string;
  /** The vendor's native bulk path (true), or its single update, user by user (false). */
  readonly native: boolean;
  /** (writes + look-ups) ÷ the rate; undefined when the vendor is not paced. */
  readonly estimatedSeconds: number | undefined;
  readonly sampleUserIds: readonly string[];
  /** The requests a job would send for the sample users, in order; look-ups made, writes not sent. */
  readonly sampleRequests: readonly PreviewedRequest[];
  /** What the sample users would get instead of a write, if anything (a user the vendor does not have, say). */
  readonly sampleFailures: ReadonlyArray<{ readonly userId: string; readonly failure: VendorFailure }>;
}

/**
 * A bulk job's plan, per vendor: its path and call counts (the adapter's own chunking), the
 * duration its rate budget sets, and the exact requests for the first few users, made as a dry run
 * (CallContext.dryRun): nothing is written.
 */
export async function planBulkJob(
  userIds: readonly string[],
  change: BulkChange,
  targets: readonly Vendor[],
  context: Omit<CallContext, "dryRun" | "background">,
  options: {
    /** Users whose requests are shown, from the first; at most each vendor's first chunk. */
    readonly sampleUsers: number;
    /** A chunk's size where the vendor has no native bulk path (the engine's fan-out chunk). */
    readonly fanOutChunkSize: number;
    readonly onAdapterCrash?: (vendor: string, error: unknown) => void;
  },
): Promise<BulkVendorPlan[]> {
  const { onAdapterCrash } = options;
  return Promise.all(
    targets.map(async (vendor): Promise<BulkVendorPlan> => {
      const adapter = vendor.adapter!;
      const native = vendor.capabilities.bulk !== undefined && adapter.setForMany !== undefined;
      const firstChunk = (native ? vendor.capabilities.bulk?.chunkSize : undefined) ?? options.fanOutChunkSize;
      const sample = userIds.slice(0, Math.min(options.sampleUsers, firstChunk));
      const calls = adapter.planBulk?.(userIds.length) ?? {
        path: "its single update, one per user (paced fan-out)",
        writes: userIds.length,
        lookups: 0,
        ratePerSecond: undefined,
      };
      const sampleRequests: PreviewedRequest[] = [];
      // As a job's chunk would: look-ups wait for the vendor's rate however long a large sample takes.
      const dry: CallContext = { ...context, background: true, dryRun: { record: (request) => sampleRequests.push(request) } };
      let outcomes: ReadonlyMap<string, DeliveryOutcome>;
      try {
        outcomes = native
          ? await adapter.setForMany!(sample, change, dry)
          : new Map(await Promise.all(sample.map(async (id) => [id, await adapter.update(setCommand(id, change), dry)] as const)));
      } catch (error) {
        onAdapterCrash?.(vendor.id, error);
        const failure = vendorFailure(
          "INTERNAL",
          vendor.id,
          `the ${vendor.displayName} integration failed unexpectedly while planning (request ${context.requestId})`,
        );
        outcomes = new Map(sample.map((id) => [id, failed(failure)]));
      }
      const sampleFailures = sample.flatMap((userId) => {
        const outcome = outcomes.get(userId);
        return outcome && !outcome.ok ? [{ userId, failure: outcome.failure }] : [];
      });
      return {
        vendor: vendor.id,
        native,
        ...calls,
        estimatedSeconds: calls.ratePerSecond === undefined ? undefined : (calls.writes + calls.lookups) / calls.ratePerSecond,
        sampleUserIds: sample,
        sampleRequests,
        sampleFailures,
      };
    }),
  );
}
