import { Field, ObjectType, createUnionType } from "type-graphql";
import { IdempotencyKeyReusedError, InvalidInputError, NotAuthorizedError, type VendorErrorInterface } from "../errors/error.types.js";
import { User } from "../user.entity.js";
import { VendorDeliveryResult, type VendorDeliverySuccess } from "./vendor-delivery.result.js";

@ObjectType({ description: "The update was dispatched; each targeted vendor has its own result." })
export class UpdateAttributesSuccess {
  @Field(() => User)
  user!: User;

  @Field(() => [VendorDeliveryResult], { description: "One result per targeted vendor, in the order requested." })
  deliveries!: Array<VendorDeliverySuccess | VendorErrorInterface>;

  @Field(() => Boolean, { description: "True when every targeted vendor accepted the update." })
  allDelivered!: boolean;

  @Field(() => Boolean, {
    description: "True when this is the stored result of an earlier call with the same idempotency key: nothing was sent this time.",
  })
  replayed!: boolean;
}

export const UpdateAttributesResult = createUnionType({
  name: "UpdateAttributesResult",
  types: () => [UpdateAttributesSuccess, InvalidInputError, NotAuthorizedError, IdempotencyKeyReusedError] as const,
});
