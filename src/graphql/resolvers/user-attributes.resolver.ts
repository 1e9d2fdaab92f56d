import { Arg, Ctx, Directive, FieldResolver, Resolver, Root } from "type-graphql";
import { refuseUserAccess } from "../../auth/caller.js";
import { notAuthorized } from "../errors/error.types.js";
import { selectTargets } from "../../domain/dispatch.js";
import { vendorFailure } from "../../domain/failures.js";
import type { GraphQLContext } from "../context.js";
import { toVendorError } from "../errors/to-graphql.js";
import { profileLoader } from "../loaders/profile.loader.js";
import { VendorProfile, VendorProfileResult, toAttributeValue, toProfileFields, AttributeEntry } from "../results/vendor-profile.result.js";
import { DeliveryWarning } from "../results/vendor-delivery.result.js";
import { User } from "../user.entity.js";
import { Vendor as VendorEnum } from "../vendor.enum.js";

@Resolver(() => User)
export class UserAttributesResolver {
  @Directive("@authenticated")
  @FieldResolver(() => [VendorProfileResult], {
    description:
      "The user's attributes as each vendor holds them (default: every configured vendor), one result per vendor. Readable by the user itself or a caller with attributes:write:any. Values come back in the neutral types; vendor quirks (such as booleans stored as text) are normalized and listed in `notes`.",
  })
  async attributeProfiles(
    @Root() user: User,
    @Arg("vendors", () => [VendorEnum], { nullable: true }) vendors: string[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Array<typeof VendorProfileResult>> {
    const targets = selectTargets(context.vendors, vendors);
    const refusal = refuseUserAccess(context.caller, user.id);
    if (refusal) return targets.map(() => notAuthorized(refusal, "attributes:write:any"));
    const callContext = { requestId: context.requestId, scope: context.scope };
    return Promise.all(
      targets.map(async (vendor) => {
        if (!vendor.adapter) {
          return toVendorError(
            vendorFailure("VENDOR_NOT_CONFIGURED", vendor.id, `${vendor.displayName} is not configured in this deployment`),
          );
        }
        if (!vendor.capabilities.readProfile || !vendor.adapter.readProfiles) {
          return toVendorError(
            vendorFailure("UNSUPPORTED_OPERATION", vendor.id, `${vendor.displayName} has no endpoint to read a user's attributes`),
          );
        }
        const outcome = await profileLoader(vendor, callContext).load(user.id);
        if (!outcome.ok) return toVendorError(outcome.failure);
        const { profile } = outcome;
        return Object.assign(new VendorProfile(), {
          vendor: vendor.id,
          attributes: profile.attributes.map((a) =>
            Object.assign(new AttributeEntry(), { name: a.name, value: a.value ? toAttributeValue(a.value) : null }),
          ),
          profile: toProfileFields(profile.profile),
          tags: [...profile.tags],
          notes: profile.notes.map((n) => Object.assign(new DeliveryWarning(), { ...n, attribute: n.attribute ?? null })),
        });
      }),
    );
  }
}
