import { expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { token } from "./bulk-retry.js";
import type { TestSubgraph } from "./subgraph.js";

/**
 * GUARANTEED delivery through GraphQL, the same whichever queue holds it:
 * test/graphql/attribute-delivery.test.ts runs it in process, test/shared/attribute-delivery.test.ts
 * on a real Redis. The subgraph has Carnival on its sandbox (users 1–30), JWT authorization with
 * bulk-retry's secret, no HTTP retry, and delivery retries every 50–200 ms.
 */
export const DELIVERY_SUBGRAPH = {
  sandboxUserIds: Array.from({ length: 30 }, (_, i) => String(i + 1)),
  retry: { limit: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
  delivery: { baseDelayMs: 50, maxDelayMs: 200 },
} as const;

const UPDATE = `mutation Update($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on AttributesUpdateSuccess {
      allDelivered replayed
      deliveries {
        __typename
        ... on AttributesVendorDeliverySuccess { vendor }
        ... on AttributesVendorDeliveryQueued { vendor deliveryId reason attempts nextAttemptAt expiresAt queuedBehind durable lastError { __typename code retryable } }
        ... on AttributesVendorError { vendor code retryable vendorCode }
      }
    }
    ... on AttributesError { code message }
  }
}`;

const DELIVERY_FIELDS = `id vendor userId status reason durable createdAt expiresAt nextAttemptAt finishedAt note
  attempts { number startedAt durationMs result error { __typename code httpStatus retryable } }
  outcome { __typename ... on AttributesVendorDeliverySuccess { vendor httpStatus } ... on AttributesVendorError { code } }`;

const GET = `query Get($id: ID!) {
  attributeDelivery(id: $id) {
    __typename
    ... on AttributeDelivery { ${DELIVERY_FIELDS} }
    ... on AttributeDeliveryNotFoundError { code id message }
    ... on AttributesError { code message }
  }
}`;

const CANCEL = `mutation Cancel($id: ID!) {
  cancelAttributeDelivery(id: $id) {
    __typename
    ... on AttributeDelivery { ${DELIVERY_FIELDS} }
    ... on AttributeDeliveryNotFoundError { code id message }
    ... on AttributesError { code message }
  }
}`;

const QUEUE = `{ attributeVendors { vendor deliveryQueue { durable depth oldestQueuedAt } } }`;

type Headers = Record<string, string>;

const setPlan = (userId: string, plan: string, extra: Record<string, unknown> = {}) => ({
  input: { userId, vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: plan } }], ...extra },
});

