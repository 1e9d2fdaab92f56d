import { Arg, Ctx, Directive, ID, Mutation, Query, Resolver } from "type-graphql";
import { mayAccessDelivery, refuseAnonymous } from "../../auth/caller.js";
import type { DeliveryRecord } from "../../delivery/types.js";
import { UNREACHABLE, whileReachable } from "../../redis/unavailable.js";
import type { GraphQLContext } from "../context.js";
import { notAuthorized, sharedStateUnavailable } from "../errors/error.types.js";
import { toDeliveryResult, toVendorError } from "../errors/to-graphql.js";
import {
  AttributeDelivery,
  AttributeDeliveryAttempt,
  AttributeDeliveryNotFoundError,
  AttributeDeliveryResult,
  CancelAttributeDeliveryResult,
} from "../results/attribute-delivery.type.js";

@Resolver()
export class AttributeDeliveryResolver {
  @Directive("@authenticated")
  @Query(() => AttributeDeliveryResult, {
    description:
      "A delivery queued by updateAttributes (AttributesVendorDeliveryQueued.deliveryId): one the caller queued, or any with the attributes:write:any scope. Another caller's is answered as an unknown id is.",
  })
  async attributeDelivery(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<typeof AttributeDeliveryResult> {
    const refusal = refuseAnonymous(context.caller);
    if (refusal) return notAuthorized(refusal);
    const record = await whileReachable(() => context.deliveries.get(id));
    if (record === UNREACHABLE) return sharedStateUnavailable();
    return record && mayAccessDelivery(context.caller, record.owner) ? toAttributeDelivery(record, context) : deliveryNotFound(id);
  }

  @Directive("@authenticated")
  @Mutation(() => CancelAttributeDeliveryResult, {
    description:
      "Stops a queued delivery: it is never attempted again, and the next update of the same user to the same vendor may go. An attempt in flight is waited for; if the vendor took it, the delivery stays DELIVERED. A settled delivery is answered unchanged. Only the caller that queued it, or one with attributes:write:any, may; another caller's is answered as an unknown id is.",
  })
  async cancelAttributeDelivery(
    @Arg("id", () => ID) id: string,
    @Ctx() context: GraphQLContext,
  ): Promise<typeof CancelAttributeDeliveryResult> {
    const refusal = refuseAnonymous(context.caller);
    if (refusal) return notAuthorized(refusal);
    const found = await whileReachable(() => context.deliveries.get(id));
    if (found === UNREACHABLE) return sharedStateUnavailable();
    if (!found || !mayAccessDelivery(context.caller, found.owner)) return deliveryNotFound(id);
    const cancelled = await whileReachable(() => context.deliveries.cancel(id));
    if (cancelled === UNREACHABLE) return sharedStateUnavailable();
    return cancelled ? toAttributeDelivery(cancelled, context) : deliveryNotFound(id);
  }
}

function deliveryNotFound(id: string): AttributeDeliveryNotFoundError {
  return Object.assign(new AttributeDeliveryNotFoundError(), {
    code: "ATTRIBUTE_DELIVERY_NOT_FOUND" as const,
    message: `no queued delivery ${id} that this caller may see (settled deliveries are kept for a while, then forgotten)`,
    id,
  });
}

export function toAttributeDelivery(record: DeliveryRecord, context: Pick<GraphQLContext, "deliveries">): AttributeDelivery {
  return Object.assign(new AttributeDelivery(), {
    id: record.id,
    vendor: record.vendor,
    userId: record.userId,
    status: record.status,
    reason: record.reason,
    durable: context.deliveries.durable,
    createdAt: new Date(record.createdAt),
    expiresAt: new Date(record.expiresAt),
    nextAttemptAt: record.status === "QUEUED" ? new Date(record.nextAttemptAt) : null,
    finishedAt: record.finishedAt === undefined ? null : new Date(record.finishedAt),
    attempts: record.attempts.map((attempt, i) =>
      Object.assign(new AttributeDeliveryAttempt(), {
        number: i + 1,
        startedAt: new Date(attempt.startedAt),
        durationMs: Math.round(attempt.durationMs * 100) / 100,
        result: attempt.result,
        error: attempt.failure ? toVendorError(attempt.failure) : null,
      }),
    ),
    outcome: record.outcome ? toDeliveryResult(record.outcome) : null,
    note: record.note ?? null,
  });
}
