import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { BULK_MUTATION, waitForBulkJob } from "../support/bulk.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

const JOB = `query Job($id: ID!, $after: String, $first: Int) {
  attributeBulkJob(id: $id) {
    __typename
    ... on AttributesBulkJob {
    id status startedAt finishedAt cancelRequested
    value { type boolean }
    progress { vendor total succeeded failed cancelled pending }
    failures(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { userId vendor error { __typename code message httpStatus retryable } } }
    }
    }
    ... on AttributesBulkJobNotFoundError { code id }
  }
}`;

const ids = (n: number, prefix = "") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

const JOB_FIELDS = `
  id startedAt finishedAt cancelRequested
  value { type boolean }
  progress { vendor total succeeded failed cancelled pending }
  failures(first: 500) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { userId vendor error { __typename code message httpStatus retryable } } }
  }
`;
const waitForEnd = (subgraph: TestSubgraph, id: string) => waitForBulkJob(subgraph, id, JOB_FIELDS);

describe("bulkSetCustomAttribute through the paced fan-out (Carnival)", () => {
  let subgraph: TestSubgraph;
  let sandbox: CarnivalSandbox;

  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      modules: [carnival],
      sandboxUserIds: ids(10_000),
      // Scaled so 10,000 users take seconds: the adapter paces at 2,000/s, the sandbox refuses beyond 2,400/s.
      env: { CARNIVAL_RATE_LIMIT: "2000" },
      sandboxRateLimits: { carnival: 2400 },
      bulk: { maxUserIds: 20_000 },
    });
    sandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
  });
  afterEach(() => {
    sandbox.clearJournal();
    sandbox.clearFaults();
  });
  afterAll(() => subgraph.close());

  it("completes a 10,000-user job with exact counts, under the pace, with no rate-limit answer", async () => {
    const started = await subgraph.gql(BULK_MUTATION, { input: { userIds: ids(10_000), attribute: "vip", value: { boolean: true } } });
    expect(started.data.bulkSetCustomAttribute).toMatchObject({ __typename: "AttributesBulkJob", duplicateUserIds: 0 });
    expect(["QUEUED", "RUNNING"]).toContain(started.data.bulkSetCustomAttribute.status);
    const job = await waitForEnd(subgraph, started.data.bulkSetCustomAttribute.id);
    expect(job.status).toBe("SUCCEEDED");
    expect(job.progress).toEqual([{ vendor: "CARNIVAL", total: 10_000, succeeded: 10_000, failed: 0, cancelled: 0, pending: 0 }]);
    expect(job.failures.totalCount).toBe(0);
    expect(sandbox.statusCounts()).toEqual({ 202: 10_000 });
    expect(sandbox.devices("9999")![0]!.vip).toEqual({ type: "boolean", value: true });
  });

  it("reports users the vendor refused one by one, with typed errors and pages, while the rest succeed", async () => {
    const users = [...ids(300), ...ids(120, "ghost-")];
    const started = await subgraph.gql(BULK_MUTATION, { input: { userIds: users, attribute: "plan", value: { string: "gold" } } });
    const job = await waitForEnd(subgraph, started.data.bulkSetCustomAttribute.id);
    expect(job.status).toBe("PARTIALLY_FAILED");
    expect(job.progress).toEqual([{ vendor: "CARNIVAL", total: 420, succeeded: 300, failed: 120, cancelled: 0, pending: 0 }]);
    expect(job.failures.totalCount).toBe(120);
    expect(new Set(job.failures.edges.map((e: any) => e.node.userId))).toEqual(new Set(ids(120, "ghost-")));
    expect(job.failures.edges[0].node.error).toEqual({
      __typename: "AttributesVendorUserNotFoundError",
      code: "USER_NOT_FOUND",
      message: expect.any(String),
      httpStatus: 404,
      retryable: false,
    });

    const first = await subgraph.gql(JOB, { id: job.id, first: 50 });
    expect(first.data.attributeBulkJob.failures.pageInfo.hasNextPage).toBe(true);
    const seen: string[] = first.data.attributeBulkJob.failures.edges.map((e: any) => e.node.userId);
    let after = first.data.attributeBulkJob.failures.pageInfo.endCursor;
    while (after) {
      const page = await subgraph.gql(JOB, { id: job.id, first: 50, after });
      seen.push(...page.data.attributeBulkJob.failures.edges.map((e: any) => e.node.userId));
      after = page.data.attributeBulkJob.failures.pageInfo.hasNextPage ? page.data.attributeBulkJob.failures.pageInfo.endCursor : null;
    }
    expect(seen.sort()).toEqual(ids(120, "ghost-").sort());
  });

  it("retries transient failures, and reports the last attempt's error when they persist", async () => {
    sandbox.injectFault({ kind: "status", status: 503 }, { count: 40 });
    sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { count: 10 });
    const recovered = await subgraph.gql(BULK_MUTATION, { input: { userIds: ids(200), attribute: "tier", value: { int: 3 } } });
    const job = await waitForEnd(subgraph, recovered.data.bulkSetCustomAttribute.id);
    expect(job.progress[0]).toMatchObject({ total: 200, succeeded: 200, failed: 0 });
    expect(sandbox.statusCounts()).toEqual({ 202: 200, 503: 40, 429: 10 });

    sandbox.clearJournal();
    // One retry budget per user: BULK_MAX_ATTEMPTS (3) requests in all. The vendor client's own
    // automatic retries are off for bulk work, or the two would multiply (3 × 3 = 9 requests).
    sandbox.injectFault({ kind: "status", status: 500 }, { count: 3, match: (r) => r.path.endsWith("/users/5") });
    const persistent = await subgraph.gql(BULK_MUTATION, { input: { userIds: ids(10), attribute: "tier", value: { int: 4 } } });
    const failed = await waitForEnd(subgraph, persistent.data.bulkSetCustomAttribute.id);
    expect(failed.progress[0]).toMatchObject({ total: 10, succeeded: 9, failed: 1 });
    expect(failed.failures.edges).toEqual([
      expect.objectContaining({
        node: {
          userId: "5",
          vendor: "CARNIVAL",
          error: expect.objectContaining({ __typename: "AttributesVendorUnavailableError", httpStatus: 500, retryable: true }),
        },
      }),
    ]);
    expect(sandbox.journal().filter((e) => e.path.endsWith("/users/5")).length).toBe(3);
  });

  it("stops promptly on cancel, with every user counted once", async () => {
    const slow = await startTestSubgraph({
      modules: [carnival],
      sandboxUserIds: ids(3_000),
      env: { CARNIVAL_RATE_LIMIT: "200" },
      // Headroom over the pace (the sandbox's default is 120/s): a 429 would fail a user and break the counts below.
      sandboxRateLimits: { carnival: 400 },
      // The production default: the cancelled pacer waits must not count as Carnival failing.
      circuit: { failureThreshold: 5, cooldownMs: 30_000 },
    });
    try {
      const started = await slow.gql(BULK_MUTATION, { input: { userIds: ids(3_000), attribute: "vip", value: { boolean: false } } });
      const id = started.data.bulkSetCustomAttribute.id;
      const carnivalSandbox = slow.sandbox<CarnivalSandbox>("carnival");
      while (carnivalSandbox.requestCount() < 100) await new Promise((r) => setTimeout(r, 20));
      const cancelled = await slow.gql(
        `mutation($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename ... on AttributesBulkJob { cancelRequested } } }`,
        {
          id,
        },
      );
      expect(cancelled.data.cancelAttributeBulkJob).toEqual({ __typename: "AttributesBulkJob", cancelRequested: true });
      const job = await waitForEnd(slow, id);
      const sentAtEnd = carnivalSandbox.requestCount();
      expect(job.status).toBe("CANCELLED");
      const [progress] = job.progress;
      expect(progress.succeeded + progress.failed + progress.cancelled).toBe(3_000);
      expect(progress.pending).toBe(0);
      expect(progress.succeeded).toBe(sentAtEnd);
      expect(progress.cancelled).toBeGreaterThan(2_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(carnivalSandbox.requestCount()).toBe(sentAtEnd);
      expect(slow.runtime.breakers.get("carnival")!.current).toBe("closed");
      expect(slow.logLines.filter((line) => line.includes('"circuit":"open"'))).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  it.each([
    ["an automatic HTTP retry", { limit: 2, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 2_000 }],
    ["the engine's own retry", { limit: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 }],
  ])(
    "a cancel while %s waits for the pacer sends nothing more, and the user keeps the failure of the attempt that was sent",
    async (_label, retry) => {
      // At 0.5 calls/s the retry of user 1 waits ~2 s for the pacer: the cancel comes during that wait.
      const slowPace = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ids(1), env: { CARNIVAL_RATE_LIMIT: "0.5" }, retry });
      try {
        const vendor = slowPace.sandbox<CarnivalSandbox>("carnival");
        vendor.injectFault({ kind: "status", status: 503 }, { count: 10 });
        const started = await slowPace.gql(BULK_MUTATION, { input: { userIds: ["1"], attribute: "tier", value: { int: 1 } } });
        const id = started.data.bulkSetCustomAttribute.id as string;
        while (vendor.requestCount() < 1) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 300)); // past any backoff (≤ 50 ms here): the retry now waits on the pacer
        await slowPace.gql(`mutation($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename } }`, { id });
        const ended = await waitForEnd(slowPace, id);
        await new Promise((r) => setTimeout(r, 2_000)); // until the pacer's slot would have come
        expect(vendor.requestCount()).toBe(1);
        expect(ended.progress[0]).toMatchObject({ total: 1, succeeded: 0, failed: 1, cancelled: 0 });
        expect(ended.failures.edges[0].node).toMatchObject({
          userId: "1",
          error: { __typename: "AttributesVendorUnavailableError", httpStatus: 503 },
        });
      } finally {
        await slowPace.close();
      }
    },
  );

  it("a job stopped by a shutdown ends CANCELLED, not SUCCEEDED, with the users it did not send counted cancelled", async () => {
    const stopping = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ids(200), env: { CARNIVAL_RATE_LIMIT: "50" } });
    try {
      const vendor = stopping.sandbox<CarnivalSandbox>("carnival");
      const started = await stopping.gql(BULK_MUTATION, { input: { userIds: ids(200), attribute: "tier", value: { int: 2 } } });
      const id = started.data.bulkSetCustomAttribute.id as string;
      while (vendor.requestCount() < 10) await new Promise((r) => setTimeout(r, 10));
      await stopping.app.bulk.stop();
      const job = (await stopping.app.bulk.get(id))!;
      expect(job.cancelRequested).toBe(false);
      expect(job.status).toBe("CANCELLED");
      expect(job.progress[0]).toMatchObject({ total: 200, succeeded: vendor.requestCount(), failed: 0 });
      expect(job.progress[0]!.cancelled).toBe(200 - vendor.requestCount());
    } finally {
      await stopping.close();
    }
  });

  it("counts a repeated id once and says so", async () => {
    const started = await subgraph.gql(BULK_MUTATION, { input: { userIds: ["1", "2", "1", "1"], attribute: "a", value: { int: 1 } } });
    expect(started.data.bulkSetCustomAttribute.duplicateUserIds).toBe(2);
    const job = await waitForEnd(subgraph, started.data.bulkSetCustomAttribute.id);
    expect(job.progress[0]).toMatchObject({ total: 2, succeeded: 2 });
  });

  it("delivers every id exactly as given, whatever its characters or length", async () => {
    const unusual = ["ü-1", "用户-2", "😀 3", "a/b?c#d", "x".repeat(1_000)];
    for (const id of unusual) sandbox.addUser(id);
    const started = await subgraph.gql(BULK_MUTATION, {
      input: { userIds: [...unusual, "7"], attribute: "vip", value: { boolean: true } },
    });
    const job = await waitForEnd(subgraph, started.data.bulkSetCustomAttribute.id);
    expect(job.status).toBe("SUCCEEDED");
    expect(job.progress[0]).toMatchObject({ total: 6, succeeded: 6 });
    for (const id of [...unusual, "7"]) expect(sandbox.devices(id)![0]!.vip).toEqual({ type: "boolean", value: true });
  });

  it("refuses, before any job exists, a value the vendor would alter for every user", async () => {
    const result = await subgraph.gql(BULK_MUTATION, { input: { userIds: ids(5), attribute: "bio", value: { string: "x".repeat(300) } } });
    expect(result.data.bulkSetCustomAttribute).toMatchObject({
      __typename: "AttributesInvalidInputError",
      path: ["input", "vendors", "carnival"],
    });
    expect(result.data.bulkSetCustomAttribute.message).toMatch(/truncates strings to 255/);
    const unsupported = await subgraph.gql(BULK_MUTATION, {
      input: { userIds: ids(5), attribute: "flags", value: { booleanList: [true] } },
    });
    expect(unsupported.data.bulkSetCustomAttribute.message).toMatch(/does not support SET with a booleanList/);
    expect(sandbox.requestCount()).toBeGreaterThan(0);
    expect(sandbox.journal()).toEqual([]);
  });

  it("answers request-level errors with typed results", async () => {
    const tooMany = await subgraph.gql(BULK_MUTATION, { input: { userIds: ids(20_001), attribute: "a", value: { int: 1 } } });
    expect(tooMany.data.bulkSetCustomAttribute).toEqual({
      __typename: "AttributesTooManyUserIdsError",
      code: "TOO_MANY_USER_IDS",
      limit: 20_000,
      received: 20_001,
      message: "at most 20000 user ids per call; got 20001",
    });
    const empty = await subgraph.gql(BULK_MUTATION, { input: { userIds: [], attribute: "a", value: { int: 1 } } });
    expect(empty.data.bulkSetCustomAttribute).toMatchObject({ __typename: "AttributesInvalidInputError", path: ["input", "userIds"] });
    // A lone surrogate has no UTF-8 form, so no vendor could be sent this id unaltered.
    const loneSurrogate = await subgraph.gql(BULK_MUTATION, { input: { userIds: ["1", "2\ud800"], attribute: "a", value: { int: 1 } } });
    expect(loneSurrogate.data.bulkSetCustomAttribute).toMatchObject({
      __typename: "AttributesInvalidInputError",
      path: ["input", "userIds", "1"],
    });
    expect(loneSurrogate.data.bulkSetCustomAttribute.message).toMatch(/well-formed Unicode/);
    const twoValues = await subgraph.gql(BULK_MUTATION, { input: { userIds: ["1"], attribute: "a", value: { int: 1, boolean: true } } });
    expect(twoValues.data.bulkSetCustomAttribute).toMatchObject({ __typename: "AttributesInvalidInputError", path: ["input", "value"] });
  });

  it("answers unknown job ids", async () => {
    expect((await subgraph.gql(JOB, { id: "nope" })).data.attributeBulkJob).toEqual({
      __typename: "AttributesBulkJobNotFoundError",
      code: "BULK_JOB_NOT_FOUND",
      id: "nope",
    });
    const cancel = await subgraph.gql(
      `mutation { cancelAttributeBulkJob(id: "nope") { __typename ... on AttributesBulkJobNotFoundError { code id } } }`,
    );
    expect(cancel.data.cancelAttributeBulkJob).toEqual({
      __typename: "AttributesBulkJobNotFoundError",
      code: "BULK_JOB_NOT_FOUND",
      id: "nope",
    });
  });
});
