import "reflect-metadata";
import { composeServices } from "@apollo/composition";
import { describe, expect, it } from "@jest/globals";
import { parse } from "graphql";
import { buildSubgraph } from "../../src/graphql/schema.js";
import { USERS_SDL } from "../../src/dev/users-subgraph.js";

describe("composition with a users subgraph", () => {
  it.each([
    ["with the authorization directives (Apollo Router)", true],
    ["without them (@apollo/gateway)", false],
  ])("composes %s with no errors and no hints", async (_flavor, authDirectives) => {
    const { sdl } = await buildSubgraph({ authDirectives });
    const result = composeServices([
      { name: "users", url: "http://users.invalid/graphql", typeDefs: parse(USERS_SDL) },
      { name: "attributes", url: "http://attributes.invalid/graphql", typeDefs: parse(sdl) },
    ]);
    expect(result.errors ?? []).toEqual([]);
    expect((result.hints ?? []).map((h) => `${h.definition.code}: ${h.message}`)).toEqual([]);
    const supergraph = result.supergraphSdl ?? "";
    expect(supergraph).toMatch(/type User\s+@join__type\(graph: ATTRIBUTES, key: "id"\)\s+@join__type\(graph: USERS, key: "id"\)/);
    expect(supergraph).toContain("updateAttributes(input: AttributesUpdateInput!): AttributesUpdateResult!");
    expect(supergraph).toMatch(
      /attributeProfiles\(vendors: \[AttributesVendor!\]\): \[AttributesVendorProfileResult!\]! @join__field\(graph: ATTRIBUTES\)/,
    );
    expect(supergraph.includes('@requiresScopes(scopes: [["attributes:bulk"]])')).toBe(authDirectives);
  });
});
