import type { InputLimits } from "../domain/command.js";
import type { DispatchHooks } from "../domain/dispatch.js";
import type { RequestScope } from "../domain/scope.js";
import type { Vendor } from "../domain/vendor.js";

/** What every resolver sees for one GraphQL operation. */
import type { Caller } from "../auth/caller.js";
import type { BulkJobs } from "../bulk/jobs.js";
import type { DeliveryOutcome } from "../domain/results.js";
import type { IdempotencyStore } from "../reliability/idempotency.js";

/** What an idempotency key remembers: plain data, so a shared store can hold it as JSON. */
export interface StoredUpdate {
  readonly userId: string;
  readonly outcomes: readonly DeliveryOutcome[];
}

export interface GraphQLContext {
  readonly requestId: string;
  /** Request-scoped memo handed to adapters (DataLoaders for id look-ups). */
  readonly scope: RequestScope;
  readonly vendors: readonly Vendor[];
  readonly limits: InputLimits;
  readonly dispatchHooks: DispatchHooks;
  readonly bulk: BulkJobs;
  readonly caller: Caller;
  readonly idempotency: IdempotencyStore<StoredUpdate>;
}
