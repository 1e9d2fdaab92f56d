import { Field, InputType } from "type-graphql";
import { ErrorCode, type ErrorCodeValue } from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";

@InputType("AttributesBulkJobRetryInput", {
  description: "Which failed users of a finished bulk job `retryAttributeBulkJob` resends, and where.",
})
export class RetryBulkJobInput {
  @Field(() => [Vendor], {
    nullable: true,
    description:
      "Resend at these vendors of the job only. Default: every vendor of the job with matching failures. A user is resent only at the vendors where it failed as asked.",
  })
  vendors?: string[] | null;

  @Field(() => [ErrorCode], {
    nullable: true,
    description:
      "Resend the users whose final error had one of these codes (codes of AttributesVendorError types), retryable or not. Default: the users whose final error was retryable.",
  })
  codes?: ErrorCodeValue[] | null;
}
