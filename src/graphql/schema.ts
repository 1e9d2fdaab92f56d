import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { Kind, parse, print, visit, type DocumentNode, type GraphQLSchema } from "graphql";
import { buildSchema, createResolversMap } from "type-graphql";
import { AttributeDeliveryResolver } from "./resolvers/attribute-delivery.resolver.js";
import { BulkResolver } from "./resolvers/bulk.resolver.js";
import { UpdateAttributesResolver } from "./resolvers/update-attributes.resolver.js";
import { UserAttributesResolver } from "./resolvers/user-attributes.resolver.js";
import { VendorsResolver } from "./resolvers/vendors.resolver.js";
import { User, userReference } from "./user.entity.js";

const AUTH_DIRECTIVES = ["authenticated", "requiresScopes"];

export const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", ${AUTH_DIRECTIVES.map((d) => `"@${d}"`).join(", ")}])`;

type ResolverMap = Record<string, Record<string, unknown>>;
/** buildSubgraphSchema's resolver map, named through its public signature (the package exports no name for it). */
type SubgraphResolvers = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>["resolvers"]>;

/** Every resolver class of the subgraph. */
export const RESOLVER_CLASSES = [
  UpdateAttributesResolver,
  UserAttributesResolver,
  VendorsResolver,
  BulkResolver,
  AttributeDeliveryResolver,
] as const;

export interface SubgraphOptions {
  /**
   * Declare `@authenticated` / `@requiresScopes` for routers that enforce them (default). Apollo
   * Gateway refuses supergraphs that contain them, so deployments behind it turn this off
   * (FEDERATION_AUTH_DIRECTIVES=false). The subgraph enforces authorization either way.
   */
  readonly authDirectives?: boolean;
}

export interface SubgraphSchema {
  readonly schema: GraphQLSchema;
  /** The subgraph SDL, with the federation link: what `_service { sdl }` serves and schema.graphql holds. */
  readonly sdl: string;
}

/**
 * The one build function: type-graphql classes → SDL with directives → federation link →
 * buildSubgraphSchema with type-graphql's own resolver map (its public `createResolversMap`) and
 * the entity reference resolver. The vendor enum and options input come from the vendor registry
 * (built at import), so the schema does not depend on which vendors a process configures.
 * `schema.graphql` is printed from the same string, so the two cannot drift apart.
 */
export async function buildSubgraph(options: SubgraphOptions = {}): Promise<SubgraphSchema> {
  const typeGraphQLSchema = await buildSchema({
    resolvers: RESOLVER_CLASSES,
    orphanedTypes: [User],
    validate: false,
    // The federation directives are defined by buildSubgraphSchema, not by type-graphql.
    skipCheck: true,
  });
  const printed = `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(typeGraphQLSchema)}\n`;
  const sdl = options.authDirectives === false ? withoutAuthDirectives(printed) : printed;
  const resolvers: ResolverMap = createResolversMap(typeGraphQLSchema) as ResolverMap;
  resolvers.User = {
    ...resolvers.User,
    __resolveReference: (reference: { id: string }) => userReference(reference.id),
  };
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as SubgraphResolvers });
  return { schema, sdl };
}

/** The SDL without the authorization directives and their imports. */
function withoutAuthDirectives(sdl: string): string {
  const document = visit<DocumentNode>(parse(sdl), {
    Directive: (node) => (AUTH_DIRECTIVES.includes(node.name.value) ? null : undefined),
    ListValue: (node) => ({
      ...node,
      values: node.values.filter((v) => !(v.kind === Kind.STRING && AUTH_DIRECTIVES.includes(v.value.replace(/^@/, "")))),
    }),
  });
  return `${print(document)}\n`;
}
