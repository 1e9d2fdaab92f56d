import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import { vendorModules } from "../../src/vendors/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

describe("updateAttributes to Carnival (the reference adapter) over HTTP", () => {
  let subgraph: TestSubgraph;
  let sandbox: CarnivalSandbox;
  const update = (input: Record<string, unknown>) => subgraph.gql(UPDATE_ATTRIBUTES, { input: { vendors: ["CARNIVAL"], ...input } });

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival], sandboxUserIds: ["1"] });
    sandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
  });
  afterEach(() => sandbox.clearJournal());
  afterAll(() => subgraph.close());

  it("sends each type and an array exactly as documented, with a warning for a normalized key", async () => {
    const result = await update({
      userId: "1",
      operations: [
        { op: "SET", attribute: "plan", value: { string: "gold" } },
        { op: "SET", attribute: "logins", value: { int: 42 } },
        { op: "SET", attribute: "score", value: { float: 2.5 } },
        { op: "SET", attribute: "vip", value: { boolean: true } },
        { op: "SET", attribute: "renews_at", value: { dateTime: "2017-02-06T18:25:32+03:00" } },
        { op: "SET", attribute: "starred_tracks", value: { intList: [1, 6, 11] } },
        { op: "SET", attribute: "my string.key", value: { stringList: ["Hello", "there"] } },
      ],
    });
    expect(result.status).toBe(200);
    expect(result.data.updateAttributes).toEqual({
      __typename: "AttributesUpdateSuccess",
      user: { id: "1" },
      allDelivered: true,
      deliveries: [
        {
          __typename: "AttributesVendorDeliverySuccess",
          vendor: "CARNIVAL",
          httpStatus: 202,
          warnings: [{ code: "KEY_NORMALIZED", attribute: "my string.key", message: expect.stringContaining('"my_string_key"') }],
        },
      ],
    });
    const journal = sandbox.journal();
    expect(journal).toHaveLength(1);
    expect(journal[0]!.body).toEqual({
      user: {
        custom: {
          plan: { type: "string", value: "gold" },
          logins: { type: "integer", value: 42 },
          score: { type: "float", value: 2.5 },
          vip: { type: "boolean", value: true },
          renews_at: { type: "date", value: "2017-02-06T15:25:32Z" },
          starred_tracks: { type: "integer", value: [1, 6, 11] },
          my_string_key: { type: "string", value: ["Hello", "there"] },
        },
      },
    });
  });

  it.each([
    ["an over-long string", { string: "x".repeat(256) }, "AttributesValueRejectedError", /truncates strings to 255/],
    ["an out-of-range integer", { int: -2147483648 }, "AttributesValueRejectedError", /discards integers outside/],
    [
      "a boolean array",
      { booleanList: [true, false] },
      "AttributesUnsupportedOperationError",
      /does not support SET with a booleanList value/,
    ],
  ])("answers %s with a typed error and sends nothing", async (_case, value, typename, message) => {
    const result = await update({ userId: "1", operations: [{ op: "SET", attribute: "attr", value }] });
    expect(result.data.updateAttributes.allDelivered).toBe(false);
    expect(result.data.updateAttributes.deliveries).toEqual([
      expect.objectContaining({
        __typename: typename,
        vendor: "CARNIVAL",
        attribute: "attr",
        operation: "SET",
        retryable: false,
        httpStatus: null,
        message: expect.stringMatching(message),
      }),
    ]);
    expect(sandbox.journal()).toEqual([]);
  });

  it("lists every rejected attribute: the first as the result, the rest as relatedErrors", async () => {
    const result = await update({
      userId: "1",
      operations: [
        { op: "SET", attribute: "bio", value: { string: "x".repeat(300) } },
        { op: "SET", attribute: "ok", value: { int: 1 } },
        { op: "SET", attribute: "big", value: { int: 2147483647 } },
        { op: "SET", attribute: "small", value: { int: -2147483648 } },
      ],
    });
    const [delivery] = result.data.updateAttributes.deliveries;
    expect(delivery).toMatchObject({ __typename: "AttributesValueRejectedError", attribute: "bio" });
    expect(delivery.relatedErrors).toEqual([
      { __typename: "AttributesValueRejectedError", code: "VALUE_REJECTED", attribute: "small", message: expect.any(String) },
    ]);
    expect(sandbox.journal()).toEqual([]);
  });

  it("answers an unknown user with AttributesVendorUserNotFoundError", async () => {
    const result = await update({ userId: "nobody", operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] });
    expect(result.data.updateAttributes.deliveries).toEqual([
      expect.objectContaining({
        __typename: "AttributesVendorUserNotFoundError",
        code: "USER_NOT_FOUND",
        httpStatus: 404,
        retryable: false,
      }),
    ]);
    expect(sandbox.journal().map((e) => e.status)).toEqual([404]);
  });

  it.each([
    ["SET_ONCE", { op: "SET_ONCE", attribute: "a", value: { int: 1 } }],
    ["INCREMENT", { op: "INCREMENT", attribute: "a", value: { int: 1 } }],
    ["UNSET", { op: "UNSET", attribute: "a" }],
  ])("refuses %s, which Carnival cannot do, without sending anything", async (_op, operation) => {
    const result = await update({ userId: "1", operations: [operation] });
    expect(result.data.updateAttributes.deliveries[0]).toMatchObject({
      __typename: "AttributesUnsupportedOperationError",
      code: "UNSUPPORTED_OPERATION",
    });
    expect(sandbox.journal()).toEqual([]);
  });

  it("refuses profile fields and tags for Carnival, naming them", async () => {
    const result = await update({ userId: "1", profile: { email: "a@example.test" }, tags: { add: ["vip"] } });
    const [delivery] = result.data.updateAttributes.deliveries;
    expect(delivery).toMatchObject({ __typename: "AttributesUnsupportedOperationError", attribute: "email" });
    expect(delivery.relatedErrors).toEqual([
      expect.objectContaining({ code: "UNSUPPORTED_OPERATION", message: expect.stringContaining("adding tags") }),
    ]);
  });

  it("targets every configured vendor when `vendors` is omitted", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
    });
    expect(result.data.updateAttributes.deliveries.map((d: { vendor: string }) => d.vendor)).toEqual(["CARNIVAL"]);
  });
});

