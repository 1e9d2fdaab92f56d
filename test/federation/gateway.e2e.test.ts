import { ApolloGateway, IntrospectAndCompose } from "@apollo/gateway";
import { ApolloServer, HeaderMap } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";
import { startUsersSubgraph } from "../../src/dev/users-subgraph.js";

/** Both subgraphs and @apollo/gateway on loopback; the gateway composes them by introspection. */
describe("through @apollo/gateway", () => {
  let attributes: TestSubgraph;
  let users: { url: string; close(): Promise<void> };
  let gateway: ApolloServer;

  const execute = async (query: string, variables?: Record<string, unknown>) => {
    const headers = new HeaderMap([["content-type", "application/json"]]);
    const result = await gateway.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: "POST", headers, search: "", body: variables ? { query, variables } : { query } },
      context: () => Promise.resolve({}),
    });
    if (result.body.kind !== "complete") throw new Error("unexpected streaming response");
    return JSON.parse(result.body.string) as { data?: any; errors?: unknown[] };
  };

  beforeAll(async () => {
    // @apollo/gateway refuses supergraphs with @authenticated / @requiresScopes (Router-only features).
    attributes = await startTestSubgraph({ sandboxUserIds: ["7"], federationAuthDirectives: false });
    users = await startUsersSubgraph();
    gateway = new ApolloServer({
      gateway: new ApolloGateway({
        supergraphSdl: new IntrospectAndCompose({
          subgraphs: [
            { name: "users", url: users.url },
            { name: "attributes", url: attributes.url },
          ],
        }),
      }),
    });
    await gateway.start();
  });
  afterAll(async () => {
    await gateway.stop();
    await users.close();
    await attributes.close();
  });

  it("returns the union result with fields from the users subgraph", async () => {
    const result = await execute(
      `mutation($input: AttributesUpdateInput!) {
        updateAttributes(input: $input) {
          __typename
          ... on AttributesUpdateSuccess {
            user { id email }
            deliveries { __typename ... on AttributesVendorDeliverySuccess { vendor warnings { code } } ... on AttributesVendorError { vendor code } }
          }
        }
      }`,
      {
        input: {
          userId: "7",
          vendors: ["CARNIVAL"],
          operations: [{ op: "SET", attribute: "favorite song", value: { string: "Drive My Car" } }],
        },
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.updateAttributes).toEqual({
      __typename: "AttributesUpdateSuccess",
      user: { id: "7", email: "user7@example.test" },
      deliveries: [{ __typename: "AttributesVendorDeliverySuccess", vendor: "CARNIVAL", warnings: [{ code: "KEY_NORMALIZED" }] }],
    });
  });

  it("returns typed errors through the gateway, including request-level invalid input", async () => {
    const typed = await execute(`mutation {
      updateAttributes(input: { userId: "unknown", vendors: [CARNIVAL], operations: [{ op: SET, attribute: "a", value: { int: 1 } }] }) {
        ... on AttributesUpdateSuccess { deliveries { __typename ... on AttributesVendorError { vendor httpStatus retryable } } }
      }
    }`);
    expect(typed.data.updateAttributes.deliveries).toEqual([
      { __typename: "AttributesVendorUserNotFoundError", vendor: "CARNIVAL", httpStatus: 404, retryable: false },
    ]);

    const invalid = await execute(`mutation {
      updateAttributes(input: { userId: "7", operations: [{ op: SET, attribute: "a", value: { int: 1, string: "x" } }] }) {
        __typename ... on AttributesInvalidInputError { code path }
      }
    }`);
    expect(invalid.data.updateAttributes).toEqual({
      __typename: "AttributesInvalidInputError",
      code: "INVALID_INPUT",
      path: ["input", "operations", "0", "value"],
    });
  });

  it("resolves this subgraph's User fields for entities owned by the users subgraph", async () => {
    const result = await execute(
      `{ user(id: "7") { id name attributeProfiles(vendors: [CARNIVAL]) { __typename ... on AttributesVendorError { vendor code } } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.user).toEqual({
      id: "7",
      name: "User 7",
      attributeProfiles: [{ __typename: "AttributesUnsupportedOperationError", vendor: "CARNIVAL", code: "UNSUPPORTED_OPERATION" }],
    });
  });
});
