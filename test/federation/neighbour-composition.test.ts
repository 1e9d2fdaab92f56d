import { composeServices } from "@apollo/composition";
import { describe, expect, it } from "@jest/globals";
import { Kind, parse, type DocumentNode, type ObjectTypeDefinitionNode } from "graphql";
import { readFile } from "node:fs/promises";
import { USERS_SDL } from "../../src/dev/users-subgraph.js";

/**
 * A neighbour "catalog" subgraph, as a company's would be, that claims every generic name an
 * integration is tempted to use: a Relay PageInfo shared with @shareable, an Error interface with
 * its own InvalidInputError and ErrorCode, a Vendor entity and Query.vendors, BulkJob,
 * DeliveryWarning. This subgraph must compose beside it (docs/api.md, "Names").
 */
const CATALOG_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

type Query {
  vendors: [Vendor!]!
  products(first: Int, after: String): ProductConnection!
  bulkJob(id: ID!): BulkJob
}

type Mutation {
  updateProduct(id: ID!, name: String!): UpdateProductResult!
  cancelBulkJob(id: ID!): BulkJob
}

type Vendor @key(fields: "id") {
  id: ID!
  name: String!
}

type Product @key(fields: "id") {
  id: ID!
  name: String!
  vendor: Vendor!
}

type ProductEdge {
  cursor: String!
  node: Product!
}

type ProductConnection {
  edges: [ProductEdge!]!
  pageInfo: PageInfo!
}

