import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { JournalEntry } from "../../src/sandbox/kit.js";
import { vendorModules } from "../../src/vendors/index.js";
import { BULK_MUTATION, waitForBulkJob } from "../support/bulk.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

const UPDATE = `mutation($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on AttributesUpdateSuccess {
      allDelivered
      deliveries {
        __typename
        ... on AttributesVendorDeliveryPreview { vendor requests { method url headers { name value } body lookup } warnings { code attribute } }
        ... on AttributesVendorDeliverySuccess { vendor warnings { code attribute } }
        ... on AttributesVendorError { vendor code message }
      }
    }
    ... on AttributesInvalidInputError { code path problems { path message } }
  }
}`;

interface Previewed {
  method: string;
  url: string;
  headers: Array<{ name: string; value: string }>;
  body: string | null;
  lookup: boolean;
}

/** One update each vendor's sandbox takes: a SET of a declared string attribute; for User.com a tag and a profile field too. */
const INPUT = (vendor: string) => ({
  userId: "7",
  vendors: [vendor.toUpperCase()],
  operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
  ...(vendor === "usercom" ? { tags: { add: ["vip"] }, profile: { firstName: "Ada" } } : {}),
});

/**
 * dryRun: true runs every check and mapping and sends no write; each vendor's preview lists exactly
 * the requests the vendor then receives for the real call (compared with what its sandbox recorded).
 */
describe("updateAttributes with dryRun", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ sandboxUserIds: ["7", "8", "9", "10", "11"] });
  });
  afterAll(() => subgraph.close());

  const writes = (journal: readonly JournalEntry[]) => journal.filter((e) => !isLookup(e));

  it.each(vendorModules.map((m) => m.id))("%s: the preview is what the vendor then receives, and nothing is written", async (vendor) => {
    const sandbox = subgraph.sandbox(vendor);
    sandbox.clearJournal();
    const dry = (await subgraph.gql(UPDATE, { input: { ...INPUT(vendor), dryRun: true } })).data.updateAttributes;
    expect(dry).toMatchObject({ __typename: "AttributesUpdateSuccess", allDelivered: false });
    const preview = dry.deliveries[0];
    expect(preview).toMatchObject({ __typename: "AttributesVendorDeliveryPreview", vendor: vendor.toUpperCase() });
    const requests = preview.requests as Previewed[];
    expect(requests.filter((r) => !r.lookup).length).toBeGreaterThan(0);
    // Only look-ups reached the vendor.
    expect(writes(sandbox.journal())).toEqual([]);
    expect(sandbox.journal()).toHaveLength(requests.filter((r) => r.lookup).length);

    // Credentials never appear: the Authorization header is redacted, secrets in bodies are scrubbed.
    const text = JSON.stringify(requests);
    const module = vendorModules.find((m) => m.id === vendor)!;
    const secrets = Object.entries(module.sandboxEnv(sandbox.url)).filter(([name, value]) => module.env[name]?.secret && value);
    expect(secrets.length).toBeGreaterThan(0);
    for (const [, secret] of secrets) expect(text).not.toContain(secret);
    for (const request of requests) {
      const authorization = request.headers.find((h) => h.name === "authorization");
      if (authorization) expect(authorization.value).toBe("[redacted]");
    }

    sandbox.clearJournal();
    const real = (await subgraph.gql(UPDATE, { input: INPUT(vendor) })).data.updateAttributes;
    expect(real.deliveries[0]).toMatchObject({ __typename: "AttributesVendorDeliverySuccess", warnings: preview.warnings });
    const sent = sandbox.journal();
    const previewedWrites = requests.filter((r) => !r.lookup);
    expect(writes(sent).map((entry) => [entry.method, new URL(entry.path, sandbox.url).pathname])).toEqual(
      previewedWrites.map((r) => [r.method, new URL(r.url).pathname]),
    );
    writes(sent).forEach((entry, index) => {
      const previewed = previewedWrites[index]!;
      expect(Object.fromEntries(new URL(previewed.url).searchParams)).toEqual(entry.query);
      // The body as sent, but for scrubbed credentials (Leanplum's key travels in it).
      expect(withoutCredentials(JSON.parse(previewed.body!))).toEqual(withoutCredentials(entry.body));
    });
  });

  it("answers a refusal exactly as a real run would, and sends nothing", async () => {
    const sandbox = subgraph.sandbox("carnival");
    sandbox.clearJournal();
    const input = { userId: "7", vendors: ["CARNIVAL"], operations: [{ op: "INCREMENT", attribute: "logins", value: { int: 1 } }] };
    const dry = (await subgraph.gql(UPDATE, { input: { ...input, dryRun: true } })).data.updateAttributes.deliveries[0];
    const real = (await subgraph.gql(UPDATE, { input })).data.updateAttributes.deliveries[0];
    expect(dry).toEqual(real);
    expect(dry.__typename).toBe("AttributesUnsupportedOperationError");
    expect(sandbox.journal()).toEqual([]);
  });

  it("refuses an idempotency key with a dry run (nothing is remembered)", async () => {
    const result = (await subgraph.gql(UPDATE, { input: { ...INPUT("carnival"), dryRun: true, idempotencyKey: "k-1" } })).data
      .updateAttributes;
    expect(result).toMatchObject({ __typename: "AttributesInvalidInputError", path: ["input", "idempotencyKey"] });
  });
});

