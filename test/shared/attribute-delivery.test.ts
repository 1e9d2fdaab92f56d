import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { JwtAuthenticator } from "../../src/auth/caller.js";
import { createLogger } from "../../src/logging.js";
import { openSharedState, type SharedState } from "../../src/redis/shared-state.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { DELIVERY_SUBGRAPH, attributeDeliveryTests } from "../support/attribute-deliveries.js";
import { RETRY_SECRET, token } from "../support/bulk-retry.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/**
 * GUARANTEED delivery in shared mode: the queue in a real Redis (durable), its attempts woken by
 * BullMQ and run by the subgraph's worker. The same tests as in process, then Redis unreachable.
 */
describe("attributeDelivery and cancelAttributeDelivery, shared mode", () => {
  let redis: TestRedis | undefined;
  let shared: SharedState;
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    redis = await startTestRedis({ persist: true });
    shared = await openSharedState(
      { url: redis.url, keyPrefix: "deliveries" },
      { logger: createLogger({ level: "silent" }), name: "test" },
    );
    subgraph = await startTestSubgraph({
      ...DELIVERY_SUBGRAPH,
      modules: [carnival],
      authenticator: new JwtAuthenticator({ secret: RETRY_SECRET }),
      shared,
    });
  });
  afterAll(async () => {
    await subgraph?.close();
    await shared?.close();
    await stopTestRedis(redis);
  });

  attributeDeliveryTests(() => subgraph, true);

  it("delivers through a 5 s outage, exactly once each and in order, updates sent before and during it", async () => {
    const me = await token("21", "");
    const sandbox = subgraph.sandbox("carnival");
    const set = (plan: string, delivery: string) => ({
      input: { userId: "21", vendors: ["CARNIVAL"], delivery, operations: [{ op: "SET", attribute: "plan", value: { string: plan } }] },
    });
    const UPDATE = `mutation($input: AttributesUpdateInput!) { updateAttributes(input: $input) { ... on AttributesUpdateSuccess {
      deliveries { __typename ... on AttributesVendorDeliveryQueued { deliveryId reason } } } } }`;
    const send = async (plan: string, delivery: string) =>
      (await subgraph.gql(UPDATE, set(plan, delivery), me)).data.updateAttributes.deliveries[0];
    sandbox.goDown(5);
    const first = await send("v1", "GUARANTEED");
    expect(first).toMatchObject({ __typename: "AttributesVendorDeliveryQueued", reason: "RETRYABLE_FAILURE" });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Newer updates during the outage, SYNC and GUARANTEED: both wait behind the first.
    const second = await send("v2", "SYNC");
    const third = await send("v3", "GUARANTEED");
    expect([second.reason, third.reason]).toEqual(["BEHIND_EARLIER_DELIVERY", "BEHIND_EARLIER_DELIVERY"]);
    const STATUS = `query($id: ID!) { attributeDelivery(id: $id) { ... on AttributeDelivery { status attempts { result } } } }`;
    const settled = async (id: string) => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        const found = (await subgraph.gql(STATUS, { id }, me)).data.attributeDelivery;
        if (found.status !== "QUEUED") return found;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`delivery ${id} still queued`);
    };
    const outcomes = [await settled(first.deliveryId), await settled(second.deliveryId), await settled(third.deliveryId)];
    expect(outcomes.map((o) => o.status)).toEqual(["DELIVERED", "DELIVERED", "DELIVERED"]);
    // The first was retried through the outage (several failed attempts, then one delivered); the others were sent once.
    expect(outcomes[0].attempts.filter((a: { result: string }) => a.result === "FAILED").length).toBeGreaterThan(1);
    expect(outcomes.map((o) => o.attempts.at(-1).result)).toEqual(["DELIVERED", "DELIVERED", "DELIVERED"]);
    const applied = sandbox
      .journal()
      .filter((e) => e.method === "PUT" && e.path.endsWith("/21") && e.status < 300)
      .map((e) => (e.body as { user: { custom: { plan: { value: string } } } }).user.custom.plan.value);
    expect(applied).toEqual(["v1", "v2", "v3"]);
  }, 40_000);

  it("answers AttributesSharedStateUnavailableError, and refuses to send, while Redis cannot be reached", async () => {
    const me = await token("20", "");
    await redis!.stop("SIGTERM");
    try {
      const sent = subgraph.sandbox("carnival").requestCount();
      const got = await subgraph.gql(`{ attributeDelivery(id: "x") { __typename } }`, {}, me);
      expect(got.data.attributeDelivery.__typename).toBe("AttributesSharedStateUnavailableError");
      const queue = await subgraph.gql(`{ attributeVendors { deliveryQueue { depth } } }`, {}, me);
      expect(queue.data.attributeVendors[0].deliveryQueue).toBeNull();
      const update = await subgraph.gql(
        `mutation($input: AttributesUpdateInput!) { updateAttributes(input: $input) { __typename ... on AttributesUpdateSuccess { deliveries { __typename ... on AttributesVendorError { code retryable vendorCode } } } ... on AttributesError { code } } }`,
        {
          input: {
            userId: "20",
            vendors: ["CARNIVAL"],
            delivery: "GUARANTEED",
            operations: [{ op: "SET", attribute: "plan", value: { string: "x" } }],
          },
        },
        me,
      );
      // Without Redis the subgraph cannot check the user's lane (or take a rate budget): nothing is sent.
      expect(JSON.stringify(update.data.updateAttributes)).toMatch(/AttributesSharedStateUnavailableError|"retryable":true/);
      expect(subgraph.sandbox("carnival").requestCount()).toBe(sent);
    } finally {
      await redis!.restart();
    }
    // Back as soon as Redis is: a lookup answers again, and a GUARANTEED update goes through.
    let answer = "";
    for (const deadline = Date.now() + 20_000; answer !== "AttributeDeliveryNotFoundError" && Date.now() < deadline;) {
      answer = (await subgraph.gql(`{ attributeDelivery(id: "x") { __typename } }`, {}, me)).data.attributeDelivery.__typename;
      if (answer !== "AttributeDeliveryNotFoundError") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toBe("AttributeDeliveryNotFoundError");
  });
});
