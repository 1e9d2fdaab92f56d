import type { InputLimits } from "../domain/command.js";
import type { RequestScope } from "../domain/scope.js";
import type { CallContext, Vendor } from "../domain/vendor.js";

/** What every resolver sees for one GraphQL operation. */
import type { Caller } from "../auth/caller.js";
import type { BulkJobs } from "../bulk/jobs.js";
import type { DeliveryEngine, DeliveryHooks } from "../delivery/engine.js";
import type { UpdateOutcome } from "../delivery/types.js";
import type { IdempotencyStore } from "../reliability/idempotency.js";

/** What an idempotency key remembers: plain data, so a shared store can hold it as JSON. */
export interface StoredUpdate {
  readonly userId: string;
  readonly outcomes: readonly UpdateOutcome[];
}

export interface GraphQLContext {
  readonly requestId: string;
  /** Request-scoped memo handed to adapters (DataLoaders for id look-ups). */
  readonly scope: RequestScope;
  readonly vendors: readonly Vendor[];
  readonly limits: InputLimits;
  readonly dispatchHooks: DeliveryHooks;
  readonly bulk: BulkJobs;
  readonly caller: Caller;
  readonly idempotency: IdempotencyStore<StoredUpdate>;
  /** Every update goes through it: the per-user order at each vendor, and GUARANTEED delivery. */
  readonly deliveries: DeliveryEngine;
  /**
   * Sandbox mode only: the client's x-sandbox-fault header, passed to the sandbox vendors (GraphiQL's
   * way to try a vendor outage). Never set with a live vendor.
   */
  readonly sandboxFault?: string;
  /** Replaces every configured secret in a text (a dry run's previews pass through it). */
  readonly scrub: (text: string) => string;
}

/** The vendor call context of an operation's writes: its id, its request scope, and the sandbox fault it asked for. */
export function writeContextOf(context: GraphQLContext): CallContext {
  return {
    requestId: context.requestId,
    scope: context.scope,
    ...(context.sandboxFault === undefined ? {} : { sandboxFault: context.sandboxFault }),
  };
}
