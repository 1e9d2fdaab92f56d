import { Arg, Ctx, Directive, Mutation, Resolver } from "type-graphql";
import { deliveryOwner, refuseUserAccess } from "../../auth/caller.js";
import { validateUpdate, type InputProblem, type RawUpdate, type UpdateCommand, type Validated } from "../../domain/command.js";
import { deliverOne, selectTargets } from "../../domain/dispatch.js";
import { isQueued, type DeliveryMode, type UpdateOutcome } from "../../delivery/types.js";
import { prefixProblems } from "../../domain/options.js";
import type { PreviewedRequest, Vendor } from "../../domain/vendor.js";
import { fingerprint, scopedKey } from "../../reliability/idempotency.js";
import { mayResend } from "../../domain/results.js";
import { writeContextOf, type GraphQLContext, type StoredUpdate } from "../context.js";
import { isRedisUnreachable } from "../../redis/unavailable.js";
import {
  sharedStateUnavailable,
  IdempotencyKeyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyStoreFullError,
  notAuthorized,
} from "../errors/error.types.js";
import { toDeliveryResult, toInvalidInput, toPreviewedRequest, toVendorError } from "../errors/to-graphql.js";
import { UpdateAttributesInput } from "../inputs/update-attributes.input.js";
import { UpdateAttributesResult, UpdateAttributesSuccess } from "../results/update-attributes.result.js";
import { DeliveryWarning, VendorDeliveryPreview } from "../results/vendor-delivery.result.js";
import { userReference } from "../user.entity.js";

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

@Resolver()
export class UpdateAttributesResolver {
  @Directive("@authenticated")
  @Mutation(() => UpdateAttributesResult, {
    description:
      "Applies typed attribute operations, profile fields and tags for one user to the targeted vendors. Invalid input fails as a whole before anything is sent; otherwise each vendor answers on its own. A caller may update only its own user unless it holds attributes:write:any.",
  })
  async updateAttributes(
    @Arg("input", () => UpdateAttributesInput) input: UpdateAttributesInput,
    @Ctx() context: GraphQLContext,
  ): Promise<typeof UpdateAttributesResult> {
    const refusal = refuseUserAccess(context.caller, input.userId);
    if (refusal) return notAuthorized(refusal, "attributes:write:any");

    const validated = validateUpdate(toRawUpdate(input), context.limits);
    const problems: InputProblem[] = validated.ok ? [] : [...validated.problems];
    if (input.vendors?.length === 0) {
      problems.push({
        path: ["input", "vendors"],
        message: "name at least one vendor, or omit the field to target every configured vendor",
      });
    }
    const key = input.idempotencyKey ?? undefined;
    if (key !== undefined && input.dryRun) {
      problems.push({
        path: ["input", "idempotencyKey"],
        message: "a dry run sends nothing and is not remembered: leave idempotencyKey out",
      });
    } else if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      problems.push({ path: ["input", "idempotencyKey"], message: `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` });
    }
    if (!validated.ok || problems.length > 0) return toInvalidInput(problems);

    const targets = selectTargets(context.vendors, input.vendors);
    const options = parseVendorOptions(input.vendorOptions, targets, context.vendors);
    if (!options.ok) return toInvalidInput(options.problems);
    const neutral = validated.value;
    if (
      neutral.operations.length === 0 &&
      Object.keys(neutral.profile).length === 0 &&
      neutral.tags.add.length + neutral.tags.remove.length === 0
    ) {
      const idle = targets.filter((t) => options.value[t.id] === undefined);
      if (idle.length > 0) {
        return toInvalidInput([
          {
            path: ["input", "vendors"],
            message: `only vendor options were given, so ${idle.map((t) => t.displayName).join(", ")} would have nothing to do; name the vendors whose options you give`,
          },
        ]);
      }
    }
    const command: UpdateCommand = { ...validated.value, vendorOptions: options.value };
    if (input.dryRun) return dryRun(command, targets, context);
    const mode = input.delivery;
    const send = (to: readonly Vendor[]): Promise<UpdateOutcome[]> =>
      context.deliveries.deliver({
        command,
        targets: to,
        mode,
        owner: deliveryOwner(context.caller),
        context: writeContextOf(context),
        hooks: context.dispatchHooks,
      });

