import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { SignJWT } from "jose";
import { randomUUID } from "node:crypto";
import { JwtAuthenticator, mayAccessBulkJob } from "../../src/auth/caller.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { BULK_MUTATION } from "../support/bulk.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

const SECRET = "a-test-secret-of-at-least-32-characters!!";
const as = async (sub: string, scope: string) => ({
  authorization: `Bearer ${await new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET))}`,
});

// Every member with every field, so that "the same answer" compares whole bodies.
const JOB = `query Job($id: ID!) {
  attributeBulkJob(id: $id) {
    __typename
    ... on AttributesBulkJob { id status cancelRequested progress { vendor total succeeded failed cancelled pending } failures(first: 10) { totalCount edges { node { userId } } } }
    ... on AttributesBulkJobNotFoundError { code message id }
    ... on AttributesNotAuthorizedError { code message requiredScope }
  }
}`;
const CANCEL = `mutation Cancel($id: ID!) {
  cancelAttributeBulkJob(id: $id) {
    __typename
    ... on AttributesBulkJob { id status cancelRequested }
    ... on AttributesBulkJobNotFoundError { code message id }
    ... on AttributesNotAuthorizedError { code message requiredScope }
  }
}`;
const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

/**
 * A bulk job belongs to the subject that created it: other holders of attributes:bulk neither read
 * nor cancel it, and learn nothing about its existence; attributes:bulk:admin sees every job.
 */
describe("bulk jobs belong to their creator", () => {
  let subgraph: TestSubgraph;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let admin: Record<string, string>;

  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      modules: [carnival],
      sandboxUserIds: ids(200),
      // 200 users at 20/s: the jobs are still running while the test reads and cancels them.
      env: { CARNIVAL_RATE_LIMIT: "20" },
      authenticator: new JwtAuthenticator({ secret: SECRET }),
    });
    alice = await as("alice", "attributes:bulk");
    bob = await as("bob", "attributes:bulk attributes:write:any");
    admin = await as("ops", "attributes:bulk attributes:bulk:admin");
  });
  afterAll(() => subgraph.close());

  const start = async () => {
    const started = await subgraph.gql(BULK_MUTATION, { input: { userIds: ids(200), attribute: "tier", value: { int: 1 } } }, alice);
    expect(started.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
    return started.data.bulkSetCustomAttribute.id as string;
  };
  /** What a caller gets for an id no job has, with that id swapped for `id`: the answer must be the same, byte for byte. */
  const asIfUnknown = async (query: string, id: string, headers: Record<string, string>) => {
    const unknown = randomUUID();
    const body = JSON.stringify(await subgraph.gql(query, { id: unknown }, headers));
    expect(body).toContain("AttributesBulkJobNotFoundError");
    return body.replaceAll(unknown, id);
  };

  it("answers another subject's attributeBulkJob and cancelAttributeBulkJob exactly as for an unknown id, and leaves the job alone", async () => {
    const id = await start();
    expect(JSON.stringify(await subgraph.gql(JOB, { id }, bob))).toBe(await asIfUnknown(JOB, id, bob));
    expect(JSON.stringify(await subgraph.gql(CANCEL, { id }, bob))).toBe(await asIfUnknown(CANCEL, id, bob));

    const seen = (await subgraph.gql(JOB, { id }, alice)).data.attributeBulkJob;
    expect(seen).toMatchObject({ __typename: "AttributesBulkJob", id, status: "RUNNING", cancelRequested: false });
    expect(seen.progress[0].pending).toBeGreaterThan(0);

    const cancelled = await subgraph.gql(CANCEL, { id }, alice);
    expect(cancelled.data.cancelAttributeBulkJob).toEqual({
      __typename: "AttributesBulkJob",
      id,
      status: expect.any(String),
      cancelRequested: true,
    });
  });

  it("lets attributes:bulk:admin read and cancel anyone's job", async () => {
    const id = await start();
    expect((await subgraph.gql(JOB, { id }, admin)).data.attributeBulkJob).toMatchObject({
      __typename: "AttributesBulkJob",
      id,
      cancelRequested: false,
    });
    const cancelled = await subgraph.gql(CANCEL, { id }, admin);
    expect(cancelled.data.cancelAttributeBulkJob).toMatchObject({ __typename: "AttributesBulkJob", id, cancelRequested: true });
    // Its owner sees the admin's cancel.
    expect((await subgraph.gql(JOB, { id }, alice)).data.attributeBulkJob).toMatchObject({
      __typename: "AttributesBulkJob",
      cancelRequested: true,
    });
  });

  it("still refuses callers without attributes:bulk before looking the job up", async () => {
    const id = await start();
    const noScope = await as("alice", "attributes:write:any");
    expect((await subgraph.gql(JOB, { id }, noScope)).data.attributeBulkJob).toMatchObject({
      __typename: "AttributesNotAuthorizedError",
      requiredScope: "attributes:bulk",
    });
    await subgraph.gql(CANCEL, { id }, alice);
  });
});

describe("who may see a bulk job", () => {
  const caller = (subject: string, ...scopes: string[]) => ({ kind: "authenticated" as const, subject, scopes: new Set(scopes) });

  it("is its owner or an admin; with authorization off, everyone; an anonymous caller, no one", () => {
    expect(mayAccessBulkJob(caller("alice", "attributes:bulk"), "alice")).toBe(true);
    expect(mayAccessBulkJob(caller("bob", "attributes:bulk"), "alice")).toBe(false);
    expect(mayAccessBulkJob(caller("ops", "attributes:bulk", "attributes:bulk:admin"), "alice")).toBe(true);
    // A job created with authorization off has no owner: only admins see it once authorization is on.
    expect(mayAccessBulkJob(caller("alice", "attributes:bulk"), undefined)).toBe(false);
    expect(mayAccessBulkJob(caller("ops", "attributes:bulk:admin"), undefined)).toBe(true);
    expect(mayAccessBulkJob({ kind: "open" }, "alice")).toBe(true);
    expect(mayAccessBulkJob({ kind: "open" }, undefined)).toBe(true);
    expect(mayAccessBulkJob({ kind: "anonymous", problem: "no bearer token" }, undefined)).toBe(false);
  });
});
