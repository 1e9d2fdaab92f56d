import type { TestSubgraph } from "./subgraph.js";

/** The bulk mutation with every result member selected, shared by the bulk suites. */
export const BULK_MUTATION = `mutation Bulk($input: AttributesBulkSetCustomAttributeInput!) {
  bulkSetCustomAttribute(input: $input) {
    __typename
    ... on AttributesBulkJob { id status duplicateUserIds progress { vendor total succeeded failed cancelled pending } }
    ... on AttributesInvalidInputError { message path problems { path message } }
    ... on AttributesTooManyUserIdsError { limit received message code }
    ... on AttributesNotAuthorizedError { code message requiredScope }
  }
}`;

/**
 * Polls `attributeBulkJob` until the job has finished and returns it with the given field selection
 * (status is always selected). Fails on GraphQL errors, an unknown job, or after `timeoutMs`.
 */
export async function waitForBulkJob(subgraph: TestSubgraph, id: string, fields: string, timeoutMs = 60_000): Promise<any> {
  const query = `query Job($id: ID!) { attributeBulkJob(id: $id) { __typename ... on AttributesBulkJob { status ${fields} } } }`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await subgraph.gql(query, { id });
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    const { __typename, ...job } = result.data.attributeBulkJob;
    if (__typename !== "AttributesBulkJob") throw new Error(`attributeBulkJob(${id}) answered ${__typename}`);
    if (!["QUEUED", "RUNNING"].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
