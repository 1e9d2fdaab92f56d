import { GraphQLDateTime } from "graphql-scalars";
import { Field, ID, Int, ObjectType, createUnionType, registerEnumType } from "type-graphql";
import { QUEUE_REASONS, type QueueReason } from "../../delivery/types.js";
import { VENDOR_ERROR_TYPES, VendorErrorInterface } from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";

@ObjectType("AttributesDeliveryWarning", {
  description: "Something the subgraph did on the caller's behalf, such as a documented key normalization.",
})
export class DeliveryWarning {
  @Field(() => String, { description: "Machine-readable, for example KEY_NORMALIZED or FLOAT_PRECISION." })
  code!: string;

  @Field(() => String)
  message!: string;

  @Field(() => String, { nullable: true })
  attribute!: string | null;
}

@ObjectType("AttributesVendorDeliverySuccess", { description: "The vendor accepted the update." })
export class VendorDeliverySuccess {
  @Field(() => Vendor)
  vendor!: string;

  @Field(() => [DeliveryWarning])
  warnings!: DeliveryWarning[];

  @Field(() => Int, { nullable: true, description: "HTTP status of the vendor's answer." })
  httpStatus!: number | null;
}

export const AttributeDeliveryQueueReason = Object.fromEntries(QUEUE_REASONS.map((r) => [r, r])) as { [K in QueueReason]: K };
registerEnumType(AttributeDeliveryQueueReason, {
  name: "AttributeDeliveryQueueReason",
  valuesConfig: {
    RETRYABLE_FAILURE: { description: "The vendor failed in a way a retry can fix (delivery: GUARANTEED); lastError says how." },
    BEHIND_EARLIER_DELIVERY: {
      description:
        "An earlier update of this user is still queued for this vendor; this one is sent right after it, so that an older value never overwrites a newer one. Nothing was sent yet.",
    },
  },
});

@ObjectType("AttributesVendorDeliveryQueued", {
  description:
    "The update was not answered by the vendor yet: it is queued and will be sent (follow it with attributeDelivery(id), stop it with cancelAttributeDelivery).",
})
export class VendorDeliveryQueued {
  @Field(() => Vendor)
  vendor!: string;

  @Field(() => ID)
  deliveryId!: string;

  @Field(() => AttributeDeliveryQueueReason)
  reason!: QueueReason;

  @Field(() => Int, { description: "Attempts made so far (1 after a retryable failure, 0 behind an earlier delivery)." })
  attempts!: number;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "When the next attempt is due; null while it waits behind an earlier delivery.",
  })
  nextAttemptAt!: Date | null;

  @Field(() => GraphQLDateTime, { description: "The end of its retry window: not attempted after it (then EXPIRED)." })
  expiresAt!: Date;

  @Field(() => VendorErrorInterface, { nullable: true, description: "The failure of the last attempt." })
  lastError!: VendorErrorInterface | null;

  @Field(() => ID, { nullable: true, description: "The delivery it waits behind (BEHIND_EARLIER_DELIVERY)." })
  queuedBehind!: string | null;

  @Field(() => Boolean, {
    description:
      "Whether the queue survives a restart: true in shared mode (Redis); false in the embedded mode, whose queue is this process's memory.",
  })
  durable!: boolean;
}

@ObjectType("AttributesHttpHeader", { description: "One HTTP header." })
export class HttpHeader {
  @Field(() => String) name!: string;
  @Field(() => String) value!: string;
}

@ObjectType("AttributesPreviewedRequest", { description: "One request as the vendor would receive it. Credentials are redacted." })
export class PreviewedRequestObject {
  @Field(() => String) method!: string;
  @Field(() => String, { description: "The full URL, query included." }) url!: string;
  @Field(() => [HttpHeader], {
    description: "The headers this subgraph sets (the HTTP client adds transport ones such as content-length).",
  })
  headers!: HttpHeader[];
  @Field(() => String, { nullable: true, description: "The body exactly as sent (JSON), if any." }) body!: string | null;
  @Field(() => Boolean, { description: "A read-only look-up the write needs: it was sent, even in the dry run." }) lookup!: boolean;
}

@ObjectType("AttributesVendorDeliveryPreview", {
  description:
    "A dry run (dryRun: true): every check and mapping passed; these are the requests the vendor would receive. Nothing was written.",
})
export class VendorDeliveryPreview {
  @Field(() => Vendor) vendor!: string;
  @Field(() => [PreviewedRequestObject], { description: "In the order they would be sent." }) requests!: PreviewedRequestObject[];
  @Field(() => [DeliveryWarning]) warnings!: DeliveryWarning[];
}

const E = VENDOR_ERROR_TYPES;

export const VendorDeliveryResult = createUnionType({
  name: "AttributesVendorDeliveryResult",
  description: "What happened at one vendor: success, queued, or one typed error (each implements AttributesVendorError).",
  types: () =>
    [
      VendorDeliverySuccess,
      VendorDeliveryQueued,
      VendorDeliveryPreview,
      E.AUTHENTICATION_FAILED,
      E.PERMISSION_DENIED,
      E.USER_NOT_FOUND,
      E.ATTRIBUTE_NOT_DEFINED,
      E.VALUE_REJECTED,
      E.UNSUPPORTED_OPERATION,
      E.RATE_LIMITED,
      E.VENDOR_UNAVAILABLE,
      E.VENDOR_NOT_CONFIGURED,
      E.OUTCOME_UNKNOWN,
      E.INTERNAL,
    ] as const,
});
