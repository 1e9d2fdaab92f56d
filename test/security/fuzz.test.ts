import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { mapWithConcurrency } from "../../src/util/concurrency.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type GraphQLResponse, type TestSubgraph } from "../support/subgraph.js";
import type { OptionField } from "../../src/domain/options.js";
import { vendorModules } from "../../src/vendors/index.js";

const SEED = 20261123;
const UPDATE_RUNS = 9_000;
const BULK_RUNS = 1_500;

const VALUE_KINDS = ["string", "int", "float", "boolean", "dateTime", "stringList", "intList", "floatList", "booleanList", "dateTimeList"];
const OPS = ["SET", "SET_ONCE", "INCREMENT", "ADD_TO_SET", "REMOVE_FROM_SET", "UNSET"];
/** Every registered vendor: a new one is fuzzed as soon as it is registered. */
const VENDORS = vendorModules.map((m) => m.id.toUpperCase());

/** Strings vendors trip over: control characters, separators, unicode, numerals, very long ones. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    ".",
    "-a",
    "a/",
    "a,b",
    'a"b',
    "a{b",
    "a|b",
    "\t",
    "\n",
    "\u0000",
    "123",
    "1e5",
    "__proto__",
    "constructor",
    "%2F",
    "../x",
    "é.ü ~",
    "🙂",
    "用户属性",
  ),
  fc.string({ minLength: 250, maxLength: 300 }),
  fc.integer({ min: 900, max: 12_000 }).map((n) => "x".repeat(n)),
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 2_147_483_647, -2_147_483_648, 2_147_483_648, Number.MAX_SAFE_INTEGER, 1e308, -1e-320, 0.1),
);
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nastyString, nastyNumber);
/** Every vendor's declared options, field by field from its spec: a new vendor's options are fuzzed too. */
const optionsFor = (fields: Readonly<Record<string, OptionField>>): fc.Arbitrary<Record<string, unknown>> =>
  fc.record(Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, optionValue(field)])), { requiredKeys: [] });
