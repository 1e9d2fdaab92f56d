import { afterAll, beforeAll, describe } from "@jest/globals";
import { JwtAuthenticator } from "../../src/auth/caller.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { jiguang } from "../../src/vendors/jiguang/index.js";
import { usercom } from "../../src/vendors/usercom/index.js";
import { RETRY_SECRET, RETRY_SUBGRAPH, retryBulkJobTests } from "../support/bulk-retry.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** retryAttributeBulkJob with jobs run in this process (BulkEngine, InMemoryJobStore); the same tests run on Redis in test/shared/. */
describe("retryAttributeBulkJob, in process", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      ...RETRY_SUBGRAPH,
      modules: [carnival, jiguang, usercom],
      authenticator: new JwtAuthenticator({ secret: RETRY_SECRET }),
    });
  });
  afterAll(() => subgraph.close());

  retryBulkJobTests(() => subgraph);
});
