import { GraphQLDateTime } from "graphql-scalars";
import { Field, Float, Int, ObjectType, createUnionType, registerEnumType } from "type-graphql";
import type { ProfileFields } from "../../domain/profile.js";
import { VALUE_KINDS, type AttributeValue as DomainValue, type ValueKind } from "../../domain/values.js";
import { NotAuthorizedError, VENDOR_ERROR_TYPES } from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";
import { DeliveryWarning } from "./vendor-delivery.result.js";

export const AttributeValueType = Object.fromEntries(VALUE_KINDS.map((k) => [toEnumName(k), k])) as Record<string, ValueKind>;
registerEnumType(AttributeValueType, { name: "AttributeValueType", description: "Which field of AttributeValue holds the value." });

function toEnumName(kind: string): string {
  return kind.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

@ObjectType({ description: "A typed value as read back from a vendor: `type` names the one field that is set." })
export class AttributeValue {
  @Field(() => AttributeValueType) type!: ValueKind;
  @Field(() => String, { nullable: true }) string!: string | null;
  @Field(() => Int, { nullable: true }) int!: number | null;
  @Field(() => Float, { nullable: true }) float!: number | null;
  @Field(() => Boolean, { nullable: true }) boolean!: boolean | null;
  @Field(() => GraphQLDateTime, { nullable: true }) dateTime!: Date | null;
  @Field(() => [String], { nullable: true }) stringList!: string[] | null;
  @Field(() => [Int], { nullable: true }) intList!: number[] | null;
  @Field(() => [Float], { nullable: true }) floatList!: number[] | null;
  @Field(() => [Boolean], { nullable: true }) booleanList!: boolean[] | null;
  @Field(() => [GraphQLDateTime], { nullable: true }) dateTimeList!: Date[] | null;
}

@ObjectType({ description: "One custom attribute held by a vendor." })
export class AttributeEntry {
  @Field(() => String) name!: string;
  @Field(() => AttributeValue, { nullable: true, description: "Null when the vendor holds an empty value." })
  value!: AttributeValue | null;
}

@ObjectType("AttributesProfileFields", { description: "Standard profile fields as a vendor holds them; null when it has none." })
export class ProfileFieldsType {
  @Field(() => String, { nullable: true }) email!: string | null;
  @Field(() => String, { nullable: true }) firstName!: string | null;
  @Field(() => String, { nullable: true }) lastName!: string | null;
  @Field(() => String, { nullable: true }) phone!: string | null;
  @Field(() => String, { nullable: true }) locale!: string | null;
  @Field(() => String, { nullable: true }) country!: string | null;
  @Field(() => String, { nullable: true }) region!: string | null;
  @Field(() => String, { nullable: true }) city!: string | null;
  @Field(() => String, { nullable: true }) timezone!: string | null;
}

@ObjectType("AttributesVendorProfile", { description: "A user's profile as one vendor holds it, mapped to the neutral model." })
export class VendorProfile {
  @Field(() => Vendor) vendor!: string;
  @Field(() => [AttributeEntry]) attributes!: AttributeEntry[];
  @Field(() => ProfileFieldsType) profile!: ProfileFieldsType;
  @Field(() => [String]) tags!: string[];
  @Field(() => [DeliveryWarning], { description: "Normalizations applied while reading, such as a vendor's boolean stored as text." })
  notes!: DeliveryWarning[];
}

const E = VENDOR_ERROR_TYPES;

export const VendorProfileResult = createUnionType({
  name: "AttributesVendorProfileResult",
  description:
    "One vendor's view of the user, or why it cannot be read (vendors without a read endpoint answer AttributesUnsupportedOperationError).",
  types: () =>
    [
      VendorProfile,
      E.AUTHENTICATION_FAILED,
      E.PERMISSION_DENIED,
      E.USER_NOT_FOUND,
      E.UNSUPPORTED_OPERATION,
      E.RATE_LIMITED,
      E.VENDOR_UNAVAILABLE,
      E.VENDOR_NOT_CONFIGURED,
      E.INTERNAL,
      NotAuthorizedError,
    ] as const,
});

const INT32 = 2 ** 31;

export function toAttributeValue(value: DomainValue): AttributeValue {
  const out = new AttributeValue();
  for (const kind of VALUE_KINDS) (out as unknown as Record<string, unknown>)[kind] = null;
  // GraphQL Int is 32-bit: a larger integer is presented as a float rather than failing the field.
  const fitsInt = (n: number) => n >= -INT32 && n < INT32;
  if (value.kind === "int" && !fitsInt(value.value)) {
    out.type = "float";
    out.float = value.value;
  } else if (value.kind === "intList" && !value.value.every(fitsInt)) {
    out.type = "floatList";
    out.floatList = [...value.value];
  } else {
    out.type = value.kind;
    (out as unknown as Record<string, unknown>)[value.kind] = Array.isArray(value.value) ? [...(value.value as unknown[])] : value.value;
  }
  return out;
}

export function toProfileFields(profile: ProfileFields): ProfileFieldsType {
  return Object.assign(new ProfileFieldsType(), {
    email: profile.email ?? null,
    firstName: profile.firstName ?? null,
    lastName: profile.lastName ?? null,
    phone: profile.phone ?? null,
    locale: profile.locale ?? null,
    country: profile.country ?? null,
    region: profile.region ?? null,
    city: profile.city ?? null,
    timezone: profile.timezone ?? null,
  });
}