const optionValue = (field: OptionField): fc.Arbitrary<unknown> => {
  const one: fc.Arbitrary<unknown> =
    field.type === "object"
      ? optionsFor(field.fields)
      : field.type === "enum"
        ? fc.oneof(fc.constantFrom(...field.values), nastyString)
        : field.type === "boolean"
          ? fc.boolean()
          : field.type === "int" || field.type === "float"
            ? nastyNumber
            : nastyString;
  return field.list ? fc.array(one, { maxLength: 3 }) : one;
};
const valueFor = (kind: string): fc.Arbitrary<unknown> => {
  const base = kind.replace(/List$/, "");
  const scalar: fc.Arbitrary<unknown> =
    base === "string"
      ? nastyString
      : base === "int" || base === "float"
        ? nastyNumber
        : base === "boolean"
          ? fc.boolean()
          : fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              nastyString,
            );
  return fc.oneof(
    { weight: 5, arbitrary: kind.endsWith("List") ? fc.array(scalar, { maxLength: 60 }) : scalar },
    { weight: 1, arbitrary: anyJson },
  );
};
const valueChoice = fc.oneof(
  fc.constantFrom(...VALUE_KINDS).chain((k) => valueFor(k).map((v) => ({ [k]: v }))),
  fc.dictionary(fc.constantFrom(...VALUE_KINDS), anyJson, { maxKeys: 3 }),
  anyJson,
);
const operation = fc.record(
  {
    op: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...OPS) }, { weight: 1, arbitrary: nastyString }),
    attribute: nastyString,
    value: valueChoice,
  },
  { requiredKeys: [] },
);
const updateInput = fc.record(
  {
    userId: fc.oneof(fc.constantFrom("1", "2", "42"), nastyString, anyJson),
    operations: fc.oneof({ weight: 6, arbitrary: fc.array(operation, { maxLength: 8 }) }, { weight: 1, arbitrary: anyJson }),
    profile: fc.oneof(
      fc.dictionary(
        fc.constantFrom("email", "firstName", "lastName", "phone", "locale", "country", "region", "city", "timezone", "nickname"),
        fc.oneof(nastyString, fc.constant(null), anyJson),
        { maxKeys: 4 },
      ),
      anyJson,
    ),
    tags: fc.oneof(
      fc.record({ add: fc.array(nastyString, { maxLength: 5 }), remove: fc.array(nastyString, { maxLength: 5 }) }, { requiredKeys: [] }),
      anyJson,
    ),
    vendors: fc.oneof(fc.subarray(VENDORS), fc.array(nastyString, { maxLength: 3 }), anyJson),
    createIfMissing: fc.oneof(fc.boolean(), anyJson),
    idempotencyKey: fc.oneof(nastyString, anyJson),
    vendorOptions: fc.oneof(
      fc.record(Object.fromEntries(vendorModules.filter((m) => m.options).map((m) => [m.id, optionsFor(m.options!.fields)])), {
        requiredKeys: [],
      }),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);
const bulkInput = fc.record(
  {
    userIds: fc.oneof(fc.array(fc.oneof(fc.constantFrom("1", "2"), nastyString), { maxLength: 20 }), anyJson),
    attribute: nastyString,
    value: valueChoice,
    vendors: fc.oneof(fc.subarray(VENDORS), anyJson),
  },
  { requiredKeys: [] },
);

const UPDATE_TYPES = new Set([
  "AttributesUpdateSuccess",
  "AttributesInvalidInputError",
  "AttributesNotAuthorizedError",
  "AttributesIdempotencyKeyReusedError",
]);
const BULK_TYPES = new Set([
  "AttributesBulkJob",
  "AttributesInvalidInputError",
  "AttributesTooManyUserIdsError",
  "AttributesNotAuthorizedError",
]);
const VALIDATION_CODES = new Set(["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "BAD_REQUEST"]);

const BULK = `mutation($input: AttributesBulkSetCustomAttributeInput!) { bulkSetCustomAttribute(input: $input) { __typename } }`;

/** Everything that is wrong with one answer; empty when it is a typed result or a validation error. */
function problemsWith(response: GraphQLResponse<any>, field: string, allowed: Set<string>): string[] {
  if (response.status >= 500) return [`HTTP ${response.status}`];
  if (response.status === 400) {
    const codes = (response.errors ?? []).map((e) => String(e.extensions?.code));
    return codes.length > 0 && codes.every((c) => VALIDATION_CODES.has(c)) ? [] : [`400 with codes ${codes.join(",")}`];
  }
  if (response.errors?.length) return [`errors: ${response.errors.map((e) => `${String(e.extensions?.code)} ${e.message}`).join("; ")}`];
  const result = response.data?.[field];
  if (!allowed.has(result?.__typename)) return [`untyped result ${JSON.stringify(result)}`];
  const internal = (result.deliveries ?? []).filter((d: { __typename: string }) => d.__typename === "AttributesInternalDeliveryError");
  return internal.length > 0 ? [`adapter crashed: ${JSON.stringify(internal)}`] : [];
}

describe(`fuzz: ${UPDATE_RUNS + BULK_RUNS} generated bad inputs over HTTP (seed ${SEED})`, () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      sandboxUserIds: ["1", "2", "42"],
      // Pacing is not under test here: let the sandboxes and adapters go fast.
      env: Object.fromEntries(vendorModules.map((m) => [`${m.id.toUpperCase()}_RATE_LIMIT`, "100000"])),
      sandboxRateLimits: Object.fromEntries(vendorModules.map((m) => [m.id, 200_000])),
      bulk: { maxUserIds: 50 },
    });
  });
  afterAll(() => subgraph.close());

  it("answers every updateAttributes input with a typed result or a validation error", async () => {
    const inputs = fc.sample(updateInput, { numRuns: UPDATE_RUNS, seed: SEED });
    const failures: Array<{ input: unknown; problems: string[] }> = [];
    await mapWithConcurrency(inputs, 16, async (input) => {
      const problems = problemsWith(await subgraph.gql(UPDATE_ATTRIBUTES, { input }), "updateAttributes", UPDATE_TYPES);
      if (problems.length > 0) failures.push({ input, problems });
    });
    expect(failures.slice(0, 3)).toEqual([]);
  }, 300_000);

  it("answers every bulkSetCustomAttribute input with a typed result or a validation error", async () => {
    const inputs = fc.sample(bulkInput, { numRuns: BULK_RUNS, seed: SEED });
    const failures: Array<{ input: unknown; problems: string[] }> = [];
    await mapWithConcurrency(inputs, 16, async (input) => {
      const problems = problemsWith(await subgraph.gql(BULK, { input }), "bulkSetCustomAttribute", BULK_TYPES);
      if (problems.length > 0) failures.push({ input, problems });
    });
    expect(failures.slice(0, 3)).toEqual([]);
  }, 300_000);

  it("answers malformed documents and bodies with 4xx, never a crash", async () => {
    const documents = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.constantFrom("{", "mutation {", "{ attributeVendors { nope } }", "query { __typename", "subscription { x }"),
      ),
      { numRuns: 300, seed: SEED },
    );
    await mapWithConcurrency(documents, 16, async (query) => {
      const response = await subgraph.gql(query);
      expect(response.status).toBeLessThan(500);
    });
  });
});