describe("bulkSetCustomAttribute with dryRun", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ sandboxUserIds: Array.from({ length: 120 }, (_, i) => String(i + 1)) });
  });
  afterAll(() => subgraph.close());

  const PLAN = `mutation($input: AttributesBulkSetCustomAttributeInput!) {
    bulkSetCustomAttribute(input: $input) {
      __typename
      ... on AttributesBulkPlan {
        attribute userCount duplicateUserIds
        vendors { vendor native path writes lookups ratePerSecond estimatedSeconds sampleUserIds
          sampleRequests { method url body lookup } sampleFailures { userId error { code } } }
      }
      ... on AttributesInvalidInputError { code problems { path message } }
    }
  }`;
  const users = Array.from({ length: 120 }, (_, i) => String(i + 1));

  it("answers each vendor's path, calls and duration at its rate, and the first users' requests, writing nothing", async () => {
    for (const m of vendorModules) subgraph.sandbox(m.id).clearJournal();
    const plan = (
      await subgraph.gql(PLAN, { input: { userIds: [...users, "1"], attribute: "plan", value: { string: "gold" }, dryRun: true } })
    ).data.bulkSetCustomAttribute;
    expect(plan).toMatchObject({ __typename: "AttributesBulkPlan", attribute: "plan", userCount: 120, duplicateUserIds: 1 });
    const byVendor = Object.fromEntries(plan.vendors.map((v: { vendor: string }) => [v.vendor, v]));
    // Each vendor's own chunking: Carnival and Jiguang one write per user, Leanplum's multi 50 users per call,
    // User.com one look-up per user and mass updates of 100 ids.
    expect(byVendor.CARNIVAL).toMatchObject({ native: false, writes: 120, lookups: 0, ratePerSecond: 100, estimatedSeconds: 1.2 });
    expect(byVendor.JIGUANG).toMatchObject({ native: true, writes: 120, lookups: 0 });
    expect(byVendor.LEANPLUM).toMatchObject({ native: true, writes: 3, lookups: 0, ratePerSecond: null, estimatedSeconds: null });
    expect(byVendor.USERCOM).toMatchObject({ native: true, writes: 2, lookups: 120, ratePerSecond: 20, estimatedSeconds: 6.1 });
    for (const vendorPlan of plan.vendors) {
      expect(vendorPlan.sampleUserIds).toEqual(["1", "2", "3"]);
      expect(vendorPlan.sampleFailures).toEqual([]);
    }
    expect(byVendor.CARNIVAL.sampleRequests.map((r: Previewed) => [r.method, new URL(r.url).pathname])).toEqual([
      ["PUT", "/v6/users/1"],
      ["PUT", "/v6/users/2"],
      ["PUT", "/v6/users/3"],
    ]);
    expect(byVendor.LEANPLUM.sampleRequests).toHaveLength(1);
    expect(byVendor.USERCOM.sampleRequests.map((r: Previewed) => r.lookup)).toEqual([true, true, true, false]);
    // Only User.com's look-ups reached a vendor.
    for (const m of vendorModules) {
      const journal = subgraph.sandbox(m.id).journal();
      expect({ vendor: m.id, writes: journal.filter((e) => !isLookup(e)).length }).toEqual({ vendor: m.id, writes: 0 });
    }

    // A larger sample: up to each vendor's whole first chunk (Leanplum's multi takes 50 users).
    const wide = (
      await subgraph.gql(PLAN, {
        input: {
          userIds: users,
          attribute: "plan",
          value: { string: "gold" },
          vendors: ["LEANPLUM", "CARNIVAL"],
          dryRun: true,
          dryRunSampleUsers: 60,
        },
      })
    ).data.bulkSetCustomAttribute;
    const [leanplum, carnival] = wide.vendors;
    expect(leanplum.sampleUserIds).toHaveLength(50);
    expect(leanplum.sampleRequests).toHaveLength(1);
    expect(JSON.parse(leanplum.sampleRequests[0].body).data).toHaveLength(50);
    expect(carnival.sampleUserIds).toHaveLength(60);
    expect(carnival.sampleRequests).toHaveLength(60);
    const refused = (
      await subgraph.gql(PLAN, { input: { userIds: users, attribute: "plan", value: { string: "x" }, dryRun: true, dryRunSampleUsers: 0 } })
    ).data.bulkSetCustomAttribute;
    expect(refused).toMatchObject({ __typename: "AttributesInvalidInputError", problems: [{ path: ["input", "dryRunSampleUsers"] }] });

    // The job itself, for the sample users, sends exactly the previewed writes.
    for (const m of vendorModules) subgraph.sandbox(m.id).clearJournal();
    const job = (await subgraph.gql(BULK_MUTATION, { input: { userIds: ["1", "2", "3"], attribute: "plan", value: { string: "gold" } } }))
      .data.bulkSetCustomAttribute;
    expect((await waitForBulkJob(subgraph, job.id, "status")).status).toBe("SUCCEEDED");
    for (const vendorPlan of plan.vendors) {
      const vendor = (vendorPlan.vendor as string).toLowerCase();
      const sent = subgraph
        .sandbox(vendor)
        .journal()
        .filter((e) => !isLookup(e));
      const previewed = (vendorPlan.sampleRequests as Previewed[]).filter((r) => !r.lookup);
      const key = (method: string, url: string, body: unknown) => JSON.stringify([method, url, withoutCredentials(body)]);
      expect(sent.map((e) => key(e.method, e.path, e.body)).sort()).toEqual(
        previewed.map((r) => key(r.method, new URL(r.url).pathname, JSON.parse(r.body!))).sort(),
      );
    }
  });
});

/** Look-ups a write needs: Jiguang's CUID registration and User.com's user read. */
function isLookup(entry: JournalEntry): boolean {
  return entry.method === "GET" || entry.path.endsWith("/user/register");
}

function withoutCredentials(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  // Leanplum's key (scrubbed in previews) and the clock time its multi carries.
  const { clientKey: _, time: __, ...rest } = body as Record<string, unknown>;
  return rest;
}
