import type { VendorCapabilities } from "./capabilities.js";
import type { UpdateCommand } from "./command.js";
import type { VendorOptionsSpec } from "./options.js";
import type { ProfileReadOutcome } from "./profile-read.js";
import type { DeliveryOutcome } from "./results.js";
import type { RequestScope } from "./scope.js";

export interface CallContext {
  /** Correlates the vendor calls of one GraphQL operation in logs. */
  readonly requestId: string;
  readonly signal?: AbortSignal;
  /** Per-operation memo for request-scoped loaders (see RequestScope). */
  readonly scope: RequestScope;
}

/** What the domain needs from a vendor integration; vendor folders implement it. */
export interface VendorAdapter {
  /**
   * Applies the command. Failures are returned as values, never thrown: a throw means a bug.
   * The command has already passed the capability check.
   */
  update(command: UpdateCommand, context: CallContext): Promise<DeliveryOutcome>;

  /**
   * Reads several users' profiles in as few vendor calls as the vendor allows. Returns one
   * outcome per requested id (a missing user is a USER_NOT_FOUND failure). Present only when
   * the capabilities declare `readProfile`. Called through a per-request DataLoader.
   */
  readProfiles?(userIds: readonly string[], context: CallContext): Promise<ReadonlyMap<string, ProfileReadOutcome>>;
}

export type VendorMode = "live" | "sandbox" | "not-configured";

/** A vendor as the running subgraph sees it: its declaration plus, when configured, an adapter. */
export interface Vendor {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: VendorCapabilities;
  readonly options?: VendorOptionsSpec;
  readonly mode: VendorMode;
  readonly adapter?: VendorAdapter;
}
