import { expect, it } from "@jest/globals";
import { SignJWT } from "jose";
import { randomUUID } from "node:crypto";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import type { JiguangSandbox } from "../../src/vendors/jiguang/sandbox.js";
import { BULK_MUTATION, waitForBulkJob } from "./bulk.js";
import type { TestSubgraph } from "./subgraph.js";

/**
 * retryAttributeBulkJob's behaviour, the same whichever engine runs the jobs: test/bulk/bulk-retry.test.ts
 * runs it in process, test/shared/bulk-retry.test.ts on a real Redis. The subgraph has Carnival,
 * Jiguang and User.com on their sandboxes (users 1–30 everywhere), JWT authorization with
 * RETRY_SECRET, one attempt per user (BULK_MAX_ATTEMPTS 1, no HTTP retry: one injected fault fails
 * one user) and BULK_MAX_FAILURES_KEPT 2, so that more users fail than their details are kept.
 */
export const RETRY_SECRET = "a-test-secret-of-at-least-32-characters!!";
export const RETRY_SUBGRAPH = {
  sandboxUserIds: Array.from({ length: 30 }, (_, i) => String(i + 1)),
  bulk: { maxFailuresKept: 2, maxAttempts: 1 },
  retry: { limit: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
} as const;

export const token = async (sub: string, scope: string) => ({
  authorization: `Bearer ${await new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(RETRY_SECRET))}`,
});

const RETRY = `mutation Retry($id: ID!, $input: AttributesBulkJobRetryInput) {
  retryAttributeBulkJob(id: $id, input: $input) {
    __typename
    ... on AttributesBulkJob { id status retryOf retries progress { vendor total succeeded failed cancelled pending } }
    ... on AttributesBulkJobNotFoundError { code message id }
    ... on AttributesBulkJobNotFinishedError { code message id status }
    ... on AttributesNothingToRetryError { code message id }
    ... on AttributesInvalidInputError { code message path problems { path message } }
    ... on AttributesTooManyUserIdsError { code message limit received }
    ... on AttributesNotAuthorizedError { code message requiredScope }
    ... on AttributesSharedStateUnavailableError { code message retryAfterSeconds }
  }
}`;

const JOB_FIELDS =
  "id retryOf retries progress { vendor total succeeded failed cancelled pending failuresKept failuresTruncated failuresByCode { code count } }";

const ids = (n: number, from = 1) => Array.from({ length: n }, (_, i) => String(from + i));

/** The users each vendor received a write for, sorted. */
function sentTo(subgraph: TestSubgraph): { carnival: string[]; jiguang: string[]; usercom: number } {
  const carnival = subgraph
    .sandbox<CarnivalSandbox>("carnival")
    .journal()
    .filter((e) => e.method === "PUT")
    .map((e) => e.path.split("/").at(-1)!);
  const jiguang = subgraph
    .sandbox<JiguangSandbox>("jiguang")
    .journal()
    .filter((e) => e.path.endsWith("/attribute"))
    .map((e) => String((e.body as { cuid: unknown }).cuid));
  const sort = (list: string[]) => list.sort((a, b) => Number(a) - Number(b));
  return { carnival: sort(carnival), jiguang: sort(jiguang), usercom: subgraph.sandbox("usercom").journal().length };
}

function clearJournals(subgraph: TestSubgraph): void {
  for (const vendor of ["carnival", "jiguang", "usercom"]) subgraph.sandbox(vendor).clearJournal();
}

/** Carnival answers 503 to the next request for each of these users: a retryable failure, once. */
function carnivalUnavailableFor(subgraph: TestSubgraph, users: readonly string[]): void {
  for (const user of users)
    subgraph
      .sandbox<CarnivalSandbox>("carnival")
      .injectFault({ kind: "status", status: 503 }, { count: 1, match: (r) => r.path.endsWith(`/users/${user}`) });
}

/** The tests; `subgraph()` is the suite's subgraph, started in its beforeAll with RETRY_SUBGRAPH's settings. */
export function retryBulkJobTests(subgraph: () => TestSubgraph): void {
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let admin: Record<string, string>;
  const gql = (query: string, variables: Record<string, unknown>, as: Record<string, string>) => subgraph().gql(query, variables, as);
  const retry = async (id: string, input: Record<string, unknown> | undefined, as = alice) => {
    const result = await gql(RETRY, { id, ...(input ? { input } : {}) }, as);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data.retryAttributeBulkJob;
  };
  const finished = (id: string, as = alice) => waitForBulkJob({ ...subgraph(), gql: (q, v) => gql(q, v!, as) }, id, JOB_FIELDS, 30_000);

  /**
   * Alice's job at Carnival and Jiguang: users 1–30 exist at both, users 901–904 at Jiguang only.
   * At Carnival, users 1–3 fail retryably (503) and 901–904 as AttributesVendorUserNotFoundError; Jiguang
   * takes every user.
   */
  let parentId: string;
  let parent: any;
  const start = async (as: Record<string, string>, userIds: string[], vendors = ["CARNIVAL", "JIGUANG"]) => {
    const started = await gql(BULK_MUTATION, { input: { userIds, attribute: "plan", value: { string: "gold" }, vendors } }, as);
    expect(started.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
    return started.data.bulkSetCustomAttribute.id as string;
  };

  it("sets the scene: a job with retryable and other failures at one vendor, none at the other", async () => {
    alice = await token("alice", "attributes:bulk");
    bob = await token("bob", "attributes:bulk");
    admin = await token("ops", "attributes:bulk attributes:bulk:admin");
    for (const user of ids(4, 901)) subgraph().sandbox<JiguangSandbox>("jiguang").addUser(user);
    carnivalUnavailableFor(subgraph(), ["1", "2", "3"]);
    parentId = await start(alice, [...ids(30), ...ids(4, 901)]);
    parent = await finished(parentId);
    expect(parent).toEqual({
      status: "PARTIALLY_FAILED",
      id: parentId,
      retryOf: null,
      retries: [],
      progress: [
        {
          vendor: "CARNIVAL",
          total: 34,
          succeeded: 27,
          failed: 7,
          cancelled: 0,
          pending: 0,
          // More failures than BULK_MAX_FAILURES_KEPT (2): their details are not all kept.
          failuresKept: 2,
          failuresTruncated: true,
          failuresByCode: [
            { code: "USER_NOT_FOUND", count: 4 },
            { code: "VENDOR_UNAVAILABLE", count: 3 },
          ],
        },
        {
          vendor: "JIGUANG",
          total: 34,
          succeeded: 34,
          failed: 0,
          cancelled: 0,
          pending: 0,
          failuresKept: 0,
          failuresTruncated: false,
          failuresByCode: [],
        },
      ],
    });
  });

  it("retrying a bulk job's failures resends only the failed users: by default the retryable ones, at the vendor they failed at", async () => {
    clearJournals(subgraph());
    const started = await retry(parentId, undefined);
    expect(started).toMatchObject({
      __typename: "AttributesBulkJob",
      retryOf: parentId,
      retries: [],
      progress: [{ vendor: "CARNIVAL", total: 3 }],
    });
    const child = await finished(started.id);
    expect(child).toMatchObject({
      status: "SUCCEEDED",
      retryOf: parentId,
      progress: [{ vendor: "CARNIVAL", total: 3, succeeded: 3, failed: 0, cancelled: 0, pending: 0 }],
    });
    // Exactly the users that failed retryably, at Carnival only: nothing to Jiguang, nor anywhere else.
    expect(sentTo(subgraph())).toEqual({ carnival: ["1", "2", "3"], jiguang: [], usercom: 0 });
    // The parent's counts are unchanged, and it lists its retry.
    expect(await finished(parentId)).toEqual({ ...parent, retries: [started.id] });
  });

  it("resends the failures with the error codes named instead, retryable or not, every one of them", async () => {
    clearJournals(subgraph());
    const started = await retry(parentId, { codes: ["USER_NOT_FOUND"] });
    expect(started).toMatchObject({ __typename: "AttributesBulkJob", retryOf: parentId, progress: [{ vendor: "CARNIVAL", total: 4 }] });
    const child = await finished(started.id);
    // They still do not exist at Carnival: the retry fails them again, counted exactly.
    expect(child).toMatchObject({
      status: "FAILED",
      progress: [
        {
          vendor: "CARNIVAL",
          total: 4,
          succeeded: 0,
          failed: 4,
          cancelled: 0,
          pending: 0,
          failuresKept: 2,
          failuresByCode: [{ code: "USER_NOT_FOUND", count: 4 }],
        },
      ],
    });
    expect(sentTo(subgraph())).toEqual({ carnival: ["901", "902", "903", "904"], jiguang: [], usercom: 0 });
    const parentNow = await finished(parentId);
    expect(parentNow.progress).toEqual(parent.progress);
    expect(parentNow.retries).toHaveLength(2);
    expect(parentNow.retries[1]).toBe(started.id);

    // Both codes, and a retry of the retry: it has failures of its own.
    clearJournals(subgraph());
    const both = await finished((await retry(parentId, { codes: ["VENDOR_UNAVAILABLE", "USER_NOT_FOUND"], vendors: ["CARNIVAL"] })).id);
    expect(both.progress).toMatchObject([{ vendor: "CARNIVAL", total: 7, succeeded: 3, failed: 4 }]);
    expect(sentTo(subgraph()).carnival).toEqual([...ids(3), ...ids(4, 901)]);
    const again = await finished((await retry(started.id, { codes: ["USER_NOT_FOUND"] })).id);
    expect(again).toMatchObject({ retryOf: started.id, progress: [{ vendor: "CARNIVAL", total: 4, failed: 4 }] });
  });

  it("resends each user only at the vendors where it failed", async () => {
    // User 5 fails at Carnival, user 6 at Jiguang; every other user lands at both.
    carnivalUnavailableFor(subgraph(), ["5"]);
    subgraph()
      .sandbox<JiguangSandbox>("jiguang")
      .injectFault(
        { kind: "status", status: 503 },
        { count: 1, match: (r) => r.path.endsWith("/attribute") && r.text.includes('"cuid":6,') },
      );
    const id = await start(alice, ids(10));
    const job = await finished(id);
    expect(job.progress.map((p: any) => [p.vendor, p.succeeded, p.failed])).toEqual([
      ["CARNIVAL", 9, 1],
      ["JIGUANG", 9, 1],
    ]);

    clearJournals(subgraph());
    const jiguangOnly = await finished((await retry(id, { vendors: ["JIGUANG"] })).id);
    expect(jiguangOnly.progress).toMatchObject([{ vendor: "JIGUANG", total: 1, succeeded: 1 }]);
    expect(sentTo(subgraph())).toEqual({ carnival: [], jiguang: ["6"], usercom: 0 });

    clearJournals(subgraph());
    const started = await retry(id, undefined);
    const child = await finished(started.id);
    expect(child.status).toBe("SUCCEEDED");
    expect(child.progress).toMatchObject([
      { vendor: "CARNIVAL", total: 1, succeeded: 1, failed: 0, cancelled: 0 },
      { vendor: "JIGUANG", total: 1, succeeded: 1, failed: 0, cancelled: 0 },
    ]);
    expect(sentTo(subgraph())).toEqual({ carnival: ["5"], jiguang: ["6"], usercom: 0 });
    expect((await finished(id)).retries).toEqual([jiguangOnly.id, started.id]);
  });

  it("refuses what it cannot retry, with typed errors, starting nothing", async () => {
    clearJournals(subgraph());
    // Nothing matches: a job without failures, or codes no user failed with.
    const succeeded = (await finished(parentId)).retries[0];
    expect(await retry(succeeded, undefined)).toMatchObject({
      __typename: "AttributesNothingToRetryError",
      code: "NOTHING_TO_RETRY",
      id: succeeded,
    });
    const none = await retry(parentId, { codes: ["PERMISSION_DENIED"] });
    expect(none).toMatchObject({ __typename: "AttributesNothingToRetryError", id: parentId });
    expect(none.message).toMatch(/no failed users whose final error was PERMISSION_DENIED at Carnival, Jiguang/);
    // A vendor the job did not target, and codes that are not vendor failures.
    expect(await retry(parentId, { vendors: ["USERCOM"] })).toMatchObject({
      __typename: "AttributesInvalidInputError",
      path: ["input", "vendors", "0"],
      problems: [{ message: expect.stringMatching(/User\.com is not a vendor of bulk job/) }],
    });
    expect(await retry(parentId, { codes: ["VENDOR_UNAVAILABLE", "INVALID_INPUT"] })).toMatchObject({
      __typename: "AttributesInvalidInputError",
      problems: [{ path: ["input", "codes", "1"], message: expect.stringMatching(/INVALID_INPUT is not the code of a vendor failure/) }],
    });
    expect(await retry(randomUUID(), undefined)).toMatchObject({
      __typename: "AttributesBulkJobNotFoundError",
      code: "BULK_JOB_NOT_FOUND",
    });
    // Another caller's job is answered exactly as an unknown id is.
    const unknown = randomUUID();
    const asUnknown = JSON.stringify(await gql(RETRY, { id: unknown }, bob)).replaceAll(unknown, parentId);
    expect(JSON.stringify(await gql(RETRY, { id: parentId }, bob))).toBe(asUnknown);
    // Without attributes:bulk, nothing is looked up.
    expect(await retry(parentId, undefined, await token("alice", "attributes:write:any"))).toMatchObject({
      __typename: "AttributesNotAuthorizedError",
      requiredScope: "attributes:bulk",
    });
    expect(sentTo(subgraph())).toEqual({ carnival: [], jiguang: [], usercom: 0 });
    expect((await finished(parentId)).retries).toHaveLength(3);
  });

  it("refuses a job that has not finished", async () => {
    const carnival = subgraph().sandbox<CarnivalSandbox>("carnival");
    carnival.setResponseDelay(100);
    try {
      const id = await start(alice, ids(30), ["CARNIVAL"]);
      const refused = await retry(id, undefined);
      expect(refused).toMatchObject({ __typename: "AttributesBulkJobNotFinishedError", code: "BULK_JOB_NOT_FINISHED", id });
      expect(["QUEUED", "RUNNING"]).toContain(refused.status);
      await gql(`mutation($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename } }`, { id }, alice);
      await finished(id);
    } finally {
      carnival.setResponseDelay(0);
    }
  });

  it("lets attributes:bulk:admin retry anyone's job; the retry is the admin's", async () => {
    const started = await retry(parentId, { codes: ["USER_NOT_FOUND"] }, admin);
    expect(started).toMatchObject({ __typename: "AttributesBulkJob", retryOf: parentId });
    await finished(started.id, admin);
    // Alice's job lists it, but it is not hers to see.
    expect((await finished(parentId)).retries.at(-1)).toBe(started.id);
    const seen = await gql(`query($id: ID!) { attributeBulkJob(id: $id) { __typename } }`, { id: started.id }, alice);
    expect(seen.data.attributeBulkJob.__typename).toBe("AttributesBulkJobNotFoundError");
  });
}
