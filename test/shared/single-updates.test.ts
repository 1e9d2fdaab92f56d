import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { redisBudgets } from "../../src/pacing/redis-pacer.js";
import { connectRedis, whenReady } from "../../src/redis/connection.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/** Single updates in shared mode take their vendor's rate budget from Redis, and nothing is sent without one. */
describe("single updates when shared mode's Redis is unreachable", () => {
  let redis: TestRedis | undefined;
  let subgraph: TestSubgraph;
  let connection: ReturnType<typeof connectRedis> | undefined;

  beforeAll(async () => {
    redis = await startTestRedis({ persist: true });
    connection = connectRedis({ url: redis.url, keyPrefix: "t" }, "commands", "test");
    await whenReady(connection, 5_000);
    subgraph = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ["1"], rateBudgets: redisBudgets(connection, "t") });
  });
  afterAll(async () => {
    await subgraph.close();
    connection?.disconnect();
    await stopTestRedis(redis);
  });

  const update = () =>
    subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
    });

  it("is refused with AttributesRateLimitedError, nothing sent, and goes through again once Redis is back", async () => {
    expect((await update()).data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorDeliverySuccess");
    const sandbox = subgraph.sandbox("carnival");
    const sent = sandbox.requestCount();
    await redis!.stop("SIGTERM");
    const refused = (await update()).data.updateAttributes.deliveries[0];
    expect(refused).toMatchObject({
      __typename: "AttributesRateLimitedError",
      vendorCode: "RATE_BUDGET_UNAVAILABLE",
      retryable: true,
      retryAfterSeconds: 1,
    });
    expect(refused.message).toMatch(/cannot be reached right now .*nothing was sent/);
    expect(sandbox.requestCount()).toBe(sent);
    await redis!.restart();
    let delivered = false;
    for (let i = 0; i < 100 && !delivered; i++) {
      delivered = (await update()).data.updateAttributes.deliveries[0].__typename === "AttributesVendorDeliverySuccess";
      if (!delivered) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(delivered).toBe(true);
  });
});
