import DataLoader from "dataloader";
import { vendorFailure } from "../../domain/failures.js";
import type { ProfileReadOutcome } from "../../domain/profile-read.js";
import { rateBudgetFailure } from "../../domain/dispatch.js";
import { RateLimitWaitTooLong, type CallContext, type Vendor } from "../../domain/vendor.js";

/**
 * One loader per vendor per GraphQL operation: reading the profiles of 100 users resolved through
 * `_entities` becomes one `readProfiles` call with 100 ids, which the adapter batches as far as
 * its vendor allows. Reads are cached for the operation.
 */
export function profileLoader(vendor: Vendor, context: CallContext): DataLoader<string, ProfileReadOutcome> {
  return context.scope.get(`profile:${vendor.id}`, () => {
    const adapter = vendor.adapter;
    if (!adapter?.readProfiles) throw new Error(`${vendor.id} has no readProfiles`);
    return new DataLoader<string, ProfileReadOutcome>(async (userIds) => {
      let outcomes: ReadonlyMap<string, ProfileReadOutcome>;
      try {
        outcomes = await adapter.readProfiles!(userIds, context);
      } catch (error) {
        if (!(error instanceof RateLimitWaitTooLong)) throw error;
        const failure = rateBudgetFailure(vendor, error);
        return userIds.map((): ProfileReadOutcome => ({ ok: false, failure }));
      }
      return userIds.map(
        (id) =>
          outcomes.get(id) ?? {
            ok: false,
            failure: vendorFailure("INTERNAL", vendor.id, `${vendor.displayName} returned no result for a requested user`, {
              retryable: false,
            }),
          },
      );
    });
  });
}
