import type { OperationKind } from "./operations.js";
import type { ProfileField } from "./profile.js";
import type { ValueKind } from "./values.js";

/**
 * What a vendor can do, declared as data. The dispatcher checks every command against it before
 * anything is sent, so an unsupported operation fails alone and typed, with no request made.
 * Rules that need the vendor's own knowledge (value ranges, naming rules, attribute catalogs)
 * are checked by the vendor's mapper instead.
 */
export interface VendorCapabilities {
  /** Value kinds each supported operation accepts. `UNSET` takes no value: list it with `[]`. */
  readonly operations: { readonly [K in OperationKind]?: readonly ValueKind[] };
  readonly profileFields: readonly ProfileField[];
  readonly tags: { readonly add: boolean; readonly remove: boolean };
  /** Whether the vendor offers a per-user read endpoint for `User.attributeProfiles`. */
  readonly readProfile: boolean;
  /** Whether a write can create a user who does not exist yet at the vendor. */
  readonly createsUsers: boolean;
  /** The vendor's native bulk path (`VendorAdapter.setForMany`), when it has one. */
  readonly bulk?: {
    /** Most users one `setForMany` call takes (for example Leanplum's 50 per multi). */
    readonly chunkSize: number;
    /** How many chunks may be in flight at once. */
    readonly concurrency: number;
  };
}
