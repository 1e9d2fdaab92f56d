import { GraphQLError } from "graphql";
import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { SCOPES, bulkJobOwner, mayAccessBulkJob, refuseScope } from "../../auth/caller.js";
import { notAuthorized, sharedStateUnavailable, type InvalidInputError } from "../errors/error.types.js";
import { UNREACHABLE, whileReachable } from "../../redis/unavailable.js";
import { ForeignPositionError, type FailurePosition } from "../../bulk/failure-pages.js";
import type { SubmitResult } from "../../bulk/jobs.js";
import type { BulkJobSnapshot } from "../../bulk/types.js";
import { pending } from "../../bulk/types.js";
import { parseValueChoice } from "../../domain/command.js";
import { FAILURE_CATEGORIES } from "../../domain/failures.js";
import { writeContextOf, type GraphQLContext } from "../context.js";
import { toInvalidInput, toPreviewedRequest, toVendorError } from "../errors/to-graphql.js";
import { planBulkJob } from "../../bulk/plan.js";
import { DEFAULT_FAN_OUT_CHUNK_SIZE as FAN_OUT_CHUNK_SIZE, prepareSubmission } from "../../bulk/submission.js";
import { selectTargets } from "../../domain/dispatch.js";
import type { BulkChange } from "../../domain/vendor.js";
import { BulkSetCustomAttributeInput } from "../inputs/bulk.input.js";
import { RetryBulkJobInput } from "../inputs/retry-bulk-job.input.js";
import {
  BulkFailure,
  BulkFailureConnection,
  BulkFailureCount,
  BulkFailureEdge,
  BulkJob,
  BulkJobNotFinishedError,
  BulkJobNotFoundError,
  BulkJobResult,
  BulkPlan,
  BulkSampleFailure,
  BulkVendorPlan,
  BulkSetCustomAttributeResult,
  BulkVendorProgress,
  CancelBulkJobResult,
  NothingToRetryError,
  PageInfo,
  RetryBulkJobResult,
  TooManyUserIdsError,
  errorOf,
} from "../results/bulk-job.type.js";
import { toAttributeValue } from "../results/vendor-profile.result.js";
import { Vendor as VendorEnum } from "../vendor.enum.js";

const MAX_PAGE = 500;

@Resolver(() => BulkJob)
export class BulkResolver {
  @Directive("@authenticated")
  @Directive('@requiresScopes(scopes: [["attributes:bulk"]])')
  @Mutation(() => BulkSetCustomAttributeResult, {
    description:
      "Starts a job that sets one custom attribute value for many users at the targeted vendors, through each vendor's bulk path where it has one. Returns at once; follow it with `attributeBulkJob`.",
  })
  async bulkSetCustomAttribute(
    @Arg("input", () => BulkSetCustomAttributeInput) input: BulkSetCustomAttributeInput,
    @Ctx() context: GraphQLContext,
  ): Promise<typeof BulkSetCustomAttributeResult> {
    const refusal = refuseScope(context.caller, SCOPES.bulk);
    if (refusal) return notAuthorized(refusal, SCOPES.bulk);
    const value = parseValueChoice({ ...input.value }, ["input", "value"], context.limits);
    if (!value.ok) return toInvalidInput(value.problems);
    if (input.dryRun) return planBulk(input, { attribute: input.attribute, value: value.value }, context);
    const result = await whileReachable(() =>
      context.bulk.submit({
        userIds: input.userIds,
        change: { attribute: input.attribute, value: value.value },
        vendors: input.vendors ?? null,
        owner: bulkJobOwner(context.caller),
      }),
    );
    if (result === UNREACHABLE) return sharedStateUnavailable();
    return submitted(result);
  }

