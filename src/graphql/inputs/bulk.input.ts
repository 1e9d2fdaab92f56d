import { Field, ID, InputType, Int } from "type-graphql";
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

  @Field(() => Int, {
    defaultValue: 3,
    description:
      "With dryRun: the users (from the first) whose exact requests the plan shows, at most each vendor's first chunk (its whole first chunk when larger). Look-ups among them are real calls at the vendor's rate: User.com's 500-user chunk takes 25 s of its 20/s.",
  })
  dryRunSampleUsers!: number;
}
