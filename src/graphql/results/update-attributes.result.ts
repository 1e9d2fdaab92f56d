import { Field, ObjectType, createUnionType } from "type-graphql";
import {
  IdempotencyKeyInProgressError,
  SharedStateUnavailableError,
  IdempotencyKeyReusedError,
  IdempotencyStoreFullError,
  InvalidInputError,
  NotAuthorizedError,
} from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";
import { User } from "../user.entity.js";
import type { DeliveryResultObject } from "../errors/to-graphql.js";
import { VendorDeliveryResult } from "./vendor-delivery.result.js";

@ObjectType("AttributesUpdateSuccess", { description: "The update was dispatched; each targeted vendor has its own result." })
export class UpdateAttributesSuccess {
  @Field(() => User)
  user!: User;

  @Field(() => [VendorDeliveryResult], { description: "One result per targeted vendor, in the order requested." })
  deliveries!: DeliveryResultObject[];

  @Field(() => Boolean, { description: "True when every targeted vendor accepted the update (a queued delivery is not accepted yet)." })
  allDelivered!: boolean;

  @Field(() => Boolean, {
    description:
      "True when at least one delivery is the stored result of an earlier call with the same idempotency key (see replayedVendors).",
  })
  replayed!: boolean;

  @Field(() => [Vendor], {
    description:
      "Vendors whose delivery was replayed from an earlier call with the same idempotency key: nothing was sent to them this time. A repeat sends again only to vendors whose stored outcome certainly was not applied (rate limited, never sent, refused before sending) or is safe to repeat.",
  })
  replayedVendors!: string[];
}

export const UpdateAttributesResult = createUnionType({
  name: "AttributesUpdateResult",
  types: () =>
    [
      UpdateAttributesSuccess,
      InvalidInputError,
      NotAuthorizedError,
      IdempotencyKeyReusedError,
      IdempotencyStoreFullError,
      IdempotencyKeyInProgressError,
      SharedStateUnavailableError,
    ] as const,
});
