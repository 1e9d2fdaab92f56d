import type { VendorCapabilities } from "./capabilities.js";
import type { UpdateCommand } from "./command.js";
import type { DeliveryOutcome } from "./results.js";

export interface CallContext {
  /** Correlates the vendor calls of one GraphQL operation in logs. */
  readonly requestId: string;
  readonly signal?: AbortSignal;
}

/** What the domain needs from a vendor integration; vendor folders implement it. */
export interface VendorAdapter {
  /**
   * Applies the command. Failures are returned as values, never thrown: a throw means a bug.
   * The command has already passed the capability check.
   */
  update(command: UpdateCommand, context: CallContext): Promise<DeliveryOutcome>;
}

export type VendorMode = "live" | "sandbox" | "not-configured";

/** A vendor as the running subgraph sees it: its declaration plus, when configured, an adapter. */
export interface Vendor {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: VendorCapabilities;
  readonly mode: VendorMode;
  readonly adapter?: VendorAdapter;
}