  @Directive("@authenticated")
  @Directive('@requiresScopes(scopes: [["attributes:bulk"]])')
  @Mutation(() => RetryBulkJobResult, {
    description:
      "Starts a new bulk job that resends the users who failed in a finished job: by default those whose final error was retryable, or those whose final error has one of `input.codes`, each only at the vendors (of `input.vendors`) where it failed so. Every failed user counts, not only the failures whose details are kept. The new job has the same attribute and value, goes through the same checks as `bulkSetCustomAttribute`, belongs to the caller and links to the job it retries (`retryOf`; the job lists it in `retries`). The job retried must be the caller's own, or any with the attributes:bulk:admin scope; another caller's is answered as an unknown id is.",
  })
  async retryAttributeBulkJob(
    // Declared last-first: the schema lists type-graphql's arguments in reverse, so this reads retryAttributeBulkJob(id, input).
    @Arg("input", () => RetryBulkJobInput, { nullable: true }) input: RetryBulkJobInput | null,
    @Arg("id", () => ID) id: string,
    @Ctx() context: GraphQLContext,
  ): Promise<typeof RetryBulkJobResult> {
    const refusal = refuseScope(context.caller, SCOPES.bulk);
    if (refusal) return notAuthorized(refusal, SCOPES.bulk);
    // Another caller's job is answered exactly as an unknown id: its existence is not revealed.
    const parent = await whileReachable(() => context.bulk.get(id));
    if (parent === UNREACHABLE) return sharedStateUnavailable();
    if (!parent || !mayAccessBulkJob(context.caller, parent.owner)) return jobNotFound(id);
    const result = await whileReachable(() =>
      context.bulk.retryFailures(parent, {
        vendors: input?.vendors ?? null,
        codes: input?.codes ?? null,
        owner: bulkJobOwner(context.caller),
      }),
    );
    if (result === UNREACHABLE) return sharedStateUnavailable();
    switch (result.kind) {
      case "accepted":
      case "invalid":
      case "too-many":
        return submitted(result);
      case "unfinished":
        return errorOf(
          BulkJobNotFinishedError,
          "BULK_JOB_NOT_FINISHED",
          `bulk job ${id} is ${result.status}: only a finished job's failures can be retried; wait for it to finish, or cancel it`,
          { id, status: result.status },
        );
      case "nothing":
        return errorOf(NothingToRetryError, "NOTHING_TO_RETRY", result.message, { id });
    }
  }

