import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { BULK_MUTATION, waitForBulkJob } from "../../../../test/support/bulk.js";
import { startTestSubgraph, type TestSubgraph } from "../../../../test/support/subgraph.js";
import { usercom } from "../index.js";
import type { UserComSandbox } from "../sandbox.js";

const JOB_FIELDS = `
  progress { vendor total succeeded failed cancelled pending }
  failures(first: 100) { totalCount edges { node { userId vendor error { __typename code } } } }
`;

const ids = (n: number, prefix = "u") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** The bulk engine drives User.com through its native path: look-ups, then mass-update chunks. */
describe("bulkSetCustomAttribute through User.com's mass update", () => {
  let subgraph: TestSubgraph;
  let sandbox: UserComSandbox;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      modules: [usercom],
      sandboxUserIds: ids(240),
      env: { USERCOM_RATE_LIMIT: "5000", USERCOM_MASS_UPDATE_CHUNK_SIZE: "50", USERCOM_KNOWN_ATTRIBUTES: "plan:string,logins:integer" },
      sandboxRateLimits: { usercom: 10_000 },
    });
    sandbox = subgraph.sandbox<UserComSandbox>("usercom");
  });
  afterEach(() => sandbox.clearJournal());
  afterAll(() => subgraph.close());

  it("sets the value for every user with exact counts; unknown ids fail alone as AttributesVendorUserNotFoundError", async () => {
    const users = [...ids(240), "ghost-1", "ghost-2"];
    const started = await subgraph.gql(BULK_MUTATION, {
      input: { userIds: users, vendors: ["USERCOM"], attribute: "plan", value: { string: "gold" } },
    });
    expect(started.errors).toBeUndefined();
    expect(started.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
    const job = await waitForBulkJob(subgraph, started.data.bulkSetCustomAttribute.id, JOB_FIELDS);
    expect(job.status).toBe("PARTIALLY_FAILED");
    expect(job.progress).toEqual([{ vendor: "USERCOM", total: 242, succeeded: 240, failed: 2, cancelled: 0, pending: 0 }]);
    const edges = job.failures.edges as Array<{ node: { userId: string; error: { __typename: string } } }>;
    expect(edges.map((e) => [e.node.userId, e.node.error.__typename]).sort()).toEqual([
      ["ghost-1", "AttributesVendorUserNotFoundError"],
      ["ghost-2", "AttributesVendorUserNotFoundError"],
    ]);
    const calls = sandbox.journal();
    expect(calls.filter((c) => c.method === "GET")).toHaveLength(242);
    const chunks = calls.filter((c) => c.path.endsWith("/mass_update_custom_attributes/"));
    expect(chunks.map((c) => (c.body as { ids: number[] }).ids.length)).toEqual([50, 50, 50, 50, 40]);
    expect(sandbox.user("u240")!.attributes).toEqual([{ value: "gold", name: "plan", name_std: "plan", id: expect.any(Number) }]);
  });

  it("a value User.com would refuse for everyone is refused before the job exists (check)", async () => {
    const started = await subgraph.gql(BULK_MUTATION, {
      input: { userIds: ids(3), vendors: ["USERCOM"], attribute: "logins", value: { string: "many" } },
    });
    expect(started.data.bulkSetCustomAttribute).toEqual({
      __typename: "AttributesInvalidInputError",
      message: expect.any(String),
      path: ["input", "vendors", "usercom"],
      problems: [
        {
          path: ["input", "vendors", "usercom"],
          message: 'User.com\'s attribute "logins" is of type integer; it takes an int, got string',
        },
      ],
    });
    expect(sandbox.journal()).toEqual([]);
  });

  it("a cancel part-way through a chunk counts the users whose mass update was sent as succeeded, and only the rest as cancelled", async () => {
    // One engine chunk of 500 users resolved and sent 50 at a time, at 100 calls/s: ~5 s if not cancelled.
    const slow = await startTestSubgraph({
      modules: [usercom],
      sandboxUserIds: ids(500),
      env: { USERCOM_RATE_LIMIT: "100", USERCOM_MASS_UPDATE_CHUNK_SIZE: "50", USERCOM_KNOWN_ATTRIBUTES: "plan:string" },
      // Headroom over the adapter's pace: at the sandbox's own default (100/s) every run drew a 429,
      // and on a loaded machine only 50 users ended applied (a 429 on the second mass update, most likely).
      sandboxRateLimits: { usercom: 200 },
    });
    try {
      const slowSandbox = slow.sandbox<UserComSandbox>("usercom");
      const started = await slow.gql(BULK_MUTATION, {
        input: { userIds: ids(500), vendors: ["USERCOM"], attribute: "plan", value: { string: "blue" } },
      });
      const id = started.data.bulkSetCustomAttribute.id as string;
      const massUpdates = () => slowSandbox.journal().filter((entry) => entry.path.includes("mass_update")).length;
      while (massUpdates() < 2) await new Promise((r) => setTimeout(r, 10));
      await slow.gql(`mutation($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename } }`, { id });
      const job = await waitForBulkJob(slow, id, JOB_FIELDS);
      const applied = ids(500).filter((user) =>
        (slowSandbox.user(user)!.attributes as Array<{ name: string; value: unknown }>).some(
          (a) => a.name === "plan" && a.value === "blue",
        ),
      );
      expect(job.status).toBe("CANCELLED");
      const [progress] = job.progress;
      expect(slowSandbox.statusCounts()[429]).toBeUndefined();
      expect(applied.length).toBeGreaterThanOrEqual(100);
      expect(progress).toEqual({
        vendor: "USERCOM",
        total: 500,
        succeeded: applied.length,
        failed: 0,
        cancelled: 500 - applied.length,
        pending: 0,
      });
    } finally {
      await slow.close();
    }
  });
});
