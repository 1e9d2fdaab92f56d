/**
 * Example operations shown as GraphiQL tabs. test/graphql/examples.test.ts runs every one against
 * the sandbox vendors and checks the outcome named here, so they cannot rot.
 */
export interface ExampleOperation {
  readonly name: string;
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  /** The __typename expected at the first result path (for the examples test). */
  readonly expect: { readonly path: readonly string[]; readonly typename: string };
}

const DELIVERY_FIELDS = `
      deliveries {
        __typename
        ... on VendorDeliverySuccess { vendor httpStatus warnings { code attribute message } }
        ... on VendorError {
          vendor code message httpStatus vendorCode retryable retryAfterSeconds attribute operation
          relatedErrors { __typename code attribute message }
        }
      }`;

export const EXAMPLES: readonly ExampleOperation[] = [
  {
    name: "Set custom attributes (Carnival)",
    query: `# Sets typed custom attributes for user 1 in Carnival's sandbox.
# "favorite song" needs Carnival's key normalization: the result carries a KEY_NORMALIZED warning.
mutation SetAttributes($input: UpdateAttributesInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on UpdateAttributesSuccess {
      user { id }
      allDelivered${DELIVERY_FIELDS}
    }
    ... on InvalidInputError { message path problems { path message } }
  }
}`,
    variables: {
      input: {
        userId: "1",
        vendors: ["CARNIVAL"],
        operations: [
          { op: "SET", attribute: "plan", value: { string: "gold" } },
          { op: "SET", attribute: "logins", value: { int: 42 } },
          { op: "SET", attribute: "vip", value: { boolean: true } },
          { op: "SET", attribute: "renews_at", value: { dateTime: "2027-01-31T09:00:00Z" } },
          { op: "SET", attribute: "starred_tracks", value: { intList: [1, 6, 11] } },
          { op: "SET", attribute: "favorite song", value: { string: "Drive My Car" } },
        ],
      },
    },
    expect: { path: ["updateAttributes", "deliveries", "0"], typename: "VendorDeliverySuccess" },
  },
  {
    name: "Values Carnival would lose (typed errors)",
    query: `# Carnival truncates strings over 255 characters and discards out-of-range integers.
# The subgraph refuses to send them: ValueRejectedError, with every problem in relatedErrors.
mutation RejectedValues($input: UpdateAttributesInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on UpdateAttributesSuccess {
      allDelivered${DELIVERY_FIELDS}
    }
  }
}`,
    variables: {
      input: {
        userId: "1",
        vendors: ["CARNIVAL"],
        operations: [
          { op: "SET", attribute: "bio", value: { string: "x".repeat(256) } },
          { op: "SET", attribute: "big", value: { int: -2147483648 } },
        ],
      },
    },
    expect: { path: ["updateAttributes", "deliveries", "0"], typename: "ValueRejectedError" },
  },
  {
    name: "Unknown user (typed error)",
    query: `# Carnival only updates users its SDK created: an unknown user id is VendorUserNotFoundError.
mutation UnknownUser {
  updateAttributes(input: {
    userId: "no-such-user"
    vendors: [CARNIVAL]
    operations: [{ op: SET, attribute: "plan", value: { string: "gold" } }]
  }) {
    __typename
    ... on UpdateAttributesSuccess {${DELIVERY_FIELDS}
    }
  }
}`,
    expect: { path: ["updateAttributes", "deliveries", "0"], typename: "VendorUserNotFoundError" },
  },
  {
    name: "Invalid input (typed error)",
    query: `# Each value sets exactly one field; two fields is a request-level InvalidInputError.
mutation InvalidInput {
  updateAttributes(input: {
    userId: "1"
    operations: [{ op: SET, attribute: "plan", value: { string: "gold", int: 1 } }]
  }) {
    __typename
    ... on InvalidInputError { code message path problems { path message } }
  }
}`,
    expect: { path: ["updateAttributes"], typename: "InvalidInputError" },
  },
  {
    name: "Vendors and what they support",
    query: `query Vendors {
  vendors {
    __typename
    vendor
    displayName
    mode
    capabilities { operations { op valueTypes } profileFields addTags removeTags readProfile createsUsers }
  }
}`,
    expect: { path: ["vendors", "0"], typename: "VendorInfo" },
  },
];
