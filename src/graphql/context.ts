import type { InputLimits } from "../domain/command.js";
import type { DispatchHooks } from "../domain/dispatch.js";
import type { RequestScope } from "../domain/scope.js";
import type { Vendor } from "../domain/vendor.js";

/** What every resolver sees for one GraphQL operation. */
import type { BulkEngine } from "../bulk/engine.js";

export interface GraphQLContext {
  readonly requestId: string;
  /** Request-scoped memo handed to adapters (DataLoaders for id look-ups). */
  readonly scope: RequestScope;
  readonly vendors: readonly Vendor[];
  readonly limits: InputLimits;
  readonly dispatchHooks: DispatchHooks;
  readonly bulk: BulkEngine;
}
