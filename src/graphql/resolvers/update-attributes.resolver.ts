import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import { validateUpdate, type InputProblem, type RawUpdate } from "../../domain/command.js";
import { dispatchUpdate, selectTargets } from "../../domain/dispatch.js";
import type { GraphQLContext } from "../context.js";
import { toDeliveryResult, toInvalidInput } from "../errors/to-graphql.js";
import { UpdateAttributesInput } from "../inputs/update-attributes.input.js";
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
    const outcomes = await dispatchUpdate(
      { ...validated.value, vendorOptions: {} },
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

function toRawUpdate(input: UpdateAttributesInput): RawUpdate {
  return {
    userId: input.userId,
    operations: input.operations?.map((op) => ({ op: op.op, attribute: op.attribute, value: op.value ? { ...op.value } : op.value })) ?? null,
    profile: input.profile ? { ...input.profile } : null,
    tags: input.tags ? { add: input.tags.add ?? null, remove: input.tags.remove ?? null } : null,
    createIfMissing: input.createIfMissing ?? null,
  };
}
