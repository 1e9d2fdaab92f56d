/**
 * Example operations shown as GraphiQL tabs. test/graphql/examples.test.ts runs every one against
 * the sandbox vendors and checks the outcome named here, so they cannot rot.
 */
export interface ExampleOperation {
  readonly name: string;
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  /** Request headers the tab sends (GraphiQL's headers pane). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The __typename expected at the first result path (for the examples test). */
  readonly expect: { readonly path: readonly string[]; readonly typename: string };
}

const DELIVERY_FIELDS = `
      deliveries {
        __typename
        ... on AttributesVendorDeliverySuccess { vendor httpStatus warnings { code attribute message } }
        ... on AttributesVendorDeliveryPreview { vendor requests { method url headers { name value } body lookup } warnings { code message } }
        ... on AttributesVendorDeliveryQueued {
          vendor deliveryId reason attempts nextAttemptAt expiresAt queuedBehind durable
          lastError { __typename code message httpStatus }
        }
        ... on AttributesVendorError {
          vendor code message httpStatus vendorCode retryable retryAfterSeconds attribute operation
          relatedErrors { __typename code attribute message }
        }
      }`;

/** The selection of a whole updateAttributes result, for examples that show every case. */
const UPDATE_RESULT = `
    __typename
    ... on AttributesUpdateSuccess {
      user { id }
      allDelivered
      replayed${DELIVERY_FIELDS}
    }
    ... on AttributesInvalidInputError { code message path problems { path message } }
    ... on AttributesNotAuthorizedError { code message requiredScope }
    ... on AttributesIdempotencyKeyReusedError { code message idempotencyKey }`;

const BULK_JOB_FIELDS = `
      id status attribute duplicateUserIds cancelRequested cancelReason createdAt startedAt finishedAt
      value { type string int float boolean dateTime stringList }
      progress { vendor total succeeded failed cancelled pending failuresByCode { code count } failuresKept failuresTruncated }
      failures(first: 20) {
        totalCount
        edges { node { userId vendor error { __typename code message retryable retryAfterSeconds } } }
        pageInfo { hasNextPage endCursor }
      }`;

const PROFILE_FIELDS = `
        __typename
        ... on AttributesVendorProfile {
          vendor
          attributes { name value { type string int float boolean dateTime stringList } }
          profile { email firstName lastName phone locale country region city timezone }
          tags
          notes { code attribute message }
        }
        ... on AttributesVendorError { vendor code message retryable }
        ... on AttributesNotAuthorizedError { code message }`;

