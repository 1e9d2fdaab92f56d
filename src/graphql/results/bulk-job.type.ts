import { GraphQLDateTime } from "graphql-scalars";
import { Field, Float, ID, Int, ObjectType, createUnionType, registerEnumType } from "type-graphql";
import { CANCEL_REASONS, JOB_STATUSES, type BulkJobSnapshot, type CancelReason, type JobStatus } from "../../bulk/types.js";
import {
  ErrorCode,
  ErrorInterface,
  InvalidInputError,
  NotAuthorizedError,
  SharedStateUnavailableError,
  VendorErrorInterface,
  type ErrorCodeValue,
} from "../errors/error.types.js";
import { Vendor } from "../vendor.enum.js";
import { AttributeValue } from "./vendor-profile.result.js";
import { PreviewedRequestObject } from "./vendor-delivery.result.js";

export const BulkJobStatus = Object.fromEntries(JOB_STATUSES.map((s) => [s, s])) as { [K in JobStatus]: K };
registerEnumType(BulkJobStatus, {
  name: "AttributesBulkJobStatus",
  valuesConfig: {
    QUEUED: { description: "Accepted, waiting for a worker." },
    RUNNING: { description: "Being delivered." },
    SUCCEEDED: { description: "Every user landed at every targeted vendor." },
    PARTIALLY_FAILED: { description: "Some users failed at some vendor; see `failures`." },
    FAILED: { description: "No user landed anywhere it failed, or the job could not run." },
    CANCELLED: {
      description: "Stopped on request or by a shutdown (see `cancelReason`); users not yet sent are counted as cancelled.",
    },
  },
});

export const BulkJobCancelReason = Object.fromEntries(CANCEL_REASONS.map((r) => [r, r])) as { [K in CancelReason]: K };
registerEnumType(BulkJobCancelReason, {
  name: "AttributesBulkJobCancelReason",
  description: "Why a bulk job was stopped.",
  valuesConfig: {
    CANCEL_REQUESTED: { description: "cancelAttributeBulkJob was called." },
    SHUTDOWN: {
      description:
        "The process running it shut down: chunks in flight were finished within the shutdown's grace, the rest not sent. Submit the remaining users again.",
    },
  },
});

@ObjectType("AttributesBulkFailureCount", { description: "How many users of one vendor failed with one error code." })
export class BulkFailureCount {
  @Field(() => ErrorCode, { description: "The code of the users' final error, as on the AttributesVendorError types." })
  code!: ErrorCodeValue;
  @Field(() => Int) count!: number;
}

@ObjectType("AttributesBulkVendorProgress", { description: "Counts for one vendor. At the end, succeeded + failed + cancelled = total." })
export class BulkVendorProgress {
  @Field(() => Vendor) vendor!: string;
  @Field(() => Int) total!: number;
  @Field(() => Int) succeeded!: number;
  @Field(() => Int, { description: "Every failed user, whether or not its failure is kept (see failuresKept)." }) failed!: number;
  @Field(() => Int) cancelled!: number;
  @Field(() => Int, { description: "Not yet settled." }) pending!: number;
  @Field(() => [BulkFailureCount], {
    description:
      "Failed users by the code of their final error: exact even when not every failure is kept, adding up to `failed`. Codes without failures are left out.",
  })
  failuresByCode!: BulkFailureCount[];
  @Field(() => Int, {
    description:
      "Failures of this vendor listed in `AttributesBulkJob.failures`: the first ones recorded, at most BULK_MAX_FAILURES_KEPT per vendor.",
  })
  failuresKept!: number;
  @Field(() => Boolean, { description: "Some failures were counted but not kept: `failed` is more than `failuresKept`." })
  failuresTruncated!: boolean;
}

@ObjectType("AttributesBulkFailure", {
  description: "One user the value did not land for at one vendor, with the typed reason (the last attempt's).",
})
export class BulkFailure {
  @Field(() => ID) userId!: string;
  @Field(() => Vendor) vendor!: string;
  @Field(() => VendorErrorInterface) error!: VendorErrorInterface;
}

@ObjectType("AttributesBulkFailureEdge")
export class BulkFailureEdge {
  @Field(() => String) cursor!: string;
  @Field(() => BulkFailure) node!: BulkFailure;
}

@ObjectType("AttributesPageInfo")
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType("AttributesBulkFailureConnection", {
  description:
    "Kept failures: one vendor's in the order they were recorded, or every vendor's, each vendor's in turn in the order of `progress`. Cursors stay valid while the job runs; a failure recorded later at a vendor already paged past shows in a new pass, or when paging by vendor.",
})
export class BulkFailureConnection {
  @Field(() => Int, {
    description:
      "Kept failures in this connection (the vendor's, or every vendor's), not every failure: each vendor keeps its first BULK_MAX_FAILURES_KEPT. `progress.failed` and `progress.failuresByCode` count them all.",
  })
  totalCount!: number;
  @Field(() => [BulkFailureEdge]) edges!: BulkFailureEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType("AttributesBulkJob", { description: "A bulk job: one custom attribute value for many users at one or several vendors." })
export class BulkJob {
  @Field(() => ID) id!: string;
  @Field(() => BulkJobStatus) status!: JobStatus;
  @Field(() => String) attribute!: string;
  @Field(() => AttributeValue) value!: AttributeValue;
  @Field(() => [BulkVendorProgress]) progress!: BulkVendorProgress[];
  @Field(() => Int, { description: "Ids given more than once in the request; each user is processed and counted once." })
  duplicateUserIds!: number;
  @Field(() => Boolean) cancelRequested!: boolean;
  @Field(() => BulkJobCancelReason, {
    nullable: true,
    description: "Why the job was stopped, once it was asked to stop or a shutdown stopped it; null otherwise.",
  })
  cancelReason!: CancelReason | null;
  @Field(() => GraphQLDateTime) createdAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true }) startedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true }) finishedAt!: Date | null;
  @Field(() => ID, {
    nullable: true,
    description: "The job whose failed users this one resends (`retryAttributeBulkJob`); null for a job started with its user ids.",
  })
  retryOf!: string | null;
  @Field(() => [ID], {
    description:
      "The jobs started by `retryAttributeBulkJob` to resend this job's failed users, oldest first. Each belongs to whoever started it: `attributeBulkJob` answers another caller's as an unknown id.",
  })
  retries!: string[];

  /** The snapshot the object was built from, for the failures resolver. */
  snapshot!: BulkJobSnapshot;
}

