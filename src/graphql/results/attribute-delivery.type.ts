import { GraphQLDateTime } from "graphql-scalars";
import { Field, Float, ID, Int, ObjectType, createUnionType, registerEnumType } from "type-graphql";
import { DELIVERY_STATUSES, type DeliveryAttempt, type DeliveryStatus, type QueueReason } from "../../delivery/types.js";
import { ErrorInterface, NotAuthorizedError, SharedStateUnavailableError, VendorErrorInterface } from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";
import { AttributeDeliveryQueueReason, VendorDeliveryResult } from "./vendor-delivery.result.js";

export const AttributeDeliveryStatus = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, s])) as { [K in DeliveryStatus]: K };
registerEnumType(AttributeDeliveryStatus, {
  name: "AttributeDeliveryStatus",
  valuesConfig: {
    QUEUED: { description: "Waiting for its next attempt, or for an earlier delivery of the same user to this vendor." },
    DELIVERED: { description: "The vendor accepted it; `outcome` is its answer." },
    FAILED: {
      description:
        "It will not be sent again: the vendor refused it in a way a retry cannot fix, or whether it applied is unknown and resending it is not safe (`outcome` says which).",
    },
    EXPIRED: { description: "Its retry window or attempt limit ran out before the vendor took it; `outcome` is the last failure." },
    CANCELLED: { description: "Stopped by cancelAttributeDelivery; never attempted again." },
  },
});

type AttemptResult = DeliveryAttempt["result"];
export const AttributeDeliveryAttemptResult = { DELIVERED: "delivered", FAILED: "failed", LOST: "lost" } as const satisfies Record<
  string,
  AttemptResult
>;
registerEnumType(AttributeDeliveryAttemptResult, {
  name: "AttributeDeliveryAttemptResult",
  valuesConfig: {
    DELIVERED: { description: "The vendor accepted it." },
    FAILED: { description: "The vendor (or the way to it) failed; `error` says how." },
    LOST: { description: "The process sending it stopped before recording the outcome: whether it reached the vendor is unknown." },
  },
});

@ObjectType({ description: "One attempt of a queued delivery." })
export class AttributeDeliveryAttempt {
  @Field(() => Int, { description: "1 for the first attempt." }) number!: number;
  @Field(() => GraphQLDateTime) startedAt!: Date;
  @Field(() => Float) durationMs!: number;
  @Field(() => AttributeDeliveryAttemptResult) result!: AttemptResult;
  @Field(() => VendorErrorInterface, { nullable: true }) error!: VendorErrorInterface | null;
}

@ObjectType({
  description:
    "An update queued for one vendor (updateAttributes answered AttributesVendorDeliveryQueued): its status, every attempt, and once settled its outcome. Settled deliveries are kept for DELIVERY_RETENTION_SECONDS, then forgotten.",
})
export class AttributeDelivery {
  @Field(() => ID) id!: string;
  @Field(() => Vendor) vendor!: string;
  @Field(() => ID) userId!: string;
  @Field(() => AttributeDeliveryStatus) status!: DeliveryStatus;
  @Field(() => AttributeDeliveryQueueReason, { description: "Why it was queued instead of answered." }) reason!: QueueReason;
  @Field(() => Boolean, {
    description: "Whether it survives a restart: true in shared mode (Redis); false in the embedded mode (this process's memory).",
  })
  durable!: boolean;
  @Field(() => GraphQLDateTime) createdAt!: Date;
  @Field(() => GraphQLDateTime, { description: "The end of its retry window: not attempted after it." }) expiresAt!: Date;
  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "While QUEUED: when it may be attempted next (once no earlier delivery of this user is ahead of it).",
  })
  nextAttemptAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true }) finishedAt!: Date | null;
  @Field(() => [AttributeDeliveryAttempt]) attempts!: AttributeDeliveryAttempt[];
  @Field(() => VendorDeliveryResult, {
    nullable: true,
    description: "Once settled: the vendor's answer (DELIVERED) or the last failure (FAILED, EXPIRED, and CANCELLED after an attempt).",
  })
  outcome!: typeof VendorDeliveryResult | null;
  @Field(() => String, { nullable: true, description: "Why it settled as it did, in words, where the outcome alone does not say." })
  note!: string | null;
}

@ObjectType({
  implements: ErrorInterface,
  description:
    "No queued delivery with this id that the caller may see: deliveries are seen by the caller that queued them and by callers with attributes:write:any. Settled deliveries are kept for DELIVERY_RETENTION_SECONDS; in the embedded mode a restart forgets them all.",
})
export class AttributeDeliveryNotFoundError extends ErrorInterface {
  @Field(() => ID) id!: string;
}

export const AttributeDeliveryResult = createUnionType({
  name: "AttributeDeliveryResult",
  types: () => [AttributeDelivery, AttributeDeliveryNotFoundError, NotAuthorizedError, SharedStateUnavailableError] as const,
});

export const CancelAttributeDeliveryResult = createUnionType({
  name: "AttributeDeliveryCancelResult",
  types: () => [AttributeDelivery, AttributeDeliveryNotFoundError, NotAuthorizedError, SharedStateUnavailableError] as const,
});

@ObjectType("AttributesVendorDeliveryQueue", {
  description: "This deployment's queue of deliveries to one vendor (updates queued by GUARANTEED delivery, and those behind them).",
})
export class VendorDeliveryQueue {
  @Field(() => Boolean, { description: "Whether the queue survives a restart (shared mode's Redis), or is this process's memory." })
  durable!: boolean;
  @Field(() => Int, { description: "Deliveries queued now." }) depth!: number;
  @Field(() => GraphQLDateTime, { nullable: true, description: "When the oldest queued delivery was created; null when none is queued." })
  oldestQueuedAt!: Date | null;
}
