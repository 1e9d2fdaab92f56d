import DataLoader from "dataloader";
import { vendorFailure } from "../../domain/failures.js";
import type { ProfileReadOutcome } from "../../domain/profile-read.js";
import type { CallContext, Vendor } from "../../domain/vendor.js";

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
      const outcomes = await adapter.readProfiles!(userIds, context);
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