    if (key === undefined) return toSuccess(command.userId, await send(targets), []);
    try {
      return await this.withIdempotencyKey(context, key, { command, targets, mode }, send);
    } catch (error) {
      // Shared mode's key store unreachable before anything was sent: a key that cannot be
      // checked cannot protect the call, so nothing is sent (a failure to record after sending
      // is handled where it happens, and the caller gets its outcomes).
      if (isRedisUnreachable(error)) return sharedStateUnavailable();
      throw error;
    }
  }

  /**
   * The update under an idempotency key. Only final outcomes are replayed: a vendor whose stored
   * outcome certainly was not applied (see mayResend) is sent again by a repeat, while vendors that
   * succeeded (or may have applied it) answer their stored outcome.
   */
  private async withIdempotencyKey(
    context: GraphQLContext,
    key: string,
    update: { readonly command: UpdateCommand; readonly targets: readonly Vendor[]; readonly mode: DeliveryMode },
    send: (to: readonly Vendor[]) => Promise<UpdateOutcome[]>,
  ): Promise<typeof UpdateAttributesResult> {
    const { command, targets } = update;
    const storeKey = scopedKey(command.userId, key);
    // The mode is part of the input: the same key with the other mode is another update.
    const print = fingerprint({ command, targets: targets.map((t) => t.id), ...(update.mode === "SYNC" ? {} : { mode: update.mode }) });
    let begin = await context.idempotency.begin(storeKey, print);
    // A few rounds at most: a concurrent first call that crashes releases the key, a concurrent repeat takes it.
    for (let round = 0; round < MAX_IDEMPOTENCY_ROUNDS; round++) {
      switch (begin.kind) {
        case "conflict":
          return Object.assign(new IdempotencyKeyReusedError(), {
            code: "IDEMPOTENCY_KEY_REUSED" as const,
            message: "this idempotency key was already used with a different input; use a new key for a new update",
            idempotencyKey: key,
          });
        case "full":
          return Object.assign(new IdempotencyStoreFullError(), {
            code: "IDEMPOTENCY_STORE_FULL" as const,
            message: `this subgraph holds as many idempotency keys as it may (IDEMPOTENCY_MAX_KEYS) and forgets none before its window ends; nothing was sent. Try again in ${begin.retryAfterSeconds} s, or without a key`,
            retryAfterSeconds: begin.retryAfterSeconds,
          });
        case "in-progress":
          return Object.assign(new IdempotencyKeyInProgressError(), {
            code: "IDEMPOTENCY_KEY_IN_PROGRESS" as const,
            message: begin.holderLost
              ? `the call holding this idempotency key stopped without recording its outcome (its replica was lost or cut off from the shared store): what it sent is unknown, so nothing was sent again. Read the attributes back and use a new key to send again; this key gives the same answer until its window ends in ${begin.retryAfterSeconds} s`
              : `a call with this idempotency key and input is still in progress (on another replica); nothing was sent. Ask again in ${begin.retryAfterSeconds} s for its outcome`,
            idempotencyKey: key,
            outcomeUnknown: begin.holderLost,
            retryAfterSeconds: begin.retryAfterSeconds,
          });
        case "replay": {
          let stored: StoredUpdate;
          try {
            stored = await begin.result;
          } catch {
            begin = await context.idempotency.begin(storeKey, print); // the first call crashed: the key is free again
            continue;
          }
          if (!stored.outcomes.some(mayResend))
            return toSuccess(
              stored.userId,
              stored.outcomes,
              targets.map((t) => t.id),
            );
          begin = await begin.retake();
          continue;
        }
        case "first": {
          const previous = begin.previous?.outcomes;
          const resend = previous ? targets.filter((_, index) => mayResend(previous[index]!)) : targets;
          let fresh: UpdateOutcome[];
          try {
            fresh = await send(resend);
          } catch (error) {
            await begin.abandon();
            throw error;
          }
          const outcomes = previous
            ? targets.map((t, index) => (resend.includes(t) ? fresh[resend.indexOf(t)]! : previous[index]!))
            : fresh;
          // Once sent, the key is never abandoned: freeing it would let a repeat send again what may
          // have been applied. If recording fails, the caller still gets the outcomes, and repeats
          // are told the outcome is unknown (a shared store's lease ends without a result).
          await begin.complete({ userId: command.userId, outcomes }).catch(() => undefined);
          return toSuccess(
            command.userId,
            outcomes,
            targets.filter((t) => !resend.includes(t)).map((t) => t.id),
          );
        }
      }
    }
    throw new Error(`idempotency key still contended after ${MAX_IDEMPOTENCY_ROUNDS} rounds`);
  }
}