  @Directive("@authenticated")
  @Directive('@requiresScopes(scopes: [["attributes:bulk"]])')
  @Query(() => BulkJobResult, {
    description:
      "A bulk job by id: one the caller created, or any with the attributes:bulk:admin scope. Another caller's job is answered as an unknown id is. Finished jobs are kept for a while, then forgotten.",
  })
  async attributeBulkJob(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<typeof BulkJobResult> {
    const refusal = refuseScope(context.caller, SCOPES.bulk);
    if (refusal) return notAuthorized(refusal, SCOPES.bulk);
    const job = await whileReachable(() => context.bulk.get(id));
    if (job === UNREACHABLE) return sharedStateUnavailable();
    return job && mayAccessBulkJob(context.caller, job.owner) ? toBulkJob(job) : jobNotFound(id);
  }

  @Directive("@authenticated")
  @Directive('@requiresScopes(scopes: [["attributes:bulk"]])')
  @Mutation(() => CancelBulkJobResult, {
    description:
      "Stops a job promptly. Users already sent keep their outcome; the rest are counted as cancelled. Only the job's creator, or a caller with the attributes:bulk:admin scope, may; another caller's job is answered as an unknown id is.",
  })
  async cancelAttributeBulkJob(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<typeof CancelBulkJobResult> {
    const refusal = refuseScope(context.caller, SCOPES.bulk);
    if (refusal) return notAuthorized(refusal, SCOPES.bulk);
    // Another caller's job is answered exactly as an unknown id: its existence is not revealed.
    const job = await whileReachable(() => context.bulk.get(id));
    if (job === UNREACHABLE) return sharedStateUnavailable();
    if (!job || !mayAccessBulkJob(context.caller, job.owner)) return jobNotFound(id);
    const cancelled = await whileReachable(() => context.bulk.cancel(id));
    if (cancelled === UNREACHABLE) return sharedStateUnavailable();
    return cancelled ? toBulkJob(cancelled) : jobNotFound(id);
  }

  @FieldResolver(() => BulkFailureConnection)
  async failures(
    @Root() job: BulkJob,
    @Ctx() context: GraphQLContext,
    @Arg("vendor", () => VendorEnum, { nullable: true, description: "Only this vendor's failures; omitted: every vendor's in turn." })
    vendor: string | null,
    @Arg("first", () => Int, { defaultValue: 50, description: `At most ${MAX_PAGE}.` }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
  ): Promise<BulkFailureConnection> {
    const page = await context.bulk
      .failures(job.snapshot, {
        vendor: vendor ?? undefined,
        after: after ? decodeCursor(after) : undefined,
        limit: Math.min(first, MAX_PAGE),
      })
      .catch((error: unknown) => {
        if (error instanceof ForeignPositionError) throw notThisConnection();
        throw error;
      });
    const edges = page.items.map(({ position, failure }) =>
      Object.assign(new BulkFailureEdge(), {
        cursor: encodeCursor(position),
        node: Object.assign(new BulkFailure(), { userId: failure.userId, vendor: failure.vendor, error: toVendorError(failure.failure) }),
      }),
    );
    return Object.assign(new BulkFailureConnection(), {
      totalCount: page.totalCount,
      edges,
      pageInfo: Object.assign(new PageInfo(), { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }),
    });
  }
}

function tooManyUserIds(limit: number, received: number): TooManyUserIdsError {
  return errorOf(TooManyUserIdsError, "TOO_MANY_USER_IDS", `at most ${limit} user ids per call; got ${received}`, { limit, received });
}

/** The one answer for an id the caller cannot see, whether no job has it or another caller's job does. */
function jobNotFound(id: string): BulkJobNotFoundError {
  return errorOf(BulkJobNotFoundError, "BULK_JOB_NOT_FOUND", `no bulk job ${id}`, { id });
}

function toBulkJob(snapshot: BulkJobSnapshot): BulkJob {
  return Object.assign(new BulkJob(), {
    id: snapshot.id,
    status: snapshot.status,
    attribute: snapshot.spec.attribute,
    value: toAttributeValue(snapshot.spec.value),
    progress: snapshot.progress.map(({ failedByCategory, ...p }) =>
      Object.assign(new BulkVendorProgress(), {
        ...p,
        pending: pending(p),
        failuresByCode: FAILURE_CATEGORIES.filter((code) => (failedByCategory[code] ?? 0) > 0).map((code) =>
          Object.assign(new BulkFailureCount(), { code, count: failedByCategory[code] }),
        ),
        failuresTruncated: p.failed > p.failuresKept,
      }),
    ),
    duplicateUserIds: snapshot.duplicateUserIds,
    cancelRequested: snapshot.cancelRequested,
    cancelReason: snapshot.cancelReason ?? null,
    createdAt: snapshot.createdAt,
    startedAt: snapshot.startedAt ?? null,
    finishedAt: snapshot.finishedAt ?? null,
    retryOf: snapshot.retryOf ?? null,
    retries: [...snapshot.retries],
    snapshot,
  });
}

/** Opaque to clients: a kept failure's vendor and index in that vendor's list. */
function encodeCursor(position: FailurePosition): string {
  return Buffer.from(`failure:${position.vendor}:${position.index}`).toString("base64url");
}

function decodeCursor(cursor: string): FailurePosition {
  const match = /^failure:([a-z0-9_-]+):(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw notThisConnection();
  return { vendor: match[1]!, index: Number(match[2]) };
}

function notThisConnection(): GraphQLError {
  return new GraphQLError("`after` is not a cursor from this connection", { extensions: { code: "BAD_USER_INPUT" } });
}

/** A bulk dry run: the same checks as a submission, then the plan (planBulkJob); no job, nothing written. */
async function planBulk(
  input: BulkSetCustomAttributeInput,
  change: BulkChange,
  context: GraphQLContext,
): Promise<typeof BulkSetCustomAttributeResult> {
  const submission = { userIds: input.userIds, change, vendors: input.vendors ?? null };
  if (input.dryRunSampleUsers < 1) {
    return toInvalidInput([{ path: ["input", "dryRunSampleUsers"], message: "show at least one user's requests" }]);
  }
  const prepared = prepareSubmission(submission, {
    vendors: context.vendors,
    limits: context.limits,
    maxUserIds: context.bulk.maxUserIdsPerCall,
  });
  if (prepared.kind === "invalid") return toInvalidInput(prepared.problems);
  if (prepared.kind === "too-many") return tooManyUserIds(prepared.limit, prepared.received);
  const unique = [...new Set(input.userIds)];
  const targets = selectTargets(context.vendors, input.vendors);
  const plans = await planBulkJob(unique, change, targets, writeContextOf(context), {
    sampleUsers: input.dryRunSampleUsers,
    fanOutChunkSize: FAN_OUT_CHUNK_SIZE,
    ...(context.dispatchHooks.onAdapterCrash ? { onAdapterCrash: context.dispatchHooks.onAdapterCrash } : {}),
  });
  return Object.assign(new BulkPlan(), {
    attribute: change.attribute,
    userCount: unique.length,
    duplicateUserIds: input.userIds.length - unique.length,
    vendors: plans.map((plan) =>
      Object.assign(new BulkVendorPlan(), {
        vendor: plan.vendor,
        native: plan.native,
        path: plan.path,
        writes: plan.writes,
        lookups: plan.lookups,
        ratePerSecond: plan.ratePerSecond ?? null,
        estimatedSeconds: plan.estimatedSeconds === undefined ? null : Math.round(plan.estimatedSeconds * 10) / 10,
        sampleUserIds: [...plan.sampleUserIds],
        sampleRequests: plan.sampleRequests.map((request) => toPreviewedRequest(request, context.scrub)),
        sampleFailures: plan.sampleFailures.map(({ userId, failure }) =>
          Object.assign(new BulkSampleFailure(), { userId, error: toVendorError(failure) }),
        ),
      }),
    ),
  });
}

/** A new job, or why none was started: the answer to a submission and to a retry alike. */
function submitted(result: SubmitResult): BulkJob | InvalidInputError | TooManyUserIdsError {
  switch (result.kind) {
    case "accepted":
      return toBulkJob(result.job);
    case "invalid":
      return toInvalidInput(result.problems);
    case "too-many":
      return tooManyUserIds(result.limit, result.received);
  }
}