type PageInfo @shareable {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

interface Error {
  message: String!
}

enum ErrorCode {
  INVALID_INPUT
  NOT_FOUND
}

type InvalidInputError implements Error {
  message: String!
  code: ErrorCode!
  field: String
}

type NotFoundError implements Error {
  message: String!
}

union UpdateProductResult = Product | InvalidInputError | NotFoundError

type DeliveryWarning {
  message: String!
}

type BulkJob {
  id: ID!
  status: String!
  warnings: [DeliveryWarning!]!
}
`;

/** The names this subgraph used before issue 24 (README, "Migrating from the old names"), old → new. */
const RENAMED: Record<string, string> = {
  // root fields
  vendors: "attributeVendors",
  bulkJob: "attributeBulkJob",
  cancelBulkJob: "cancelAttributeBulkJob",
  retryBulkJob: "retryAttributeBulkJob",
  // types
  Vendor: "AttributesVendor",
  Error: "AttributesError",
  ErrorCode: "AttributesErrorCode",
  VendorError: "AttributesVendorError",
  PageInfo: "AttributesPageInfo",
  InvalidInputError: "AttributesInvalidInputError",
  InputProblem: "AttributesInputProblem",
  DeliveryWarning: "AttributesDeliveryWarning",
  BulkJob: "AttributesBulkJob",
  BulkJobResult: "AttributesBulkJobResult",
  BulkJobStatus: "AttributesBulkJobStatus",
  BulkJobCancelReason: "AttributesBulkJobCancelReason",
  BulkJobNotFoundError: "AttributesBulkJobNotFoundError",
  BulkJobNotFinishedError: "AttributesBulkJobNotFinishedError",
  BulkVendorProgress: "AttributesBulkVendorProgress",
  BulkFailure: "AttributesBulkFailure",
  BulkFailureCount: "AttributesBulkFailureCount",
  BulkFailureConnection: "AttributesBulkFailureConnection",
  BulkFailureEdge: "AttributesBulkFailureEdge",
  BulkSetCustomAttributeInput: "AttributesBulkSetCustomAttributeInput",
  BulkSetCustomAttributeResult: "AttributesBulkSetCustomAttributeResult",
  RetryBulkJobInput: "AttributesBulkJobRetryInput",
  RetryBulkJobResult: "AttributesBulkJobRetryResult",
  CancelBulkJobResult: "AttributesBulkJobCancelResult",
  CancelAttributeDeliveryResult: "AttributeDeliveryCancelResult",
  UpdateAttributesInput: "AttributesUpdateInput",
  UpdateAttributesResult: "AttributesUpdateResult",
  UpdateAttributesSuccess: "AttributesUpdateSuccess",
  ProfileFieldsInput: "AttributesProfileFieldsInput",
  TagChangesInput: "AttributesTagChangesInput",
  VendorOptionsInput: "AttributesVendorOptionsInput",
  LeanplumOptionsInput: "AttributesLeanplumOptionsInput",
  LeanplumEventAggregateInput: "AttributesLeanplumEventAggregateInput",
  LeanplumStateAggregateInput: "AttributesLeanplumStateAggregateInput",
  VendorDeliveryResult: "AttributesVendorDeliveryResult",
  VendorDeliverySuccess: "AttributesVendorDeliverySuccess",
  VendorDeliveryQueued: "AttributesVendorDeliveryQueued",
  VendorDeliveryQueue: "AttributesVendorDeliveryQueue",
  VendorInfo: "AttributesVendorInfo",
  VendorMode: "AttributesVendorMode",
  VendorCapabilitiesInfo: "AttributesVendorCapabilitiesInfo",
  SupportedOperation: "AttributesSupportedOperation",
  VendorProfile: "AttributesVendorProfile",
  VendorProfileResult: "AttributesVendorProfileResult",
  ProfileFields: "AttributesProfileFields",
  NotAuthorizedError: "AttributesNotAuthorizedError",
  SharedStateUnavailableError: "AttributesSharedStateUnavailableError",
  TooManyUserIdsError: "AttributesTooManyUserIdsError",
  NothingToRetryError: "AttributesNothingToRetryError",
  IdempotencyKeyReusedError: "AttributesIdempotencyKeyReusedError",
  IdempotencyStoreFullError: "AttributesIdempotencyStoreFullError",
  IdempotencyKeyInProgressError: "AttributesIdempotencyKeyInProgressError",
  AuthenticationFailedError: "AttributesAuthenticationFailedError",
  PermissionDeniedError: "AttributesPermissionDeniedError",
  VendorUserNotFoundError: "AttributesVendorUserNotFoundError",
  ValueRejectedError: "AttributesValueRejectedError",
  UnsupportedOperationError: "AttributesUnsupportedOperationError",
  RateLimitedError: "AttributesRateLimitedError",
  VendorUnavailableError: "AttributesVendorUnavailableError",
  VendorNotConfiguredError: "AttributesVendorNotConfiguredError",
  DeliveryOutcomeUnknownError: "AttributesDeliveryOutcomeUnknownError",
  InternalDeliveryError: "AttributesInternalDeliveryError",
};

/** The types the rule exempts: the federated entity this subgraph extends, the standard scalar, the roots. */
const EXEMPT_TYPES = new Set(["User", "DateTime", "Query", "Mutation"]);

const readSchema = () => readFile(new URL("../../schema.graphql", import.meta.url), "utf8");

/** schema.graphql as it was before the rename: every new name put back to its old one. */
function withOldNames(sdl: string): string {
  const back = new Map(Object.entries(RENAMED).map(([old, renamed]) => [renamed, old]));
  const names = [...back.keys()].sort((a, b) => b.length - a.length);
  return sdl.replace(new RegExp(`\\b(${names.join("|")})\\b`, "g"), (name) => back.get(name)!);
}

function compose(attributesSdl: string) {
  return composeServices([
    { name: "users", url: "http://users.invalid/graphql", typeDefs: parse(USERS_SDL) },
    { name: "attributes", url: "http://attributes.invalid/graphql", typeDefs: parse(attributesSdl) },
    { name: "catalog", url: "http://catalog.invalid/graphql", typeDefs: parse(CATALOG_SDL) },
  ]);
}

const definedNames = (document: DocumentNode): string[] =>
  document.definitions.flatMap((d) => ("name" in d && d.name && d.kind !== Kind.DIRECTIVE_DEFINITION ? [d.name.value] : []));

const rootFields = (document: DocumentNode): string[] =>
  document.definitions
    .filter(
      (d): d is ObjectTypeDefinitionNode =>
        d.kind === Kind.OBJECT_TYPE_DEFINITION && (d.name.value === "Query" || d.name.value === "Mutation"),
    )
    .flatMap((d) => (d.fields ?? []).map((f) => `${d.name.value}.${f.name.value}`));

describe("composition beside a subgraph that uses the common names", () => {
  it("the neighbour really claims the generic names (so the test below is not vacuous)", () => {
    const catalog = parse(CATALOG_SDL);
    expect(definedNames(catalog)).toEqual(
      expect.arrayContaining(["Vendor", "PageInfo", "Error", "ErrorCode", "InvalidInputError", "DeliveryWarning", "BulkJob"]),
    );
    expect(rootFields(catalog)).toEqual(expect.arrayContaining(["Query.vendors", "Query.bulkJob", "Mutation.cancelBulkJob"]));
  });

  it("failed with the old names: TYPE_KIND_MISMATCH, FIELD_TYPE_MISMATCH, INVALID_FIELD_SHARING", async () => {
    const old = withOldNames(await readSchema());
    // The put-back schema is the pre-rename one: the generic names and root fields are all there.
    expect(definedNames(parse(old))).toEqual(expect.arrayContaining(["Vendor", "PageInfo", "Error", "InvalidInputError", "BulkJob"]));
    expect(rootFields(parse(old))).toEqual(expect.arrayContaining(["Query.vendors", "Query.bulkJob", "Mutation.cancelBulkJob"]));
    const result = compose(old);
    const errors = (result.errors ?? []).map((e) => `${String(e.extensions["code"])}: ${e.message}`);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^TYPE_KIND_MISMATCH: Type "Vendor"/),
        expect.stringMatching(/^FIELD_TYPE_MISMATCH: Type of field "Query\.vendors"/),
        expect.stringMatching(/^INVALID_FIELD_SHARING: Non-shareable field "PageInfo\./),
        expect.stringMatching(/^INVALID_FIELD_SHARING: Non-shareable field "InvalidInputError\./),
      ]),
    );
  });

  it("composes with schema.graphql's names, with no errors", async () => {
    const result = compose(await readSchema());
    expect((result.errors ?? []).map((e) => e.message)).toEqual([]);
    const supergraph = result.supergraphSdl ?? "";
    // Both subgraphs' types and root fields are in the supergraph, side by side.
    expect(supergraph).toMatch(/\n {2}vendors: \[Vendor!\]! @join__field\(graph: CATALOG\)/);
    expect(supergraph).toMatch(/\n {2}attributeVendors: \[AttributesVendorInfo!\]! @join__field\(graph: ATTRIBUTES\)/);
    expect(supergraph).toMatch(/\ntype PageInfo\s+@join__type\(graph: CATALOG\)/);
    expect(supergraph).toMatch(/\ntype AttributesPageInfo\s+@join__type\(graph: ATTRIBUTES\)/);
    expect(supergraph).toMatch(/\nenum AttributesVendor\s+@join__type\(graph: ATTRIBUTES\)/);
  });
});

describe('names (docs/api.md, "Names")', () => {
  it("every type, interface, union, enum and input of schema.graphql starts with Attribute, but User and DateTime", async () => {
    const names = definedNames(parse(await readSchema()));
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((name) => !name.startsWith("Attribute") && !EXEMPT_TYPES.has(name))).toEqual([]);
  });

  it("every root field names attribute", async () => {
    const fields = rootFields(parse(await readSchema()));
    expect(fields.length).toBeGreaterThan(5);
    expect(fields.filter((field) => !/attribute/i.test(field.split(".")[1]!))).toEqual([]);
  });

  it("no old name is left in schema.graphql, and every new one is in it", async () => {
    const sdl = await readSchema();
    const names = new Set(definedNames(parse(sdl)));
    const fields = new Set(rootFields(parse(sdl)).map((f) => f.split(".")[1]!));
    const present = (name: string) => names.has(name) || fields.has(name);
    expect(Object.keys(RENAMED).filter(present)).toEqual([]);
    expect(Object.values(RENAMED).filter((name) => !present(name))).toEqual([]);
  });
});
