import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { JwtAuthenticator } from "../../src/auth/caller.js";
import { createLogger } from "../../src/logging.js";
import { openSharedState, type SharedState } from "../../src/redis/shared-state.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { jiguang } from "../../src/vendors/jiguang/index.js";
import { usercom } from "../../src/vendors/usercom/index.js";
import { RETRY_SECRET, RETRY_SUBGRAPH, retryBulkJobTests, token } from "../support/bulk-retry.js";
import { startTestRedis, stopTestRedis, type TestRedis } from "../support/redis.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

const KEY_PREFIX = "retry";

/**
 * retryAttributeBulkJob in shared mode: jobs in a real Redis, run by the subgraph's BullMQ worker. The same
 * tests as in process (test/support/bulk-retry.ts), then what only shared mode has: the links' keys
 * and their retention, and Redis being unreachable.
 */
describe("retryAttributeBulkJob, shared mode", () => {
  let redis: TestRedis | undefined;
  let shared: SharedState;
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    redis = await startTestRedis({ persist: true });
    shared = await openSharedState({ url: redis.url, keyPrefix: KEY_PREFIX }, { logger: createLogger({ level: "silent" }), name: "test" });
    subgraph = await startTestSubgraph({
      ...RETRY_SUBGRAPH,
      modules: [carnival, jiguang, usercom],
      authenticator: new JwtAuthenticator({ secret: RETRY_SECRET }),
      shared,
      bulk: { ...RETRY_SUBGRAPH.bulk, retentionSeconds: 3_600 },
    });
  });
  afterAll(async () => {
    await subgraph?.close();
    await shared?.close();
    await stopTestRedis(redis);
  });

  retryBulkJobTests(() => subgraph);

  it("keeps a finished job's ids and failure bitmaps with it, and its list of retries as long as the job", async () => {
    const client = redis!.client;
    const jobs = (await client.keys(`${KEY_PREFIX}:bulk:*:job`)).map((key) => /\{(.+)\}/.exec(key)![1]!);
    const withRetries = [];
    for (const id of jobs) if ((await client.llen(`${KEY_PREFIX}:bulk:{${id}}:retries`)) > 0) withRetries.push(id);
    expect(withRetries.length).toBeGreaterThanOrEqual(2);
    for (const id of withRetries) {
      const keys = await client.keys(`${KEY_PREFIX}:bulk:{${id}}:*`);
      const parts = keys.map((key) => key.slice(key.indexOf("}:") + 2));
      expect(parts).toEqual(expect.arrayContaining(["job", "ids", "ends", "retries"]));
      expect(parts.some((part) => part.startsWith("fb:"))).toBe(true);
      // Every key goes with the job, the list of retries included.
      const jobTtl = await client.ttl(`${KEY_PREFIX}:bulk:{${id}}:job`);
      expect(jobTtl).toBeGreaterThan(3_500);
      for (const [i, key] of keys.entries()) {
        const ttl = await client.ttl(key);
        expect({ part: parts[i], near: ttl > jobTtl - 60 && ttl <= jobTtl }).toEqual({ part: parts[i], near: true });
      }
      for (const child of await client.lrange(`${KEY_PREFIX}:bulk:{${id}}:retries`, 0, -1)) {
        expect(await client.hget(`${KEY_PREFIX}:bulk:{${child}}:job`, "retryOf")).toBe(id);
      }
    }
    // Every job has finished: no selection, settled bitmap or chunk state is left.
    const transient = await client.keys(`${KEY_PREFIX}:bulk:*`);
    expect(transient.filter((key) => /\}:(sel|done|chunks):/.test(key))).toEqual([]);
  });

  it("answers AttributesSharedStateUnavailableError while Redis is unreachable, starting nothing", async () => {
    const RETRY = `mutation($id: ID!) { retryAttributeBulkJob(id: $id) { __typename ... on AttributesSharedStateUnavailableError { code retryAfterSeconds } } }`;
    const alice = await token("alice", "attributes:bulk");
    await redis!.stop("SIGTERM");
    try {
      const answer = await subgraph.gql(RETRY, { id: "00000000-0000-4000-8000-000000000000" }, alice);
      expect(answer.data.retryAttributeBulkJob).toEqual({
        __typename: "AttributesSharedStateUnavailableError",
        code: "SHARED_STATE_UNAVAILABLE",
        retryAfterSeconds: 1,
      });
    } finally {
      await redis!.restart();
    }
    // Back: the same call reaches the store again (an unknown id).
    let typename = "";
    for (let i = 0; i < 100 && typename !== "AttributesBulkJobNotFoundError"; i++) {
      typename = (await subgraph.gql(RETRY, { id: "00000000-0000-4000-8000-000000000000" }, alice)).data.retryAttributeBulkJob.__typename;
      if (typename !== "AttributesBulkJobNotFoundError") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(typename).toBe("AttributesBulkJobNotFoundError");
  });
});
