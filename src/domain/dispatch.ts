import { unsupportedParts } from "./check.js";
import type { UpdateCommand } from "./command.js";
import { combineFailures, vendorFailure, type VendorFailure } from "./failures.js";
import { failed, type DeliveryOutcome } from "./results.js";
import { RateLimitWaitTooLong, isCancellation, type CallContext, type Vendor } from "./vendor.js";

export interface DispatchHooks {
  /** Called when an adapter throws (a bug), so the composition root can log it. */
  readonly onAdapterCrash?: (vendor: string, error: unknown) => void;
  /**
   * Called once per targeted vendor with its outcome (typed failures included) and how long the
   * delivery took, pacing and retries included: metrics and the per-operation log line.
   */
  readonly onOutcome?: (outcome: DeliveryOutcome, details: { readonly requestId: string; readonly durationMs: number }) => void;
}

/**
 * Sends one command to each targeted vendor concurrently and returns one outcome per vendor, in
 * the order given. A vendor's failure never affects another's delivery.
 */
export async function dispatchUpdate(
  command: UpdateCommand,
  targets: readonly Vendor[],
  context: CallContext,
  hooks: DispatchHooks = {},
): Promise<DeliveryOutcome[]> {
  return Promise.all(targets.map((vendor) => deliverOne(vendor, command, context, hooks)));
}

/**
 * Why `command` cannot go to `vendor` at all, found without sending: the vendor is not configured,
 * or does not support a part of the command.
 */
export function refusalBeforeSending(vendor: Vendor, command: UpdateCommand): VendorFailure | undefined {
  if (!vendor.adapter) {
    return vendorFailure("VENDOR_NOT_CONFIGURED", vendor.id, `${vendor.displayName} is not configured in this deployment`);
  }
  const unsupported = unsupportedParts(command, vendor.id, vendor.capabilities);
  return unsupported.length > 0 ? combineFailures(unsupported) : undefined;
}

/**
 * One vendor's delivery, observed (`hooks.onOutcome`). The caller's own cancellation (a queued
 * delivery's worker stopping) is thrown: nothing was sent, and it is not an outcome.
 */
export async function deliverOne(
  vendor: Vendor,
  command: UpdateCommand,
  context: CallContext,
  hooks: DispatchHooks = {},
): Promise<DeliveryOutcome> {
  const started = performance.now();
  const outcome = await deliverTo(vendor, command, context, hooks);
  try {
    hooks.onOutcome?.(outcome, { requestId: context.requestId, durationMs: performance.now() - started });
  } catch {
    // Observing a delivery must never change its result: the outcome is real either way.
  }
  return outcome;
}

async function deliverTo(vendor: Vendor, command: UpdateCommand, context: CallContext, hooks: DispatchHooks): Promise<DeliveryOutcome> {
  const refusal = refusalBeforeSending(vendor, command);
  if (refusal) return failed(refusal);
  try {
    return await vendor.adapter!.update(command, context);
  } catch (error) {
    if (error instanceof RateLimitWaitTooLong) return failed(rateBudgetFailure(vendor, error));
    if (isCancellation(error, context.signal)) throw error;
    // Other vendors' results are already real; losing them to one adapter's bug would be worse
    // than reporting this delivery as failed with an unknown outcome.
    hooks.onAdapterCrash?.(vendor.id, error);
    return failed(
      vendorFailure(
        "INTERNAL",
        vendor.id,
        `the ${vendor.displayName} integration failed unexpectedly (request ${context.requestId}); whether the update was applied is unknown`,
        { retryable: false },
      ),
    );
  }
}

/**
 * A call refused before sending because the vendor's rate budget had no slot within its deadline
 * (a long Retry-After, a deep backlog): rate limited, and safe to repeat after the delay.
 */
export function rateBudgetFailure(vendor: Pick<Vendor, "id" | "displayName">, error: RateLimitWaitTooLong): VendorFailure {
  const seconds = Math.max(1, Math.ceil(error.waitMs / 1000));
  if (error.unreachable) {
    return vendorFailure(
      "RATE_LIMITED",
      vendor.id,
      `${vendor.displayName}'s rate budget, shared by every replica, cannot be reached right now (shared mode's Redis); nothing was sent`,
      { retryable: true, retryAfterSeconds: seconds, vendorCode: "RATE_BUDGET_UNAVAILABLE" },
    );
  }
  return vendorFailure(
    "RATE_LIMITED",
    vendor.id,
    `${vendor.displayName}'s rate budget has no free slot for ${seconds} s, longer than this call may wait; nothing was sent`,
    { retryable: true, retryAfterSeconds: seconds, vendorCode: "RATE_BUDGET_WAIT" },
  );
}

/**
 * Resolves the `vendors` argument: the named vendors, or every configured one by default. With no
 * vendor configured at all, the default is every vendor, so the caller sees why nothing happened
 * instead of an empty success. A named vendor this process was not started with (the schema names
 * every registered vendor; a process may start fewer) is a vendor without an adapter, which answers
 * VENDOR_NOT_CONFIGURED like any unconfigured one.
 */
export function selectTargets(all: readonly Vendor[], requested?: readonly string[] | null): Vendor[] {
  if (requested === undefined || requested === null) {
    const configured = all.filter((vendor) => vendor.mode !== "not-configured");
    return configured.length > 0 ? configured : [...all];
  }
  const unique = [...new Set(requested)];
  return unique.map((id) => all.find((v) => v.id === id) ?? notStarted(id));
}

function notStarted(id: string): Vendor {
  return {
    id,
    displayName: id,
    mode: "not-configured",
    capabilities: { operations: {}, profileFields: [], tags: { add: false, remove: false }, readProfile: false, createsUsers: false },
  };
}
