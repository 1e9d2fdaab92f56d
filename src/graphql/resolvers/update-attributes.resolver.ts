import { Arg, Ctx, Directive, Mutation, Resolver } from "type-graphql";
import { refuseUserAccess } from "../../auth/caller.js";
import { validateUpdate, type InputProblem, type RawUpdate, type UpdateCommand, type Validated } from "../../domain/command.js";
import { dispatchUpdate, selectTargets } from "../../domain/dispatch.js";
import { prefixProblems } from "../../domain/options.js";
import type { Vendor } from "../../domain/vendor.js";
import { fingerprint } from "../../reliability/idempotency.js";
import type { GraphQLContext, StoredUpdate } from "../context.js";
import { IdempotencyKeyReusedError, notAuthorized } from "../errors/error.types.js";
import { toDeliveryResult, toInvalidInput } from "../errors/to-graphql.js";
import { UpdateAttributesInput } from "../inputs/update-attributes.input.js";
import { UpdateAttributesResult, UpdateAttributesSuccess } from "../results/update-attributes.result.js";
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
    if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
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
    const send = async (): Promise<StoredUpdate> => ({
      userId: command.userId,
      outcomes: await dispatchUpdate(command, targets, { requestId: context.requestId, scope: context.scope }, context.dispatchHooks),
    });

    if (key === undefined) return toSuccess(await send(), false);
    const begin = await context.idempotency.begin(
      `${command.userId}\u0000${key}`,
      fingerprint({ command, targets: targets.map((t) => t.id) }),
    );
    if (begin.kind === "conflict") {
      return Object.assign(new IdempotencyKeyReusedError(), {
        code: "IDEMPOTENCY_KEY_REUSED" as const,
        message: "this idempotency key was already used with a different input; use a new key for a new update",
        idempotencyKey: key,
      });
    }
    if (begin.kind === "replay") return toSuccess(await begin.result, true);
    try {
      const stored = await send();
      await begin.complete(stored);
      return toSuccess(stored, false);
    } catch (error) {
      await begin.abandon();
      throw error;
    }
  }
}

function toSuccess(stored: StoredUpdate, replayed: boolean): UpdateAttributesSuccess {
  const success = new UpdateAttributesSuccess();
  success.user = userReference(stored.userId);
  success.deliveries = stored.outcomes.map(toDeliveryResult);
  success.allDelivered = stored.outcomes.every((outcome) => outcome.ok);
  success.replayed = replayed;
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
