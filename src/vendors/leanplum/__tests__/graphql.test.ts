import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { BULK_MUTATION, waitForBulkJob } from "../../../../test/support/bulk.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../../../../test/support/subgraph.js";
import { leanplum } from "../index.js";
import { type LeanplumSandbox } from "../sandbox.js";
import { SANDBOX_APP_ID, SANDBOX_CLIENT_KEY, SANDBOX_EXPORT_KEY } from "../config.js";

const READ_BACK = `query Read($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on User {
      id
      attributeProfiles(vendors: [LEANPLUM]) {
        __typename
        ... on AttributesVendorProfile {
          vendor
          attributes { name value { type string int float boolean stringList } }
          profile { locale country city timezone }
          tags
          notes { code attribute }
        }
        ... on AttributesVendorError { vendor code message }
      }
    }
  }
}`;

const JOB_FIELDS = `
  progress { vendor total succeeded failed cancelled pending }
  failures(first: 100) { totalCount edges { node { userId error { code } } } }
`;

describe("Leanplum through the subgraph's GraphQL API", () => {
  let subgraph: TestSubgraph;
  let sandbox: LeanplumSandbox;
  const update = (input: Record<string, unknown>) => subgraph.gql(UPDATE_ATTRIBUTES, { input: { vendors: ["LEANPLUM"], ...input } });
  const read = (id: string) => subgraph.gql(READ_BACK, { representations: [{ __typename: "User", id }] });

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [leanplum] });
    sandbox = subgraph.sandbox<LeanplumSandbox>("leanplum");
  });
  beforeEach(() => sandbox.clearJournal());
  afterAll(() => subgraph.close());

  it("writes typed values and Leanplum options, then reads them back with the quirks normalized", async () => {
    const written = await update({
      userId: "gql-1",
      operations: [
        { op: "SET", attribute: "plan", value: { string: "gold" } },
        { op: "SET", attribute: "vip", value: { boolean: true } },
        { op: "SET", attribute: "logins", value: { int: 42 } },
        { op: "SET", attribute: "interests", value: { stringList: ["Music"] } },
        { op: "INCREMENT", attribute: "visits", value: { int: 2 } },
      ],
      profile: { locale: "en_US", country: "US" },
      vendorOptions: {
        leanplum: {
          deviceId: "gql-device",
          unsubscribeCategoriesToAdd: ["42"],
          events: [{ name: "Purchase", countIncrement: 1, lastTime: "2024-01-01T00:00:00Z" }],
        },
      },
    });
    expect(written.data.updateAttributes.deliveries).toEqual([
      { __typename: "AttributesVendorDeliverySuccess", vendor: "LEANPLUM", httpStatus: 200, warnings: [] },
    ]);
    expect(sandbox.journal().map((e) => [e.query, e.body])).toEqual([
      [
        { action: "setUserAttributes" },
        {
          appId: SANDBOX_APP_ID,
          clientKey: SANDBOX_CLIENT_KEY,
          apiVersion: "1.0.6",
          userId: "gql-1",
          deviceId: "gql-device",
          userAttributes: { plan: "gold", vip: true, logins: 42, interests: ["Music"] },
          userAttributeValuesToIncrement: { visits: 2 },
          locale: "en_US",
          country: "US",
          unsubscribeCategoriesToAdd: ["42"],
          events: { Purchase: { countIncrement: 1, lastTime: 1704067200 } },
        },
      ],
    ]);

    const result = await read("gql-1");
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([
      {
        id: "gql-1",
        attributeProfiles: [
          {
            __typename: "AttributesVendorProfile",
            vendor: "LEANPLUM",
            attributes: [
              { name: "plan", value: { type: "STRING", string: "gold", int: null, float: null, boolean: null, stringList: null } },
              { name: "vip", value: { type: "BOOLEAN", string: null, int: null, float: null, boolean: true, stringList: null } },
              { name: "logins", value: { type: "INT", string: null, int: 42, float: null, boolean: null, stringList: null } },
              {
                name: "interests",
                value: { type: "STRING_LIST", string: null, int: null, float: null, boolean: null, stringList: ["Music"] },
              },
              { name: "visits", value: { type: "INT", string: null, int: 2, float: null, boolean: null, stringList: null } },
            ],
            profile: { locale: "en_US", country: "US", city: null, timezone: null },
            tags: [],
            notes: [
              { code: "BOOLEAN_FROM_STRING", attribute: "vip" },
              { code: "NUMBER_KIND_INFERRED", attribute: null },
            ],
          },
        ],
      },
    ]);
  });

  it("answers CreateNever on a missing user as AttributesVendorUserNotFoundError", async () => {
    const result = await update({
      userId: "gql-ghost",
      createIfMissing: false,
      operations: [{ op: "SET", attribute: "a", value: { int: 1 } }],
    });
    expect(result.data.updateAttributes.deliveries).toEqual([
      expect.objectContaining({
        __typename: "AttributesVendorUserNotFoundError",
        vendor: "LEANPLUM",
        code: "USER_NOT_FOUND",
        httpStatus: 200,
        retryable: false,
      }),
    ]);
  });

  it("reads a missing user as AttributesVendorUserNotFoundError", async () => {
    const result = await read("gql-nobody");
    expect(result.data._entities[0].attributeProfiles).toEqual([
      expect.objectContaining({ __typename: "AttributesVendorUserNotFoundError", vendor: "LEANPLUM", code: "USER_NOT_FOUND" }),
    ]);
  });

  it("refuses invalid Leanplum options before anything is sent, with the path of each problem", async () => {
    const result = await update({
      userId: "gql-2",
      operations: [{ op: "SET", attribute: "a", value: { int: 1 } }],
      vendorOptions: { leanplum: { events: [{ name: "bad,name", count: 1, countIncrement: 2 }] } },
    });
    expect(result.data.updateAttributes.problems).toEqual([
      { path: ["input", "vendorOptions", "leanplum", "events", "0", "name"], message: 'event name "bad,name" must not contain ","' },
      { path: ["input", "vendorOptions", "leanplum", "events", "0", "countIncrement"], message: "give count or countIncrement, not both" },
    ]);
    expect(sandbox.journal()).toEqual([]);
  });

  it("refuses an unsupported operation as AttributesUnsupportedOperationError without sending", async () => {
    const result = await update({ userId: "gql-3", operations: [{ op: "SET_ONCE", attribute: "a", value: { int: 1 } }] });
    expect(result.data.updateAttributes.deliveries).toEqual([
      expect.objectContaining({
        __typename: "AttributesUnsupportedOperationError",
        code: "UNSUPPORTED_OPERATION",
        attribute: "a",
        operation: "SET_ONCE",
      }),
    ]);
    expect(sandbox.journal()).toEqual([]);
  });

  it("runs bulkSetCustomAttribute through multi, 50 users per call, with per-user outcomes", async () => {
    sandbox.block("bulk-7");
    const userIds = Array.from({ length: 120 }, (_, i) => `bulk-${i}`);
    const started = await subgraph.gql(BULK_MUTATION, {
      input: { userIds, attribute: "tier", value: { string: "gold" }, vendors: ["LEANPLUM"] },
    });
    expect(started.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
    const job = await waitForBulkJob(subgraph, started.data.bulkSetCustomAttribute.id, JOB_FIELDS);
    expect(job).toEqual({
      status: "PARTIALLY_FAILED",
      progress: [{ vendor: "LEANPLUM", total: 120, succeeded: 119, failed: 1, cancelled: 0, pending: 0 }],
      failures: { totalCount: 1, edges: [{ node: { userId: "bulk-7", error: { code: "PERMISSION_DENIED" } } }] },
    });
    const journal = sandbox.journal();
    expect(journal.every((e) => e.query.action === "multi")).toBe(true);
    expect(journal.map((e) => (e.body as { data: unknown[] }).data.length).sort((x, y) => x - y)).toEqual([20, 50, 50]);
    expect(sandbox.user("bulk-119")?.attributes).toEqual({ tier: "gold" });
  });

  it("never writes a Leanplum key to the logs", () => {
    const logs = subgraph.logLines.join("\n");
    expect(logs).toContain('"vendor":"leanplum"');
    expect(logs).not.toContain(SANDBOX_CLIENT_KEY);
    expect(logs).not.toContain(SANDBOX_EXPORT_KEY);
  });
});
