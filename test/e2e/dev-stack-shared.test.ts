import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startDevStack, type DevStack } from "../../src/dev/stack.js";
import { createLogger } from "../../src/logging.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";

/** `npm run dev:stack` in shared mode (its own redis-server, or REDIS_URL): a bulk job through the gateway runs on BullMQ. */
describe("dev stack in shared mode", () => {
  let redis: TestRedis | undefined;
  let stack: DevStack | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    stack = await startDevStack({
      env: { SANDBOX_USER_IDS: "1-50", LOG_LEVEL: "warn" },
      host: "127.0.0.1",
      gatewayPort: 0,
      attributesPort: 0,
      usersPort: 0,
      logger: createLogger({ level: "silent" }),
      redis: { url: redis.url, keyPrefix: "dev" },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await stopTestRedis(redis);
  });

  it("keeps a bulk job in Redis and runs it to the end, readable through the gateway", async () => {
    const post = async (query: string, variables: Record<string, unknown>) =>
      (await (
        await fetch(stack!.gateway.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query, variables }),
        })
      ).json()) as { data: any };
    const started = await post(
      `mutation($input: AttributesBulkSetCustomAttributeInput!) { bulkSetCustomAttribute(input: $input) { __typename ... on AttributesBulkJob { id } } }`,
      {
        input: {
          userIds: Array.from({ length: 50 }, (_, i) => String(i + 1)),
          attribute: "plan",
          value: { string: "gold" },
          vendors: ["CARNIVAL"],
        },
      },
    );
    const id = started.data.bulkSetCustomAttribute.id as string;
    expect(await redis!.client.exists(`dev:bulk:{${id}}:job`)).toBe(1);
    let job: any;
    for (let i = 0; i < 600; i++) {
      job = (
        await post(`query($id: ID!) { attributeBulkJob(id: $id) { ... on AttributesBulkJob { status progress { succeeded } } } }`, { id })
      ).data.attributeBulkJob;
      if (!["QUEUED", "RUNNING"].includes(job.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(job).toEqual({ status: "SUCCEEDED", progress: [{ succeeded: 50 }] });
  });
});