export function attributeDeliveryTests(current: () => TestSubgraph, durable: boolean): void {
  const sandbox = () => current().sandbox<CarnivalSandbox>("carnival");
  const plan = (userId: string) => sandbox().devices(userId)?.[0]?.plan?.value;
  const writesFor = (userId: string) =>
    sandbox()
      .journal()
      .filter((e) => e.method === "PUT" && e.path.endsWith(`/${userId}`));
  const admin = () => token("ops", "attributes:write:any");
  const update = async (variables: Record<string, unknown>, headers: Headers) =>
    (await current().gql(UPDATE, variables, headers)).data.updateAttributes;
  const get = async (id: string, headers: Headers) => (await current().gql(GET, { id }, headers)).data.attributeDelivery;
  const settled = async (id: string, headers: Headers) => {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const found = await get(id, headers);
      if (found.status !== "QUEUED") return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`delivery ${id} still queued after 20 s`);
  };

  it("queues a GUARANTEED update the vendor could not take, and delivers it once the vendor is back", async () => {
    const me = await token("7", "");
    sandbox().goDown(0.6);
    const answer = await update(setPlan("7", "gold", { delivery: "GUARANTEED" }), me);
    expect(answer).toMatchObject({ __typename: "AttributesUpdateSuccess", allDelivered: false, replayed: false });
    const queued = answer.deliveries[0];
    expect(queued).toMatchObject({
      __typename: "AttributesVendorDeliveryQueued",
      vendor: "CARNIVAL",
      reason: "RETRYABLE_FAILURE",
      attempts: 1,
      queuedBehind: null,
      durable,
      lastError: { __typename: "AttributesVendorUnavailableError", code: "VENDOR_UNAVAILABLE", retryable: true },
    });
    expect(Date.parse(queued.nextAttemptAt)).toBeLessThan(Date.parse(queued.expiresAt));

    const whileQueued = await get(queued.deliveryId, me);
    expect(whileQueued).toMatchObject({ __typename: "AttributeDelivery", userId: "7", vendor: "CARNIVAL", durable });
    expect(whileQueued.attempts[0]).toMatchObject({ number: 1, result: "FAILED", error: { httpStatus: 503 } });

    const done = await settled(queued.deliveryId, me);
    expect(done).toMatchObject({
      status: "DELIVERED",
      outcome: { __typename: "AttributesVendorDeliverySuccess", vendor: "CARNIVAL" },
      nextAttemptAt: null,
    });
    expect(done.attempts.at(-1)).toMatchObject({ result: "DELIVERED", error: null });
    expect(done.attempts.slice(0, -1).every((a: { result: string }) => a.result === "FAILED")).toBe(true);
    expect(plan("7")).toBe("gold");
    // Exactly one write the vendor applied: every other one was refused by the outage.
    expect(writesFor("7").filter((e) => e.status < 300)).toHaveLength(1);
  });

  it("answers SYNC as before: the failure, nothing queued", async () => {
    const me = await token("8", "");
    sandbox().goDown(0.3);
    const answer = await update(setPlan("8", "silver"), me);
    expect(answer.deliveries[0]).toMatchObject({ __typename: "AttributesVendorUnavailableError", retryable: true });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(plan("8")).not.toBe("silver");
  });

  it("queues a later update of the same user behind the queued one, in order; other users are not held up", async () => {
    const me = await token("9", "");
    // Only user 9's writes fail, three times (its first attempt and two retries).
    sandbox().injectFault({ kind: "status", status: 503 }, { count: 3, match: (r) => r.method === "PUT" && r.path.endsWith("/9") });
    const first = (await update(setPlan("9", "first", { delivery: "GUARANTEED" }), me)).deliveries[0];
    expect(first.__typename).toBe("AttributesVendorDeliveryQueued");
    const sent = writesFor("9").length;
    // A SYNC update: it must not overtake the queued one, so it is queued behind it, not sent.
    const second = (await update(setPlan("9", "second"), me)).deliveries[0];
    expect(second).toMatchObject({
      __typename: "AttributesVendorDeliveryQueued",
      reason: "BEHIND_EARLIER_DELIVERY",
      attempts: 0,
      nextAttemptAt: null,
      queuedBehind: first.deliveryId,
    });
    expect(writesFor("9")).toHaveLength(sent);
    const other = (await update(setPlan("14", "not-held-up"), await token("14", ""))).deliveries[0];
    expect(other).toMatchObject({ __typename: "AttributesVendorDeliverySuccess" });
    expect(plan("14")).toBe("not-held-up");

    const queue = (await current().gql(QUEUE, {}, await admin())).data.attributeVendors.find(
      (v: { vendor: string }) => v.vendor === "CARNIVAL",
    );
    expect(queue.deliveryQueue).toMatchObject({ durable, depth: expect.any(Number) });
    expect(queue.deliveryQueue.depth).toBeGreaterThanOrEqual(2);
    expect(Date.parse(queue.deliveryQueue.oldestQueuedAt)).toBeLessThanOrEqual(Date.now());

    expect((await settled(first.deliveryId, me)).status).toBe("DELIVERED");
    expect((await settled(second.deliveryId, me)).status).toBe("DELIVERED");
    expect(plan("9")).toBe("second");
    const applied = writesFor("9").filter((e) => e.status < 300);
    expect(applied.map((e) => JSON.stringify(e.body))).toEqual([expect.stringContaining("first"), expect.stringContaining("second")]);
  });

  it("cancels a queued delivery: never attempted again, and the one behind it goes", async () => {
    const me = await token("10", "");
    sandbox().goDown(1.5);
    const first = (await update(setPlan("10", "never", { delivery: "GUARANTEED" }), me)).deliveries[0];
    const second = (await update(setPlan("10", "after-cancel"), me)).deliveries[0];
    expect(second.reason).toBe("BEHIND_EARLIER_DELIVERY");

    const cancelled = (await current().gql(CANCEL, { id: first.deliveryId }, me)).data.cancelAttributeDelivery;
    expect(cancelled).toMatchObject({ __typename: "AttributeDelivery", status: "CANCELLED", nextAttemptAt: null });
    expect(cancelled.finishedAt).not.toBeNull();
    // Settled: cancelling again answers it unchanged.
    expect((await current().gql(CANCEL, { id: first.deliveryId }, me)).data.cancelAttributeDelivery).toEqual(cancelled);

    expect((await settled(second.deliveryId, me)).status).toBe("DELIVERED");
    expect(plan("10")).toBe("after-cancel");
    expect(writesFor("10").some((e) => JSON.stringify(e.body).includes("never") && e.status < 300)).toBe(false);
  });

  it("shows a delivery only to the caller that queued it and to attributes:write:any; others get not found", async () => {
    const me = await token("11", "");
    sandbox().goDown(0.4);
    const queued = (await update(setPlan("11", "mine", { delivery: "GUARANTEED" }), me)).deliveries[0];
    const stranger = await token("12", "");
    const notFound = {
      __typename: "AttributeDeliveryNotFoundError",
      code: "ATTRIBUTE_DELIVERY_NOT_FOUND",
      id: queued.deliveryId,
      message: expect.stringContaining("no queued delivery"),
    };
    expect(await get(queued.deliveryId, stranger)).toEqual(notFound);
    expect((await current().gql(CANCEL, { id: queued.deliveryId }, stranger)).data.cancelAttributeDelivery).toEqual(notFound);
    expect((await get(queued.deliveryId, await admin())).__typename).toBe("AttributeDelivery");
    expect(await get(randomUUID(), me)).toMatchObject({ __typename: "AttributeDeliveryNotFoundError" });
    expect(await get(queued.deliveryId, {})).toMatchObject({ __typename: "AttributesNotAuthorizedError" });
    expect((await settled(queued.deliveryId, me)).status).toBe("DELIVERED");
  });

  it("replays a queued answer for the same idempotency key: one delivery, not two", async () => {
    const me = await token("13", "");
    sandbox().goDown(0.5);
    const variables = setPlan("13", "once", { delivery: "GUARANTEED", idempotencyKey: `k-${randomUUID()}` });
    const first = await update(variables, me);
    const again = await update(variables, me);
    expect(again).toMatchObject({ replayed: true, deliveries: [{ deliveryId: first.deliveries[0].deliveryId }] });
    expect((await settled(first.deliveries[0].deliveryId, me)).status).toBe("DELIVERED");
    expect(writesFor("13").filter((e) => e.status < 300)).toHaveLength(1);
  });

  it("does not queue what a retry cannot fix", async () => {
    const me = await token("404", "attributes:write:any");
    const answer = await update(setPlan("404", "x", { delivery: "GUARANTEED" }), me);
    expect(answer.deliveries[0]).toMatchObject({ __typename: "AttributesVendorUserNotFoundError", retryable: false });
  });
}
