import { Ctx, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../context.js";
import { VendorInfo, toVendorInfo } from "../results/vendor-info.type.js";

@Resolver()
export class VendorsResolver {
  @Query(() => [VendorInfo], { description: "Every vendor this subgraph knows, its mode in this deployment and what it supports." })
  vendors(@Ctx() context: GraphQLContext): VendorInfo[] {
    return context.vendors.map(toVendorInfo);
  }
}
