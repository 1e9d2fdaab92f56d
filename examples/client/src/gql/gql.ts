/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation StartBulkJob($input: BulkSetCustomAttributeInput!) {\n  bulkSetCustomAttribute(input: $input) {\n    __typename\n    ... on BulkJob {\n      ...BulkJobProgress\n    }\n    ... on InvalidInputError {\n      message\n      problems {\n        path\n        message\n      }\n    }\n    ... on TooManyUserIdsError {\n      message\n      limit\n      received\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n  }\n}\n\nquery BulkJob($id: ID!, $failuresAfter: String) {\n  bulkJob(id: $id) {\n    __typename\n    ... on BulkJob {\n      ...BulkJobProgress\n      failures(first: 50, after: $failuresAfter) {\n        totalCount\n        edges {\n          node {\n            userId\n            vendor\n            error {\n              __typename\n              code\n              message\n              retryable\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n    ... on BulkJobNotFoundError {\n      message\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n  }\n}\n\nfragment BulkJobProgress on BulkJob {\n  id\n  status\n  progress {\n    vendor\n    total\n    succeeded\n    failed\n    cancelled\n    pending\n  }\n}": typeof types.StartBulkJobDocument,
    "mutation UpdateAttributes($input: UpdateAttributesInput!) {\n  updateAttributes(input: $input) {\n    __typename\n    ... on UpdateAttributesSuccess {\n      allDelivered\n      replayed\n      user {\n        id\n      }\n      deliveries {\n        ...Delivery\n      }\n    }\n    ... on InvalidInputError {\n      message\n      problems {\n        path\n        message\n      }\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n    ... on IdempotencyKeyReusedError {\n      message\n      idempotencyKey\n    }\n  }\n}\n\nfragment Delivery on VendorDeliveryResult {\n  __typename\n  ... on VendorDeliverySuccess {\n    vendor\n    warnings {\n      code\n      attribute\n      message\n    }\n  }\n  ... on VendorError {\n    vendor\n    code\n    message\n    retryable\n    retryAfterSeconds\n    attribute\n  }\n}": typeof types.UpdateAttributesDocument,
    "query Vendors {\n  vendors {\n    vendor\n    displayName\n    mode\n    capabilities {\n      operations {\n        op\n        valueTypes\n      }\n      profileFields\n      addTags\n      removeTags\n    }\n  }\n}": typeof types.VendorsDocument,
};
const documents: Documents = {
    "mutation StartBulkJob($input: BulkSetCustomAttributeInput!) {\n  bulkSetCustomAttribute(input: $input) {\n    __typename\n    ... on BulkJob {\n      ...BulkJobProgress\n    }\n    ... on InvalidInputError {\n      message\n      problems {\n        path\n        message\n      }\n    }\n    ... on TooManyUserIdsError {\n      message\n      limit\n      received\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n  }\n}\n\nquery BulkJob($id: ID!, $failuresAfter: String) {\n  bulkJob(id: $id) {\n    __typename\n    ... on BulkJob {\n      ...BulkJobProgress\n      failures(first: 50, after: $failuresAfter) {\n        totalCount\n        edges {\n          node {\n            userId\n            vendor\n            error {\n              __typename\n              code\n              message\n              retryable\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n    ... on BulkJobNotFoundError {\n      message\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n  }\n}\n\nfragment BulkJobProgress on BulkJob {\n  id\n  status\n  progress {\n    vendor\n    total\n    succeeded\n    failed\n    cancelled\n    pending\n  }\n}": types.StartBulkJobDocument,
    "mutation UpdateAttributes($input: UpdateAttributesInput!) {\n  updateAttributes(input: $input) {\n    __typename\n    ... on UpdateAttributesSuccess {\n      allDelivered\n      replayed\n      user {\n        id\n      }\n      deliveries {\n        ...Delivery\n      }\n    }\n    ... on InvalidInputError {\n      message\n      problems {\n        path\n        message\n      }\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n    ... on IdempotencyKeyReusedError {\n      message\n      idempotencyKey\n    }\n  }\n}\n\nfragment Delivery on VendorDeliveryResult {\n  __typename\n  ... on VendorDeliverySuccess {\n    vendor\n    warnings {\n      code\n      attribute\n      message\n    }\n  }\n  ... on VendorError {\n    vendor\n    code\n    message\n    retryable\n    retryAfterSeconds\n    attribute\n  }\n}": types.UpdateAttributesDocument,
    "query Vendors {\n  vendors {\n    vendor\n    displayName\n    mode\n    capabilities {\n      operations {\n        op\n        valueTypes\n      }\n      profileFields\n      addTags\n      removeTags\n    }\n  }\n}": types.VendorsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation StartBulkJob($input: BulkSetCustomAttributeInput!) {\n  bulkSetCustomAttribute(input: $input) {\n    __typename\n    ... on BulkJob {\n      ...BulkJobProgress\n    }\n    ... on InvalidInputError {\n      message\n      problems {\n        path\n        message\n      }\n    }\n    ... on TooManyUserIdsError {\n      message\n      limit\n      received\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n  }\n}\n\nquery BulkJob($id: ID!, $failuresAfter: String) {\n  bulkJob(id: $id) {\n    __typename\n    ... on BulkJob {\n      ...BulkJobProgress\n      failures(first: 50, after: $failuresAfter) {\n        totalCount\n        edges {\n          node {\n            userId\n            vendor\n            error {\n              __typename\n              code\n              message\n              retryable\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n    ... on BulkJobNotFoundError {\n      message\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n  }\n}\n\nfragment BulkJobProgress on BulkJob {\n  id\n  status\n  progress {\n    vendor\n    total\n    succeeded\n    failed\n    cancelled\n    pending\n  }\n}"): typeof import('./graphql.js').StartBulkJobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UpdateAttributes($input: UpdateAttributesInput!) {\n  updateAttributes(input: $input) {\n    __typename\n    ... on UpdateAttributesSuccess {\n      allDelivered\n      replayed\n      user {\n        id\n      }\n      deliveries {\n        ...Delivery\n      }\n    }\n    ... on InvalidInputError {\n      message\n      problems {\n        path\n        message\n      }\n    }\n    ... on NotAuthorizedError {\n      message\n      requiredScope\n    }\n    ... on IdempotencyKeyReusedError {\n      message\n      idempotencyKey\n    }\n  }\n}\n\nfragment Delivery on VendorDeliveryResult {\n  __typename\n  ... on VendorDeliverySuccess {\n    vendor\n    warnings {\n      code\n      attribute\n      message\n    }\n  }\n  ... on VendorError {\n    vendor\n    code\n    message\n    retryable\n    retryAfterSeconds\n    attribute\n  }\n}"): typeof import('./graphql.js').UpdateAttributesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Vendors {\n  vendors {\n    vendor\n    displayName\n    mode\n    capabilities {\n      operations {\n        op\n        valueTypes\n      }\n      profileFields\n      addTags\n      removeTags\n    }\n  }\n}"): typeof import('./graphql.js').VendorsDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
