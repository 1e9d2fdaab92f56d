import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { validateUpdate, type InputProblem, type RawUpdate, type Validated } from "../../domain/command.js";
import { prefixProblems } from "../../domain/options.js";
import type { Vendor } from "../../domain/vendor.js";
import { dispatchUpdate, selectTargets } from "../../domain/dispatch.js";
import type { GraphQLContext } from "../context.js";
import { toDeliveryResult, toInvalidInput } from "../errors/to-graphql.js";
import { UpdateAttributesInput } from "../inputs/update-attributes.input.js";
import { toPlainOptions } from "../inputs/vendor-options.input.js";
import { UpdateAttributesResult, UpdateAttributesSuccess } from "../results/update-attributes.result.js";
import { userReference } from "../user.entity.js";

@Resolver()
export class UpdateAttributesResolver {
  @Mutation(() => UpdateAttributesResult, {
    description:
      "Applies typed attribute operations, profile fields and tags for one user to the targeted vendors. Invalid input fails as a whole before anything is sent; otherwise each vendor answers on its own.",
  })
  async updateAttributes(
    @Arg("input", () => UpdateAttributesInput) input: UpdateAttributesInput,
    @Ctx() context: GraphQLContext,
  ): Promise<typeof UpdateAttributesResult> {
    const validated = validateUpdate(toRawUpdate(input), context.limits);
    const problems: InputProblem[] = validated.ok ? [] : [...validated.problems];
    if (input.vendors?.length === 0) {
      problems.push({ path: ["input", "vendors"], message: "name at least one vendor, or omit the field to target every configured vendor" });
    }
    if (!validated.ok || problems.length > 0) return toInvalidInput(problems);

    const targets = selectTargets(context.vendors, input.vendors);
    const options = parseVendorOptions(input.vendorOptions, targets, context.vendors);
    if (!options.ok) return toInvalidInput(options.problems);
    const outcomes = await dispatchUpdate(
      { ...validated.value, vendorOptions: options.value },
      targets,
      { requestId: context.requestId, scope: context.scope },
      context.dispatchHooks,
    );
    const success = new UpdateAttributesSuccess();
    success.user = userReference(validated.value.userId);
    success.deliveries = outcomes.map(toDeliveryResult);
    success.allDelivered = outcomes.every((outcome) => outcome.ok);
    return success;
  }
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
    const result = vendor.options.parse(toPlainOptions(value) as Record<string, unknown>);
    if (result.ok) parsed[vendorId] = result.value;
    else problems.push(...prefixProblems(result.problems, path));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: parsed };
}

function toRawUpdate(input: UpdateAttributesInput): RawUpdate {
  return {
    userId: input.userId,
    operations: input.operations?.map((op) => ({ op: op.op, attribute: op.attribute, value: op.value ? { ...op.value } : op.value })) ?? null,
    profile: input.profile ? { ...input.profile } : null,
    tags: input.tags ? { add: input.tags.add ?? null, remove: input.tags.remove ?? null } : null,
    createIfMissing: input.createIfMissing ?? null,
  };
}
