import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { usercom } from "../../src/vendors/usercom/index.js";
import { BULK_MUTATION, waitForBulkJob } from "../support/bulk.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

const ids = (n: number, prefix = "") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

const PAGE = `query Failures($id: ID!, $vendor: AttributesVendor, $first: Int, $after: String) {
  attributeBulkJob(id: $id) {
    ... on AttributesBulkJob {
      failures(vendor: $vendor, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { userId vendor error { code } } }
      }
    }
  }
}`;

/**
 * A job keeps every failure counted (in total and by error code) but the details of only the
 * first BULK_MAX_FAILURES_KEPT per vendor, says so, and pages by vendor and across vendors.
 */
describe("bulk failures: counted always, kept up to a cap per vendor", () => {
  let subgraph: TestSubgraph;
  let jobId: string;
  let job: any;

  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      modules: [carnival, usercom],
      sandboxUserIds: ids(20),
      bulk: { maxFailuresKept: 5, maxAttempts: 1 },
      // One HTTP attempt per user, so each injected fault fails exactly one user.
      retry: { limit: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
    });
    // Users 1-3 fail at Carnival as unavailable; the 12 ghosts exist at no vendor.
    for (const user of ["1", "2", "3"]) {
      subgraph
        .sandbox<CarnivalSandbox>("carnival")
        .injectFault({ kind: "status", status: 503 }, { match: (r) => r.path.endsWith(`/users/${user}`) });
    }
    const started = await subgraph.gql(BULK_MUTATION, {
      input: {
        userIds: [...ids(20), ...ids(12, "ghost-")],
        attribute: "plan",
        value: { string: "gold" },
        vendors: ["CARNIVAL", "USERCOM"],
      },
    });
    jobId = started.data.bulkSetCustomAttribute.id;
    job = await waitForBulkJob(
      subgraph,
      jobId,
      "progress { vendor total succeeded failed cancelled failuresKept failuresTruncated failuresByCode { code count } }",
    );
  });
  afterAll(() => subgraph.close());

  const page = async (variables: Record<string, unknown>) => {
    const result = await subgraph.gql(PAGE, { id: jobId, ...variables });
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    const failures = result.data.attributeBulkJob.failures;
    return { ...failures, users: failures.edges.map((e: any) => `${e.node.vendor}:${e.node.userId}`) };
  };

  it("counts every failure by error code, exactly, and says how many were kept", () => {
    expect(job.status).toBe("PARTIALLY_FAILED");
    expect(job.progress).toEqual([
      {
        vendor: "CARNIVAL",
        total: 32,
        succeeded: 17,
        failed: 15,
        cancelled: 0,
        failuresKept: 5,
        failuresTruncated: true,
        failuresByCode: [
          { code: "USER_NOT_FOUND", count: 12 },
          { code: "VENDOR_UNAVAILABLE", count: 3 },
        ],
      },
      {
        vendor: "USERCOM",
        total: 32,
        succeeded: 20,
        failed: 12,
        cancelled: 0,
        failuresKept: 5,
        failuresTruncated: true,
        failuresByCode: [{ code: "USER_NOT_FOUND", count: 12 }],
      },
    ]);
  });

  it("keeps the first failures of each vendor and pages one vendor's", async () => {
    const first = await page({ vendor: "CARNIVAL", first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.users).toEqual(["CARNIVAL:1", "CARNIVAL:2"]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page({ vendor: "CARNIVAL", first: 2, after: first.pageInfo.endCursor });
    expect(second.users).toEqual(["CARNIVAL:3", "CARNIVAL:ghost-1"]);
    expect(second.edges.map((e: any) => e.node.error.code)).toEqual(["VENDOR_UNAVAILABLE", "USER_NOT_FOUND"]);
    const last = await page({ vendor: "CARNIVAL", first: 2, after: second.pageInfo.endCursor });
    expect(last.users).toEqual(["CARNIVAL:ghost-2"]);
    expect(last.pageInfo.hasNextPage).toBe(false);
    expect((await page({ vendor: "USERCOM", first: 50 })).users).toEqual(ids(5, "USERCOM:ghost-"));
  });

  it("pages every vendor's failures in turn, across the vendor boundary", async () => {
    const first = await page({ first: 3 });
    expect(first.totalCount).toBe(10);
    expect(first.users).toEqual(["CARNIVAL:1", "CARNIVAL:2", "CARNIVAL:3"]);
    const second = await page({ first: 3, after: first.pageInfo.endCursor });
    expect(second.users).toEqual(["CARNIVAL:ghost-1", "CARNIVAL:ghost-2", "USERCOM:ghost-1"]);
    expect(second.pageInfo.hasNextPage).toBe(true);
    const rest = await page({ first: 50, after: second.pageInfo.endCursor });
    expect(rest.users).toEqual(["USERCOM:ghost-2", "USERCOM:ghost-3", "USERCOM:ghost-4", "USERCOM:ghost-5"]);
    expect(rest.pageInfo).toEqual({ hasNextPage: false, endCursor: rest.edges[3].cursor });
    // The last item of a vendor: the next page starts at the next vendor.
    const boundary = await page({ first: 5 });
    expect(boundary.pageInfo.hasNextPage).toBe(true);
    expect((await page({ first: 1, after: boundary.pageInfo.endCursor })).users).toEqual(["USERCOM:ghost-1"]);
    expect((await page({ first: 0 })).pageInfo).toEqual({ hasNextPage: true, endCursor: null });
  });

  it("keeps cursors opaque and refuses one from another vendor's view", async () => {
    const carnivalPage = await page({ vendor: "CARNIVAL", first: 1 });
    expect(carnivalPage.pageInfo.endCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const foreign = await subgraph.gql(PAGE, { id: jobId, vendor: "USERCOM", first: 1, after: carnivalPage.pageInfo.endCursor });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const garbage = await subgraph.gql(PAGE, { id: jobId, first: 1, after: "bm90LWEtY3Vyc29y" });
    expect(garbage.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
