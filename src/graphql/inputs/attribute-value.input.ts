import { GraphQLDateTime } from "graphql-scalars";
import { Field, Float, InputType, Int } from "type-graphql";

@InputType({
  description:
    "A typed attribute value. Set exactly one field; the server checks this and answers AttributesInvalidInputError otherwise. (Not @oneOf: the directive does not survive federation's schema printing and gateways yet.)",
})
export class AttributeValueInput {
  @Field(() => String, { nullable: true })
  string?: string | null;

  @Field(() => Int, { nullable: true })
  int?: number | null;

  @Field(() => Float, { nullable: true })
  float?: number | null;

  @Field(() => Boolean, { nullable: true })
  boolean?: boolean | null;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "RFC 3339 date-time with an offset; vendors receive it in their own format.",
  })
  dateTime?: Date | null;

  @Field(() => [String], { nullable: true })
  stringList?: string[] | null;

  @Field(() => [Int], { nullable: true })
  intList?: number[] | null;

  @Field(() => [Float], { nullable: true })
  floatList?: number[] | null;

  @Field(() => [Boolean], { nullable: true, description: "Which vendors accept which value types: see Query.attributeVendors." })
  booleanList?: boolean[] | null;

  @Field(() => [GraphQLDateTime], { nullable: true })
  dateTimeList?: Date[] | null;
}
