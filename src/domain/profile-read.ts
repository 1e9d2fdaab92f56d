import type { VendorFailure } from "./failures.js";
import type { ProfileFields } from "./profile.js";
import type { DeliveryWarning } from "./results.js";
import type { AttributeValue } from "./values.js";

/** A user's attributes as one vendor holds them, mapped back to the neutral model. */
export interface VendorProfile {
  readonly vendor: string;
  readonly userId: string;
  readonly attributes: ReadonlyArray<{ readonly name: string; readonly value: AttributeValue | null }>;
  readonly profile: ProfileFields;
  readonly tags: readonly string[];
  /** Normalizations applied while reading (for example Leanplum's "True" read as true). */
  readonly notes: readonly DeliveryWarning[];
}

export type ProfileReadOutcome =
  { readonly ok: true; readonly profile: VendorProfile } | { readonly ok: false; readonly failure: VendorFailure };
