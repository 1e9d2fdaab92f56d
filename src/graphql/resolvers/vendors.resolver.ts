import { Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import type { VendorQueueStats } from "../../delivery/store.js";
import { UNREACHABLE, whileReachable } from "../../redis/unavailable.js";
import type { GraphQLContext } from "../context.js";
import { VendorDeliveryQueue } from "../results/attribute-delivery.type.js";
import { VendorInfo, toVendorInfo } from "../results/vendor-info.type.js";

/** One read of every vendor's queue per operation, however many vendors it selects. */
const queueStats = new WeakMap<object, Promise<readonly VendorQueueStats[] | typeof UNREACHABLE>>();

@Resolver(() => VendorInfo)
export class VendorsResolver {
  @Query(() => [VendorInfo], { description: "Every vendor this subgraph knows, its mode in this deployment and what it supports." })
  attributeVendors(@Ctx() context: GraphQLContext): VendorInfo[] {
    return context.vendors.map(toVendorInfo);
  }

  @FieldResolver(() => VendorDeliveryQueue, {
    nullable: true,
    description: "The deliveries queued for this vendor in this deployment; null when shared mode's Redis cannot be reached.",
  })
  async deliveryQueue(@Root() info: VendorInfo, @Ctx() context: GraphQLContext): Promise<VendorDeliveryQueue | null> {
    let pending = queueStats.get(context);
    if (!pending) {
      pending = whileReachable(() => context.deliveries.stats());
      queueStats.set(context, pending);
    }
    const stats = await pending;
    if (stats === UNREACHABLE) return null;
    const own = stats.find((s) => s.vendor === info.vendor);
    return Object.assign(new VendorDeliveryQueue(), {
      durable: context.deliveries.durable,
      depth: own?.depth ?? 0,
      oldestQueuedAt: own?.oldestCreatedAt === undefined ? null : new Date(own.oldestCreatedAt),
    });
  }
}