describe("request-level validation", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival] });
  });
  afterAll(() => subgraph.close());

  it.each([
    ["no value field", { operations: [{ op: "SET", attribute: "a", value: {} }] }, ["input", "operations", "0", "value"], /none is/],
    [
      "two value fields",
      { operations: [{ op: "SET", attribute: "a", value: { int: 1, string: "x" } }] },
      ["input", "operations", "0", "value"],
      /got string and int/,
    ],
    [
      "a value on UNSET",
      { operations: [{ op: "UNSET", attribute: "a", value: { int: 1 } }] },
      ["input", "operations", "0", "value"],
      /takes no value/,
    ],
    ["no value on SET", { operations: [{ op: "SET", attribute: "a" }] }, ["input", "operations", "0", "value"], /needs a value/],
    [
      "a string INCREMENT",
      { operations: [{ op: "INCREMENT", attribute: "a", value: { string: "1" } }] },
      ["input", "operations", "0", "value"],
      /int or float/,
    ],
    [
      "an empty attribute name",
      { operations: [{ op: "SET", attribute: "", value: { int: 1 } }] },
      ["input", "operations", "0", "attribute"],
      /must not be empty/,
    ],
    [
      "two operations on one attribute",
      {
        operations: [
          { op: "SET", attribute: "a", value: { int: 1 } },
          { op: "UNSET", attribute: "a" },
        ],
      },
      ["input", "operations", "1", "attribute"],
      /already has an operation at operations.0/,
    ],
    ["nothing to update", {}, ["input"], /nothing to update/],
    [
      "an empty user id",
      { userId: "", operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
      ["input", "userId"],
      /must not be empty/,
    ],
    [
      "a user id with a lone surrogate",
      { userId: "user-\udc00", operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
      ["input", "userId"],
      /well-formed Unicode/,
    ],
    [
      "a string value with a lone surrogate",
      { operations: [{ op: "SET", attribute: "a", value: { string: "x\ud800" } }] },
      ["input", "operations", "0", "value", "string"],
      /well-formed Unicode/,
    ],
    [
      "a string list element with a lone surrogate",
      { operations: [{ op: "ADD_TO_SET", attribute: "a", value: { stringList: ["ok", "\udfff"] } }] },
      ["input", "operations", "0", "value", "stringList", "1"],
      /well-formed Unicode/,
    ],
    [
      "an attribute name with a lone surrogate",
      { operations: [{ op: "SET", attribute: "a\ud800", value: { int: 1 } }] },
      ["input", "operations", "0", "attribute"],
      /well-formed Unicode/,
    ],
    [
      "a profile field with a lone surrogate",
      { profile: { firstName: "An\udc00" } },
      ["input", "profile", "firstName"],
      /well-formed Unicode/,
    ],
    ["a tag with a lone surrogate", { tags: { add: ["\ud83d"] } }, ["input", "tags", "add", "0"], /well-formed Unicode/],
    ["a cleared profile field", { profile: { email: null } }, ["input", "profile", "email"], /cannot be cleared/],
    ["a blank tag", { tags: { add: [" "] } }, ["input", "tags", "add", "0"], /must not be blank/],
    ["a tag added and removed", { tags: { add: ["a"], remove: ["a"] } }, ["input", "tags", "remove", "0"], /listed more than once/],
    [
      "an empty vendor list",
      { vendors: [], operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
      ["input", "vendors"],
      /at least one vendor/,
    ],
  ])("answers %s with AttributesInvalidInputError at its path", async (_case, input, path, message) => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, { input: { userId: "1", ...input } });
    expect(result.errors).toBeUndefined();
    expect(result.data.updateAttributes).toMatchObject({ __typename: "AttributesInvalidInputError", code: "INVALID_INPUT", path });
    expect(result.data.updateAttributes.problems[0].message).toMatch(message);
    expect(subgraph.sandbox("carnival").requestCount()).toBe(0);
  });

  it("reports every problem, in request order", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: {
        userId: "1",
        operations: [
          { op: "SET", attribute: "a", value: {} },
          { op: "SET", attribute: "", value: { int: 1 } },
        ],
      },
    });
    expect(result.data.updateAttributes.problems.map((p: { path: string[] }) => p.path.join("."))).toEqual([
      "input.operations.0.value",
      "input.operations.1.attribute",
    ]);
  });

  it("bounds the number of operations", async () => {
    const operations = Array.from({ length: 201 }, (_, i) => ({ op: "SET", attribute: `a${i}`, value: { int: i } }));
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, { input: { userId: "1", operations } });
    expect(result.data.updateAttributes).toMatchObject({ __typename: "AttributesInvalidInputError", path: ["input", "operations"] });
  });

  it("answers an unparseable date-time with a GraphQL validation error, not a crash", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", operations: [{ op: "SET", attribute: "a", value: { dateTime: "yesterday" } }] },
    });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("vendors that are not configured", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival], sandbox: "off" });
  });
  afterAll(() => subgraph.close());

  it("answer AttributesVendorNotConfiguredError, also when every vendor is unconfigured and none is named", async () => {
    const named = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
    });
    expect(named.data.updateAttributes.deliveries).toEqual([
      expect.objectContaining({ __typename: "AttributesVendorNotConfiguredError", vendor: "CARNIVAL" }),
    ]);
    const defaulted = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
    });
    expect(defaulted.data.updateAttributes.deliveries).toEqual([
      expect.objectContaining({ __typename: "AttributesVendorNotConfiguredError" }),
    ]);
    expect(defaulted.data.updateAttributes.allDelivered).toBe(false);
  });

  it("keep every registered vendor in the schema, and answer one this process did not start as not configured", async () => {
    const enumValues = await subgraph.gql(`{ __type(name: "AttributesVendor") { enumValues { name } } }`);
    expect(enumValues.data.__type.enumValues.map((v: { name: string }) => v.name)).toEqual(vendorModules.map((m) => m.id.toUpperCase()));
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, {
      input: { userId: "1", vendors: ["LEANPLUM", "USERCOM"], operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data.updateAttributes.deliveries).toEqual([
      expect.objectContaining({ __typename: "AttributesVendorNotConfiguredError", vendor: "LEANPLUM" }),
      expect.objectContaining({ __typename: "AttributesVendorNotConfiguredError", vendor: "USERCOM" }),
    ]);
  });
});
