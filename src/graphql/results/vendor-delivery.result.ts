import { Field, Int, ObjectType, createUnionType } from "type-graphql";
import { VENDOR_ERROR_TYPES } from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";

@ObjectType({ description: "Something the subgraph did on the caller's behalf, such as a documented key normalization." })
export class DeliveryWarning {
  @Field(() => String, { description: "Machine-readable, for example KEY_NORMALIZED or FLOAT_PRECISION." })
  code!: string;

  @Field(() => String)
  message!: string;

  @Field(() => String, { nullable: true })
  attribute!: string | null;
}

@ObjectType({ description: "The vendor accepted the update." })
export class VendorDeliverySuccess {
  @Field(() => Vendor)
  vendor!: string;

  @Field(() => [DeliveryWarning])
  warnings!: DeliveryWarning[];

  @Field(() => Int, { nullable: true, description: "HTTP status of the vendor's answer." })
  httpStatus!: number | null;
}

const E = VENDOR_ERROR_TYPES;

export const VendorDeliveryResult = createUnionType({
  name: "VendorDeliveryResult",
  description: "What happened at one vendor: success, or one typed error (each implements VendorError).",
  types: () =>
    [
      VendorDeliverySuccess,
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
