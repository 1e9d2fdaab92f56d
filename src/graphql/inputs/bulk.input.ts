import { Field, ID, InputType } from "type-graphql";
import { Vendor } from "../vendor.enum.js";
import { AttributeValueInput } from "./attribute-value.input.js";

@InputType("AttributesBulkSetCustomAttributeInput", { description: "One custom attribute value for many users." })
export class BulkSetCustomAttributeInput {
  @Field(() => [ID], { description: "The users; duplicates are processed once. At most BULK_MAX_USER_IDS (default 100,000) per call." })
  userIds!: string[];

  @Field(() => String)
  attribute!: string;

  @Field(() => AttributeValueInput)
  value!: AttributeValueInput;

  @Field(() => [Vendor], { nullable: true, description: "Default: every configured vendor." })
  vendors?: string[] | null;
}
