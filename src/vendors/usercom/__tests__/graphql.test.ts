import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestSubgraph, UPDATE_RESULT_SELECTION, type TestSubgraph } from "../../../../test/support/subgraph.js";
import { usercom } from "../index.js";
import { type UserComSandbox } from "../sandbox.js";
import { SANDBOX_API_KEY } from "../config.js";

const PROFILE_SELECTION = `
  __typename
  ... on AttributesVendorProfile {
    vendor
    attributes { name value { type string int float boolean dateTime } }
    profile { email firstName lastName phone locale country region city timezone }
    tags
    notes { code attribute }
  }
  ... on AttributesVendorError { vendor code message }
`;

/** Update, then read back in the same operation: the write's answer feeds the read (one request scope). */
const UPDATE_AND_READ = `mutation UpdateAndRead($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    ${UPDATE_RESULT_SELECTION}
    ... on AttributesUpdateSuccess { user { attributeProfiles(vendors: [USERCOM]) { ${PROFILE_SELECTION} } } }
  }
}`;

const READ = `query Read($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id attributeProfiles(vendors: [USERCOM]) { ${PROFILE_SELECTION} } } }
}`;

describe("User.com through the subgraph", () => {
  let subgraph: TestSubgraph;
  let sandbox: UserComSandbox;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [usercom], sandboxUserIds: ["1", "2", "3"] });
    sandbox = subgraph.sandbox<UserComSandbox>("usercom");
  });
  afterEach(() => {
    sandbox.clearJournal();
    sandbox.clearFaults();
  });
  afterAll(() => subgraph.close());

  it("writes fields, attributes and tags, and reads them back after the write in the same operation", async () => {
    const result = await subgraph.gql(UPDATE_AND_READ, {
      input: {
        userId: "1",
        vendors: ["USERCOM"],
        profile: { email: "ann@example.org", firstName: "Ann", city: "Warsaw" },
        operations: [
          { op: "SET", attribute: "plan", value: { string: "gold" } },
          { op: "SET", attribute: "logins", value: { int: 42 } },
          { op: "SET", attribute: "vip", value: { boolean: true } },
        ],
        tags: { add: ["beta"] },
      },
    });
    expect(result.errors).toBeUndefined();
    const success = result.data.updateAttributes;
    expect(success.deliveries).toEqual([
      {
        __typename: "AttributesVendorDeliverySuccess",
        vendor: "USERCOM",
        httpStatus: 200,
        warnings: [],
      },
    ]);
    expect(success.user.attributeProfiles).toEqual([
      {
        __typename: "AttributesVendorProfile",
        vendor: "USERCOM",
        attributes: [
          { name: "plan", value: { type: "STRING", string: "gold", int: null, float: null, boolean: null, dateTime: null } },
          { name: "logins", value: { type: "INT", string: null, int: 42, float: null, boolean: null, dateTime: null } },
          { name: "vip", value: { type: "BOOLEAN", string: null, int: null, float: null, boolean: true, dateTime: null } },
        ],
        profile: {
          email: "ann@example.org",
          firstName: "Ann",
          lastName: null,
          phone: null,
          locale: null,
          country: null,
          region: null,
          city: "Warsaw",
          timezone: null,
        },
        tags: ["beta"],
        notes: [],
      },
    ]);
    // One PUT; the read came from its answer.
    expect(sandbox.journal().map((e) => `${e.method} ${e.path}`)).toEqual(["PUT /api/public/users-by-id/1/"]);
  });

  it("reads a user through _entities with one GET", async () => {
    sandbox.addUser("reader", { fields: { country: "Poland" }, attributes: { ratio: 0.5 }, tags: ["t"] });
    const result = await subgraph.gql(READ, { representations: [{ __typename: "User", id: "reader" }] });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities[0].attributeProfiles[0]).toMatchObject({
      __typename: "AttributesVendorProfile",
      attributes: [{ name: "ratio", value: { type: "FLOAT", float: 0.5 } }],
      profile: { country: "Poland" },
      tags: ["t"],
    });
    expect(sandbox.journal().map((e) => `${e.method} ${e.path}`)).toEqual(["GET /api/public/users-by-id/reader/"]);
  });

  it.each<[string, string, string, () => void, Record<string, unknown>]>([
    ["an undefined attribute", "AttributeNotDefinedError", "2", () => undefined, { op: "SET", attribute: "shoe_size", value: { int: 44 } }],
    [
      "an unsupported operation",
      "AttributesUnsupportedOperationError",
      "2",
      () => undefined,
      { op: "INCREMENT", attribute: "logins", value: { int: 1 } },
    ],
    [
      "an unknown user",
      "AttributesVendorUserNotFoundError",
      "nobody",
      () => undefined,
      { op: "SET", attribute: "plan", value: { string: "x" } },
    ],
    [
      "a 429 with Retry-After",
      "AttributesRateLimitedError",
      "2",
      () => sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 3 }),
      { op: "SET", attribute: "plan", value: { string: "x" } },
    ],
  ])("%s → %s", async (_label, typename, userId, arrange, operation) => {
    arrange();
    const result = await subgraph.gql(
      `mutation U($input: AttributesUpdateInput!) { updateAttributes(input: $input) { ${UPDATE_RESULT_SELECTION} } }`,
      { input: { userId, vendors: ["USERCOM"], operations: [operation] } },
    );
    const [delivery] = result.data.updateAttributes.deliveries;
    expect(delivery.__typename).toBe(typename);
    expect(delivery.vendor).toBe("USERCOM");
    if (typename === "AttributesRateLimitedError") expect(delivery.retryAfterSeconds).toBe(3);
    if (typename === "AttributeNotDefinedError") expect(delivery.attribute).toBe("shoe_size");
  });

  it("never puts the API key into a response or a log line", async () => {
    const result = await subgraph.gql(
      `mutation U($input: AttributesUpdateInput!) { updateAttributes(input: $input) { ${UPDATE_RESULT_SELECTION} } }`,
      { input: { userId: "3", vendors: ["USERCOM"], profile: { email: "bad" } } },
    );
    expect(JSON.stringify(result)).not.toContain(SANDBOX_API_KEY);
    expect(subgraph.logLines.join("\n")).not.toContain(SANDBOX_API_KEY);
  });
});
