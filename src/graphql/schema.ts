import { buildSubgraphSchema } from "@apollo/subgraph";
// The package has no export map; its resolver-map type lives here.
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/index.js";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { parse, type GraphQLSchema } from "graphql";
import { buildSchema, createResolversMap } from "type-graphql";
import { UpdateAttributesResolver } from "./resolvers/update-attributes.resolver.js";
import { BulkResolver } from "./resolvers/bulk.resolver.js";
import { UserAttributesResolver } from "./resolvers/user-attributes.resolver.js";
import { VendorsResolver } from "./resolvers/vendors.resolver.js";
import { User, userReference } from "./user.entity.js";
import { useVendorIds } from "./vendor.enum.js";
import { registerVendorOptions } from "./inputs/vendor-options.input.js";
import type { Vendor } from "../domain/vendor.js";

export const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

type ResolverMap = Record<string, Record<string, unknown>>;

/** What the schema needs to know of each vendor: its id (for the enum) and declared options. */
export type SchemaVendor = Pick<Vendor, "id" | "options">;

export interface SubgraphSchema {
  readonly schema: GraphQLSchema;
  /** The subgraph SDL, with the federation link: what `_service { sdl }` serves and schema.graphql holds. */
  readonly sdl: string;
}

/**
 * The one build function: type-graphql classes → SDL with directives → federation link →
 * buildSubgraphSchema with type-graphql's resolvers plus the entity reference resolver.
 * `schema.graphql` is printed from the same string, so the two cannot drift apart.
 */
export async function buildSubgraph(vendors: readonly SchemaVendor[]): Promise<SubgraphSchema> {
  useVendorIds(vendors.map((v) => v.id));
  registerVendorOptions(vendors);
  const typeGraphQLSchema = await buildSchema({
    resolvers: [UpdateAttributesResolver, UserAttributesResolver, VendorsResolver, BulkResolver],
    orphanedTypes: [User],
    validate: false,
    // The federation directives are defined by buildSubgraphSchema, not by type-graphql.
    skipCheck: true,
  });
  const sdl = `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(typeGraphQLSchema)}\n`;
  const resolvers: ResolverMap = createResolversMap(typeGraphQLSchema) as ResolverMap;
  resolvers.User = {
    ...resolvers.User,
    __resolveReference: (reference: { id: string }) => userReference(reference.id),
  };
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as GraphQLResolverMap<unknown> });
  return { schema, sdl };
}