@ObjectType("AttributesTooManyUserIdsError", {
  implements: ErrorInterface,
  description: "The request names more user ids than one call may (BULK_MAX_USER_IDS); split it.",
})
export class TooManyUserIdsError extends ErrorInterface {
  @Field(() => Int) limit!: number;
  @Field(() => Int) received!: number;
}

@ObjectType("AttributesBulkJobNotFoundError", {
  implements: ErrorInterface,
  description:
    "No bulk job with this id that the caller may see: jobs are seen by their creator and by callers with the attributes:bulk:admin scope. Finished jobs are kept for a while, then forgotten.",
})
export class BulkJobNotFoundError extends ErrorInterface {
  @Field(() => ID) id!: string;
}

@ObjectType("AttributesBulkJobNotFinishedError", {
  implements: ErrorInterface,
  description: "Only a finished bulk job's failures can be retried; this one is still queued or running. Nothing was started.",
})
export class BulkJobNotFinishedError extends ErrorInterface {
  @Field(() => ID) id!: string;
  @Field(() => BulkJobStatus) status!: JobStatus;
}

@ObjectType("AttributesNothingToRetryError", {
  implements: ErrorInterface,
  description:
    "No failed user of the bulk job matches the retry (the error codes asked for, or by default retryable failures, at the vendors asked for), or the job's failed users are no longer kept. Nothing was started.",
})
export class NothingToRetryError extends ErrorInterface {
  @Field(() => ID) id!: string;
}

@ObjectType("AttributesBulkSampleFailure", { description: "What one of a plan's sample users would get instead of a write." })
export class BulkSampleFailure {
  @Field(() => ID) userId!: string;
  @Field(() => VendorErrorInterface) error!: VendorErrorInterface;
}

@ObjectType("AttributesBulkVendorPlan", { description: "How a bulk job would go to one vendor." })
export class BulkVendorPlan {
  @Field(() => Vendor) vendor!: string;
  @Field(() => Boolean, { description: "Whether the vendor's native bulk path is used (false: its single update, user by user, paced)." })
  native!: boolean;
  @Field(() => String, { description: "The path, as the vendor's documentation names it." }) path!: string;
  @Field(() => Int, { description: "Write calls for all the job's users." }) writes!: number;
  @Field(() => Int, { description: "Read-only look-up calls the writes need." }) lookups!: number;
  @Field(() => Float, { nullable: true, description: "Calls per second this deployment sends to the vendor; null when not paced." })
  ratePerSecond!: number | null;
  @Field(() => Float, { nullable: true, description: "(writes + lookups) ÷ ratePerSecond, in seconds; null when not paced." })
  estimatedSeconds!: number | null;
  @Field(() => [ID], { description: "The first users, whose requests are shown." }) sampleUserIds!: string[];
  @Field(() => [PreviewedRequestObject], {
    description: "The requests a job sends for the sample users, in order: look-ups made, writes not sent.",
  })
  sampleRequests!: PreviewedRequestObject[];
  @Field(() => [BulkSampleFailure]) sampleFailures!: BulkSampleFailure[];
}

@ObjectType("AttributesBulkPlan", {
  description: "A bulk dry run (dryRun: true): every check passed; what a job would do. No job was created and nothing was written.",
})
export class BulkPlan {
  @Field(() => String) attribute!: string;
  @Field(() => Int, { description: "Distinct users." }) userCount!: number;
  @Field(() => Int) duplicateUserIds!: number;
  @Field(() => [BulkVendorPlan]) vendors!: BulkVendorPlan[];
}

export const BulkSetCustomAttributeResult = createUnionType({
  name: "AttributesBulkSetCustomAttributeResult",
  types: () => [BulkJob, BulkPlan, InvalidInputError, TooManyUserIdsError, NotAuthorizedError, SharedStateUnavailableError] as const,
});

export const BulkJobResult = createUnionType({
  name: "AttributesBulkJobResult",
  types: () => [BulkJob, BulkJobNotFoundError, NotAuthorizedError, SharedStateUnavailableError] as const,
});

export const RetryBulkJobResult = createUnionType({
  name: "AttributesBulkJobRetryResult",
  types: () =>
    [
      BulkJob,
      BulkJobNotFoundError,
      BulkJobNotFinishedError,
      NothingToRetryError,
      InvalidInputError,
      TooManyUserIdsError,
      NotAuthorizedError,
      SharedStateUnavailableError,
    ] as const,
});

export const CancelBulkJobResult = createUnionType({
  name: "AttributesBulkJobCancelResult",
  types: () => [BulkJob, BulkJobNotFoundError, NotAuthorizedError, SharedStateUnavailableError] as const,
});

export function errorOf<T extends ErrorInterface>(cls: new () => T, code: ErrorCodeValue, message: string, fields: Partial<T>): T {
  return Object.assign(new cls(), { code, message, ...fields });
}
