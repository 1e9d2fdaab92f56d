import type { TestSubgraph } from "./subgraph.js";

/** The bulk mutation with every result member selected, shared by the bulk suites. */
export const BULK_MUTATION = `mutation Bulk($input: BulkSetCustomAttributeInput!) {
  bulkSetCustomAttribute(input: $input) {
    __typename
    ... on BulkJob { id status duplicateUserIds progress { vendor total succeeded failed cancelled pending } }
    ... on InvalidInputError { message path problems { path message } }
    ... on TooManyUserIdsError { limit received message code }
    ... on NotAuthorizedError { code message requiredScope }
  }
}`;

/**
 * Polls `bulkJob` until the job has finished and returns it with the given field selection
 * (status is always selected). Fails on GraphQL errors, an unknown job, or after `timeoutMs`.
 */
export async function waitForBulkJob(subgraph: TestSubgraph, id: string, fields: string, timeoutMs = 60_000): Promise<any> {
  const query = `query Job($id: ID!) { bulkJob(id: $id) { __typename ... on BulkJob { status ${fields} } } }`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await subgraph.gql(query, { id });
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    const { __typename, ...job } = result.data.bulkJob;
    if (__typename !== "BulkJob") throw new Error(`bulkJob(${id}) answered ${__typename}`);
    if (!["QUEUED", "RUNNING"].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