/** An updateAttributes example with the full result selection and its input as variables. */
function update(
  name: string,
  operation: string,
  comment: string,
  input: Record<string, unknown>,
  typename: string,
  path = ["updateAttributes", "deliveries", "0"],
): ExampleOperation {
  return {
    name,
    query: `${comment
      .trim()
      .split("\n")
      .map((line) => `# ${line.trim()}`)
      .join("\n")}
mutation ${operation}($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {${UPDATE_RESULT}
  }
}`,
    variables: { input },
    expect: { path, typename },
  };
}

export const EXAMPLES: readonly ExampleOperation[] = [
  {
    name: "Set custom attributes (Carnival)",
    query: `# Sets typed custom attributes for user 1 in Carnival's sandbox.
# "favorite song" needs Carnival's key normalization: the result carries a KEY_NORMALIZED warning.
mutation SetAttributes($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on AttributesUpdateSuccess {
      user { id }
      allDelivered${DELIVERY_FIELDS}
    }
    ... on AttributesInvalidInputError { message path problems { path message } }
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
    expect: { path: ["updateAttributes", "deliveries", "0"], typename: "AttributesVendorDeliverySuccess" },
  },
  update(
    "Typed attributes, checked against the catalog (Jiguang)",
    "JiguangAttributes",
    `Jiguang decides what a write does from each attribute's declared type and rule (the catalog,
JIGUANG_ATTRIBUTES; the sandbox declares plan, vip_level, is_member, last_login, points, interests…).
Every operation is checked against it before anything is sent. Appends carry APPEND_NOT_DEDUPLICATED.`,
    {
      userId: "1",
      vendors: ["JIGUANG"],
      operations: [
        { op: "SET", attribute: "plan", value: { string: "gold" } },
        { op: "SET", attribute: "vip_level", value: { int: 3 } },
        { op: "SET", attribute: "is_member", value: { boolean: true } },
        { op: "SET", attribute: "last_login", value: { dateTime: "2026-05-01T08:30:00Z" } },
        { op: "INCREMENT", attribute: "points", value: { int: 10 } },
        { op: "ADD_TO_SET", attribute: "interests", value: { stringList: ["jazz", "cycling"] } },
      ],
    },
    "AttributesVendorDeliverySuccess",
  ),
  update(
    "Attributes and location fields (Leanplum)",
    "LeanplumAttributes",
    `Leanplum takes SET, INCREMENT (integers), ADD_TO_SET / REMOVE_FROM_SET (one string) and UNSET,
plus location and locale fields. createIfMissing: true creates the user if Leanplum has none.`,
    {
      userId: "1",
      vendors: ["LEANPLUM"],
      createIfMissing: true,
      operations: [
        { op: "SET", attribute: "plan", value: { string: "gold" } },
        { op: "INCREMENT", attribute: "logins", value: { int: 1 } },
        { op: "ADD_TO_SET", attribute: "genres", value: { string: "jazz" } },
        { op: "UNSET", attribute: "trial_ends_at" },
      ],
      profile: { city: "Berlin", country: "DE", locale: "de_DE", timezone: "Europe/Berlin" },
    },
    "AttributesVendorDeliverySuccess",
  ),
  update(
    "Profile fields, attributes and tags (User.com)",
    "UserComProfile",
    `User.com takes standard profile fields, SET on defined custom attributes and tags.
The subgraph compares the user User.com returns with what was sent, so nothing is lost silently.`,
    {
      userId: "1",
      vendors: ["USERCOM"],
      profile: { email: "ada@example.test", firstName: "Ada", lastName: "Lovelace" },
      operations: [
        { op: "SET", attribute: "plan", value: { string: "gold" } },
        { op: "SET", attribute: "logins", value: { int: 42 } },
        { op: "SET", attribute: "vip", value: { boolean: true } },
      ],
      tags: { add: ["beta"] },
    },
    "AttributesVendorDeliverySuccess",
  ),
  update(
    "Every vendor at once",
    "EveryVendor",
    `Without \`vendors\`, the update goes to every configured vendor concurrently.
Each vendor answers on its own: one AttributesVendorDeliveryResult per vendor, in registry order.`,
    { userId: "1", operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
    "AttributesVendorDeliverySuccess",
  ),
  update(
    "One request, a different answer per vendor",
    "MixedResults",
    `INCREMENT is not something every vendor can do: Carnival and User.com refuse it before sending
(AttributesUnsupportedOperationError), Jiguang's catalog does not declare "logins" (AttributeNotDefinedError),
and Leanplum applies it. A frontend switches on each delivery's __typename.`,
    { userId: "1", operations: [{ op: "INCREMENT", attribute: "logins", value: { int: 1 } }] },
    "AttributesUnsupportedOperationError",
  ),
  {
    name: "Values Carnival would lose (typed errors)",
    query: `# Carnival truncates strings over 255 characters and discards out-of-range integers.
# The subgraph refuses to send them: AttributesValueRejectedError, with every problem in relatedErrors.
mutation RejectedValues($input: AttributesUpdateInput!) {
  updateAttributes(input: $input) {
    __typename
    ... on AttributesUpdateSuccess {
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
    expect: { path: ["updateAttributes", "deliveries", "0"], typename: "AttributesValueRejectedError" },
  },
  {
    name: "Unknown user (typed error)",
    query: `# Carnival only updates users its SDK created: an unknown user id is AttributesVendorUserNotFoundError.
mutation UnknownUser {
  updateAttributes(input: {
    userId: "no-such-user"
    vendors: [CARNIVAL]
    operations: [{ op: SET, attribute: "plan", value: { string: "gold" } }]
  }) {
    __typename
    ... on AttributesUpdateSuccess {${DELIVERY_FIELDS}
    }
  }
}`,
    expect: { path: ["updateAttributes", "deliveries", "0"], typename: "AttributesVendorUserNotFoundError" },
  },
  update(
    "Attribute missing from the catalog (Jiguang, typed error)",
    "JiguangUndeclared",
    `An attribute the catalog does not declare cannot exist in Jiguang: AttributeNotDefinedError,
nothing sent. Declare it in Jiguang's Data Center and in JIGUANG_ATTRIBUTES first.`,
    { userId: "1", vendors: ["JIGUANG"], operations: [{ op: "SET", attribute: "favourite_colour", value: { string: "teal" } }] },
    "AttributeNotDefinedError",
  ),
  update(
    "Operation against the attribute's rule (Jiguang, typed error)",
    "JiguangWrongRule",
    `"points" accumulates in Jiguang: a SET would add instead of overwrite.
The subgraph refuses it (AttributesUnsupportedOperationError) and the message names the operation that fits.`,
    { userId: "1", vendors: ["JIGUANG"], operations: [{ op: "SET", attribute: "points", value: { int: 100 } }] },
    "AttributesUnsupportedOperationError",
  ),
  update(
    "Undefined custom attribute (User.com, typed error)",
    "UserComUndefined",
    `User.com (API version 2) refuses custom attributes the app has not defined:
AttributeNotDefinedError, and the message says nothing was applied.`,
    { userId: "1", vendors: ["USERCOM"], operations: [{ op: "SET", attribute: "shoe_size", value: { int: 42 } }] },
    "AttributeNotDefinedError",
  ),
  update(
    "Operation a vendor does not have (Leanplum, typed error)",
    "LeanplumSetOnce",
    `Leanplum has no SET_ONCE: AttributesUnsupportedOperationError, and nothing is sent to Leanplum.`,
    { userId: "1", vendors: ["LEANPLUM"], operations: [{ op: "SET_ONCE", attribute: "first_channel", value: { string: "ads" } }] },
    "AttributesUnsupportedOperationError",
  ),
  {
    name: "Invalid input (typed error)",
    query: `# Each value sets exactly one field; two fields is a request-level AttributesInvalidInputError.
mutation InvalidInput {
  updateAttributes(input: {
    userId: "1"
    operations: [{ op: SET, attribute: "plan", value: { string: "gold", int: 1 } }]
  }) {
    __typename
    ... on AttributesInvalidInputError { code message path problems { path message } }
  }
}`,
    expect: { path: ["updateAttributes"], typename: "AttributesInvalidInputError" },
  },
  update(
    "Safe to repeat: an idempotency key",
    "IdempotentUpdate",
    `Run this twice: the second answer is the stored first one with replayed: true, and nothing is sent.
The same key with another input is AttributesIdempotencyKeyReusedError.`,
    {
      userId: "2",
      vendors: ["CARNIVAL", "USERCOM"],
      idempotencyKey: "checkout-2026-05-01-0001",
      operations: [{ op: "SET", attribute: "plan", value: { string: "platinum" } }],
    },
    "AttributesUpdateSuccess",
    ["updateAttributes"],
  ),
  {
    name: "Read attributes back (as the router asks for a User)",
    query: `# The users subgraph owns User; this subgraph adds attributeProfiles. Through a router this is
# { user(id: "1") { attributeProfiles { … } } }; here the router's entity request is written out.
# Vendors without a read endpoint (Carnival, Jiguang) answer AttributesUnsupportedOperationError.
query ReadBack($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on User {
      id
      attributeProfiles(vendors: [USERCOM, LEANPLUM, CARNIVAL]) {${PROFILE_FIELDS}
      }
    }
  }
}`,
    variables: { representations: [{ __typename: "User", id: "1" }] },
    expect: { path: ["_entities", "0", "attributeProfiles", "0"], typename: "AttributesVendorProfile" },
  },
  {
    name: "Start a bulk job",
    query: `# One attribute value for many users, through each vendor's fastest honest path. Returns at once:
# copy the id into the "Follow a bulk job" tab.
mutation StartBulkJob($input: AttributesBulkSetCustomAttributeInput!) {
  bulkSetCustomAttribute(input: $input) {
    __typename
    ... on AttributesBulkJob {${BULK_JOB_FIELDS}
    }
    ... on AttributesInvalidInputError { code message problems { path message } }
    ... on AttributesTooManyUserIdsError { code message limit received }
    ... on AttributesNotAuthorizedError { code message requiredScope }
  }
}`,
    variables: {
      input: {
        userIds: ["1", "2", "3", "404"],
        attribute: "plan",
        value: { string: "gold" },
        vendors: ["CARNIVAL", "LEANPLUM", "USERCOM"],
      },
    },
    expect: { path: ["bulkSetCustomAttribute"], typename: "AttributesBulkJob" },
  },
  {
    name: "Follow a bulk job",
    query: `# Paste the id from "Start a bulk job" into the variables. An unknown id is AttributesBulkJobNotFoundError.
# Failures are typed like any delivery error, per user and vendor (user 404 exists nowhere).
query FollowBulkJob($id: ID!) {
  attributeBulkJob(id: $id) {
    __typename
    ... on AttributesBulkJob {${BULK_JOB_FIELDS}
    }
    ... on AttributesBulkJobNotFoundError { code message id }
    ... on AttributesNotAuthorizedError { code message requiredScope }
  }
}`,
    variables: { id: "paste-the-id-of-a-bulk-job" },
    expect: { path: ["attributeBulkJob"], typename: "AttributesBulkJobNotFoundError" },
  },
  {
    name: "Cancel a bulk job",
    query: `# Stops a job promptly: users not yet sent end as cancelled; requests already sent finish.
mutation CancelBulkJob($id: ID!) {
  cancelAttributeBulkJob(id: $id) {
    __typename
    ... on AttributesBulkJob { id status cancelRequested progress { vendor total succeeded failed cancelled pending } }
    ... on AttributesBulkJobNotFoundError { code message id }
    ... on AttributesNotAuthorizedError { code message requiredScope }
  }
}`,
    variables: { id: "paste-the-id-of-a-bulk-job" },
    expect: { path: ["cancelAttributeBulkJob"], typename: "AttributesBulkJobNotFoundError" },
  },
  {
    name: "Retry a bulk job's failures",
    query: `# Paste the id of a finished job from "Start a bulk job". Starts a new job over the users that failed
# in it: by default those whose final error was retryable; with \`codes\`, those whose final error had one
# of them (user 404 fails as USER_NOT_FOUND), each resent only at the vendors where it failed. The new job
# links to the old one (retryOf; the old one lists it in retries). An unknown id is AttributesBulkJobNotFoundError.
mutation RetryBulkJob($id: ID!, $input: AttributesBulkJobRetryInput) {
  retryAttributeBulkJob(id: $id, input: $input) {
    __typename
    ... on AttributesBulkJob { id status retryOf retries progress { vendor total succeeded failed cancelled pending } }
    ... on AttributesBulkJobNotFoundError { code message id }
    ... on AttributesBulkJobNotFinishedError { code message id status }
    ... on AttributesNothingToRetryError { code message id }
    ... on AttributesInvalidInputError { code message problems { path message } }
    ... on AttributesTooManyUserIdsError { code message limit received }
    ... on AttributesNotAuthorizedError { code message requiredScope }
    ... on AttributesSharedStateUnavailableError { code message retryAfterSeconds }
  }
}`,
    variables: { id: "paste-the-id-of-a-finished-bulk-job", input: { codes: ["USER_NOT_FOUND"] } },
    expect: { path: ["retryAttributeBulkJob"], typename: "AttributesBulkJobNotFoundError" },
  },
  {
    name: "Bulk value refused before the job exists (typed error)",
    query: `# A value a vendor would refuse for every user is refused once, before any job exists.
mutation RefusedBulkJob {
  bulkSetCustomAttribute(input: {
    userIds: ["1", "2", "3"]
    attribute: "bio"
    value: { string: "${"x".repeat(256)}" }
    vendors: [CARNIVAL]
  }) {
    __typename
    ... on AttributesInvalidInputError { code message problems { path message } }
  }
}`,
    expect: { path: ["bulkSetCustomAttribute"], typename: "AttributesInvalidInputError" },
  },
  update(
    "Dry run: the exact requests, nothing written",
    "DryRun",
    `dryRun: true runs every check and mapping and writes nothing: each vendor answers AttributesVendorDeliveryPreview
with the requests it would receive (method, URL, headers and body as sent; credentials redacted), or the refusal a
real run would get. Jiguang's CUID look-up is made and listed as a look-up. Compare a vendor's body with its docs.`,
    {
      userId: "1",
      vendors: ["LEANPLUM", "JIGUANG", "USERCOM", "CARNIVAL"],
      dryRun: true,
      operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
    },
    "AttributesVendorDeliveryPreview",
  ),
  {
    ...update(
      "Guaranteed delivery while a vendor is down (sandbox fault)",
      "GuaranteedDelivery",
      `User.com's sandbox is told (the x-sandbox-fault header, honoured only when every vendor is a sandbox) to be down
for 3 seconds, answering 503 to everything, then to recover. With delivery: GUARANTEED the update is not lost: the
answer is AttributesVendorDeliveryQueued, and the subgraph retries it with backoff until User.com takes it, a few
seconds later. Follow it with the next tab, pasting its deliveryId; attributeVendors shows the queue meanwhile.`,
      {
        userId: "2",
        vendors: ["USERCOM"],
        delivery: "GUARANTEED",
        operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
      },
      "AttributesVendorDeliveryQueued",
    ),
    headers: { "x-sandbox-fault": "down;seconds=3" },
  },
  {
    name: "Follow or cancel a queued delivery",
    query: `# Paste an AttributesVendorDeliveryQueued.deliveryId. Every attempt is listed; once settled, outcome is the vendor's answer.
# cancelAttributeDelivery(id) stops one that is still QUEUED.
query QueuedDelivery($id: ID!) {
  attributeDelivery(id: $id) {
    __typename
    ... on AttributeDelivery {
      id vendor userId status reason durable createdAt expiresAt nextAttemptAt finishedAt note
      attempts { number startedAt durationMs result error { __typename code message retryable } }
      outcome { __typename ... on AttributesVendorDeliverySuccess { vendor httpStatus } ... on AttributesVendorError { code message } }
    }
    ... on AttributeDeliveryNotFoundError { code message id }
    ... on AttributesNotAuthorizedError { code message }
    ... on AttributesSharedStateUnavailableError { code message retryAfterSeconds }
  }
}`,
    variables: { id: "paste a deliveryId here" },
    expect: { path: ["attributeDelivery"], typename: "AttributeDeliveryNotFoundError" },
  },
  {
    name: "Bulk dry run: the plan, nothing written",
    query: `# dryRun: true checks a bulk job as a submission would, then answers its plan instead of starting it:
# per vendor the path, the calls for every user, the duration at the vendor's rate, and the first users' requests.
mutation BulkPlan($input: AttributesBulkSetCustomAttributeInput!) {
  bulkSetCustomAttribute(input: $input) {
    __typename
    ... on AttributesBulkPlan {
      attribute userCount duplicateUserIds
      vendors {
        vendor native path writes lookups ratePerSecond estimatedSeconds sampleUserIds
        sampleRequests { method url headers { name value } body lookup }
        sampleFailures { userId error { __typename code message } }
      }
    }
    ... on AttributesInvalidInputError { code message problems { path message } }
    ... on AttributesTooManyUserIdsError { code message limit received }
  }
}`,
    variables: { input: { userIds: ["1", "2", "3", "4", "5"], attribute: "plan", value: { string: "gold" }, dryRun: true } },
    expect: { path: ["bulkSetCustomAttribute"], typename: "AttributesBulkPlan" },
  },
  {
    name: "Vendors and what they support",
    query: `query Vendors {
  attributeVendors {
    __typename
    vendor
    displayName
    mode
    capabilities { operations { op valueTypes } profileFields addTags removeTags readProfile createsUsers }
    deliveryQueue { durable depth oldestQueuedAt }
  }
}`,
    expect: { path: ["attributeVendors", "0"], typename: "AttributesVendorInfo" },
  },
];