const MAX_IDEMPOTENCY_ROUNDS = 5;

/**
 * A dry run: each vendor runs its checks and mappings with writes recorded instead of sent (see
 * CallContext.dryRun), outside the delivery queue, so nothing is queued, ordered or remembered.
 */
async function dryRun(command: UpdateCommand, targets: readonly Vendor[], context: GraphQLContext): Promise<UpdateAttributesSuccess> {
  const deliveries = await Promise.all(
    targets.map(async (vendor) => {
      const requests: PreviewedRequest[] = [];
      const outcome = await deliverOne(
        vendor,
        command,
        { ...writeContextOf(context), dryRun: { record: (request) => requests.push(request) } },
        // Not a delivery: not counted or logged as one.
        context.dispatchHooks.onAdapterCrash ? { onAdapterCrash: context.dispatchHooks.onAdapterCrash } : {},
      );
      return outcome.ok ? toPreview(vendor.id, requests, outcome.warnings, context.scrub) : toVendorError(outcome.failure);
    }),
  );
  const success = new UpdateAttributesSuccess();
  success.user = userReference(command.userId);
  success.deliveries = deliveries;
  success.allDelivered = false;
  success.replayed = false;
  success.replayedVendors = [];
  return success;
}

function toPreview(
  vendor: string,
  requests: readonly PreviewedRequest[],
  warnings: ReadonlyArray<{ code: string; message: string; attribute?: string }>,
  scrub: (text: string) => string,
): VendorDeliveryPreview {
  return Object.assign(new VendorDeliveryPreview(), {
    vendor,
    requests: requests.map((request) => toPreviewedRequest(request, scrub)),
    warnings: warnings.map((w) => Object.assign(new DeliveryWarning(), { ...w, attribute: w.attribute ?? null })),
  });
}

function toSuccess(userId: string, outcomes: readonly UpdateOutcome[], replayedVendors: readonly string[]): UpdateAttributesSuccess {
  const success = new UpdateAttributesSuccess();
  success.user = userReference(userId);
  success.deliveries = outcomes.map(toDeliveryResult);
  success.allDelivered = outcomes.every((outcome) => !isQueued(outcome) && outcome.ok);
  success.replayed = replayedVendors.length > 0;
  success.replayedVendors = [...replayedVendors];
  return success;
}

/** Each targeted vendor parses its own options; options for an untargeted vendor would be ignored, so they are refused. */
function parseVendorOptions(
  raw: Record<string, unknown> | null | undefined,
  targets: readonly Vendor[],
  all: readonly Vendor[],
): Validated<Record<string, unknown>> {
  const parsed: Record<string, unknown> = {};
  const problems: InputProblem[] = [];
  for (const [vendorId, value] of Object.entries(raw ?? {})) {
    if (value === null || value === undefined) continue;
    const path = ["input", "vendorOptions", vendorId];
    const vendor = targets.find((v) => v.id === vendorId);
    if (!vendor) {
      const known = all.some((v) => v.id === vendorId);
      problems.push({ path, message: known ? `options given for ${vendorId}, which this call does not target` : "unknown vendor" });
      continue;
    }
    if (!vendor.options) {
      problems.push({ path, message: `${vendor.displayName} takes no options` });
      continue;
    }
    const result = vendor.options.parse(value as Record<string, unknown>);
    if (result.ok) parsed[vendorId] = result.value;
    else problems.push(...prefixProblems(result.problems, path));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: parsed };
}

function toRawUpdate(input: UpdateAttributesInput): RawUpdate {
  return {
    userId: input.userId,
    operations:
      input.operations?.map((op) => ({ op: op.op, attribute: op.attribute, value: op.value ? { ...op.value } : op.value })) ?? null,
    profile: input.profile ? { ...input.profile } : null,
    tags: input.tags ? { add: input.tags.add ?? null, remove: input.tags.remove ?? null } : null,
    createIfMissing: input.createIfMissing ?? null,
    hasVendorOptions: Object.values(input.vendorOptions ?? {}).some((v) => v !== null && v !== undefined),
  };
}
