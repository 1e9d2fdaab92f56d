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
