import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { BULK_MUTATION, waitForBulkJob } from "../../../../test/support/bulk.js";
import { startTestSubgraph, type TestSubgraph } from "../../../../test/support/subgraph.js";
import { jiguang } from "../index.js";
import type { JiguangSandbox } from "../sandbox.js";

const JOB_FIELDS = "progress { vendor total succeeded failed cancelled pending } failures(first: 10) { totalCount }";

async function runJob(subgraph: TestSubgraph, input: Record<string, unknown>): Promise<any> {
  const started = await subgraph.gql(BULK_MUTATION, { input: { vendors: ["JIGUANG"], ...input } });
  expect(started.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
  return waitForBulkJob(subgraph, started.data.bulkSetCustomAttribute.id, JOB_FIELDS, 30_000);
}

const ids = (n: number, prefix = "") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe.each([
  ["user ids are CUIDs", {}, ""],
  ["user ids mapped by Get CUID", { JIGUANG_IDENTITY_NAME: "login_id" }, "member-"],
])("Jiguang in bulk jobs (%s)", (_mode, env, prefix) => {
  let subgraph: TestSubgraph;
  let sandbox: JiguangSandbox;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      modules: [jiguang],
      sandboxUserIds: ids(2_000, prefix),
      // Scaled: the adapter paces at 1,000/s; the sandbox refuses beyond 1,000/s (a 429 is retried in the job).
      env: { JIGUANG_RATE_LIMIT: "1000", ...env },
      sandboxRateLimits: { jiguang: 1000 },
    });
    sandbox = subgraph.sandbox<JiguangSandbox>("jiguang");
  });
  afterAll(() => subgraph.close());

  it("sets an overwrite attribute for every user, under the pace, with no rate-limit answer", async () => {
    const job = await runJob(subgraph, { userIds: ids(600, prefix), attribute: "plan", value: { string: "gold" } });
    expect(job).toEqual({
      status: "SUCCEEDED",
      progress: [{ vendor: "JIGUANG", total: 600, succeeded: 600, failed: 0, cancelled: 0, pending: 0 }],
      failures: { totalCount: 0 },
    });
    const journal = sandbox.journal();
    expect(journal.filter((e) => e.status !== 200)).toEqual([]);
    expect(journal.filter((e) => e.path.endsWith("/attribute"))).toHaveLength(600);
    // The bulk path looks a chunk's CUIDs up together: 600 users, 6 look-ups of 100.
    const lookups = journal
      .filter((e) => e.path.endsWith("/register"))
      .map((e) => (e.body as { identityValues: string[] }).identityValues.length);
    expect(lookups).toEqual(prefix === "" ? [] : [100, 100, 100, 100, 100, 100]);
  });

  it("stops on cancel after the chunks in flight, with every user counted once", async () => {
    sandbox.clearJournal();
    const started = await subgraph.gql(BULK_MUTATION, {
      // 2,000 users (~2.2 s at the pace), so the cancel lands while most are still to go even on a slow machine.
      input: { vendors: ["JIGUANG"], userIds: ids(2_000, prefix), attribute: "nickname", value: { string: "n" } },
    });
    const id = started.data.bulkSetCustomAttribute.id;
    while (sandbox.journal().filter((e) => e.path.endsWith("/attribute")).length === 0) await new Promise((r) => setTimeout(r, 5));
    await subgraph.gql(`mutation($id: ID!) { cancelAttributeBulkJob(id: $id) { __typename } }`, { id });
    const job = (await waitForBulkJob(subgraph, id, JOB_FIELDS, 30_000)) as {
      status: string;
      progress: Array<{ succeeded: number; failed: number; cancelled: number }>;
    };
    const progress = job.progress[0]!;
    expect(job.status).toBe("CANCELLED");
    expect(progress.failed).toBe(0);
    expect(progress.succeeded + progress.cancelled).toBe(2_000);
    expect(progress.cancelled).toBeGreaterThan(0);
    // Exact counts: every write sent was counted as succeeded, and nothing else was sent.
    expect(sandbox.journal().filter((e) => e.path.endsWith("/attribute"))).toHaveLength(progress.succeeded);
  });

  it("refuses a value the catalog rules out before the job exists", async () => {
    sandbox.clearJournal();
    const refused = await subgraph.gql(BULK_MUTATION, {
      input: { vendors: ["JIGUANG"], userIds: ids(5, prefix), attribute: "points", value: { int: 1 } },
    });
    expect(refused.data.bulkSetCustomAttribute.__typename).toBe("AttributesInvalidInputError");
    expect(refused.data.bulkSetCustomAttribute.problems[0].message).toMatch(/"points" has the accumulate rule/);
    expect(sandbox.journal()).toEqual([]);
  });
});
