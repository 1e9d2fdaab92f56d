import { EXAMPLES, type ExampleOperation } from "../graphql/examples.js";

/**
 * GraphiQL tabs for the dev stack's gateway: the composed graph first (a User from the users
 * subgraph with this subgraph's fields), then the subgraph's own examples, except the one that
 * spells out the router's entity request (`_entities` is not part of the supergraph's API).
 */
export const GATEWAY_EXAMPLES: readonly ExampleOperation[] = [
  {
    name: "A user across both subgraphs",
    query: `# name and email come from the users subgraph, attributeProfiles from the attributes subgraph:
# the gateway plans the entity fetch. Each vendor's profile is one member of AttributesVendorProfileResult.
query UserWithAttributes {
  user(id: "1") {
    id
    name
    email
    attributeProfiles(vendors: [USERCOM, LEANPLUM, CARNIVAL]) {
      __typename
      ... on AttributesVendorProfile {
        vendor
        attributes { name value { type string int float boolean dateTime stringList } }
        profile { email firstName lastName city country }
        tags
      }
      ... on AttributesVendorError { vendor code message retryable }
    }
  }
}`,
    expect: { path: ["user", "attributeProfiles", "0"], typename: "AttributesVendorProfile" },
  },
  {
    name: "Update, then read the user through the gateway",
    query: `# The mutation's result carries the User entity: the gateway resolves its name from the users subgraph.
mutation UpdateThroughGateway($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on AttributesUpdateSuccess {
      user { id name email }
      deliveries {
        __typename
        ... on AttributesVendorDeliverySuccess { vendor warnings { code message } }
        ... on AttributesVendorError { vendor code message retryable }
      }
    }
    ... on AttributesInvalidInputError { code message problems { path message } }
  }
}`,
    variables: {
      input: { userId: "1", vendors: ["USERCOM", "CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
    },
    expect: { path: ["updateAttributes", "deliveries", "0"], typename: "AttributesVendorDeliverySuccess" },
  },
  ...EXAMPLES.filter((example) => !example.query.includes("_entities")),
];
