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

  @Field(() => Boolean, {
    defaultValue: false,
    description:
      "Check everything and answer the plan (AttributesBulkPlan) instead of starting a job: per vendor, the path, the calls and their estimated duration at the vendor's rate, and the exact requests for the first users (look-ups made, nothing written).",
  })
  dryRun!: boolean;
}
