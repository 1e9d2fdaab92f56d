import { Field, ID, InputType, registerEnumType } from "type-graphql";
import type { DeliveryMode } from "../../delivery/types.js";
import type { OperationKind } from "../../domain/operations.js";
import { AttributeOperationKind } from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";
import { AttributeValueInput } from "./attribute-value.input.js";
import { VendorOptionsInput } from "./vendor-options.input.js";

@InputType({ description: "One operation on one custom attribute." })
export class AttributeOperationInput {
  @Field(() => AttributeOperationKind)
  op!: OperationKind;

  @Field(() => String, { description: "The attribute's name as the caller knows it; vendors may normalize it (reported as a warning)." })
  attribute!: string;

  @Field(() => AttributeValueInput, { nullable: true, description: "Required for every operation but UNSET." })
  value?: AttributeValueInput | null;
}

@InputType("AttributesProfileFieldsInput", {
  description: "Standard profile fields. Omit a field to leave it unchanged; they cannot be cleared.",
})
export class ProfileFieldsInput {
  @Field(() => String, { nullable: true }) email?: string | null;
  @Field(() => String, { nullable: true }) firstName?: string | null;
  @Field(() => String, { nullable: true }) lastName?: string | null;
  @Field(() => String, { nullable: true, description: "E.164 is safest across vendors." }) phone?: string | null;
  @Field(() => String, { nullable: true, description: "For example en_US." }) locale?: string | null;
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2." }) country?: string | null;
  @Field(() => String, { nullable: true }) region?: string | null;
  @Field(() => String, { nullable: true }) city?: string | null;
  @Field(() => String, { nullable: true, description: "IANA time zone, for example Europe/Warsaw." }) timezone?: string | null;
}

@InputType("AttributesTagChangesInput", { description: "Tags to add to or remove from the user." })
export class TagChangesInput {
  @Field(() => [String], { nullable: true }) add?: string[] | null;
  @Field(() => [String], { nullable: true }) remove?: string[] | null;
}

export const AttributeDeliveryMode = { SYNC: "SYNC", GUARANTEED: "GUARANTEED" } as const satisfies Record<DeliveryMode, DeliveryMode>;
registerEnumType(AttributeDeliveryMode, {
  name: "AttributeDeliveryMode",
  description: "What happens when a vendor fails in a way a retry can fix.",
  valuesConfig: {
    SYNC: { description: "Each vendor is tried once; its failure is the answer, and retrying is the caller's." },
    GUARANTEED: {
      description:
        "Each vendor is tried at once; a retryable failure is answered AttributesVendorDeliveryQueued and retried by a queue (with backoff, honouring Retry-After) until the vendor takes it or the retry window ends. Durable in shared mode (REDIS_URL) only: see Query.vendors' deliveryQueue.",
    },
  },
});

@InputType("AttributesUpdateInput", { description: "One user's attribute update, delivered to one or several vendors." })
export class UpdateAttributesInput {
  @Field(() => ID)
  userId!: string;

  @Field(() => [AttributeOperationInput], { nullable: true, description: "At most one operation per attribute." })
  operations?: AttributeOperationInput[] | null;

  @Field(() => ProfileFieldsInput, { nullable: true })
  profile?: ProfileFieldsInput | null;

  @Field(() => TagChangesInput, { nullable: true })
  tags?: TagChangesInput | null;

  @Field(() => [Vendor], { nullable: true, description: "Vendors to deliver to. Default: every configured vendor." })
  vendors?: string[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "Create the user where the vendor can (Leanplum). Default: each vendor's own default. Vendors that never create users answer AttributesVendorUserNotFoundError.",
  })
  createIfMissing?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Repeating a call with the same key and input within the window (IDEMPOTENCY_WINDOW_SECONDS) returns the first result and sends nothing; the same key with another input is AttributesIdempotencyKeyReusedError. Keys are scoped to the user.",
  })
  idempotencyKey?: string | null;

  @Field(() => AttributeDeliveryMode, {
    defaultValue: "SYNC",
    description:
      "SYNC (default) or GUARANTEED. In both modes, an update for a user whose earlier update to a vendor is still queued is queued behind it (AttributesVendorDeliveryQueued, reason BEHIND_EARLIER_DELIVERY), so updates reach each vendor in order.",
  })
  delivery!: DeliveryMode;

  @Field(() => Boolean, {
    defaultValue: false,
    description:
      "Run every check and mapping but send no write: each vendor answers AttributesVendorDeliveryPreview with the exact requests it would receive (credentials redacted), or the refusal a real run would get. Read-only look-ups a write needs (Jiguang's CUID, User.com's user) are made and listed as look-ups. Nothing is queued or remembered; an idempotencyKey is refused with it.",
  })
  dryRun!: boolean;

  /** A GraphQL field only when a registered vendor declares options (below). */
  vendorOptions?: Record<string, unknown> | null;
}

// Declared here, once at import: an input type needs at least one field, so with no vendor options
// there is no field to declare.
const vendorOptionsType = VendorOptionsInput;
if (vendorOptionsType) Field(() => vendorOptionsType, { nullable: true })(UpdateAttributesInput.prototype, "vendorOptions");
