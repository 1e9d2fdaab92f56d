import { afterAll, beforeAll, describe } from "@jest/globals";
import { JwtAuthenticator } from "../../src/auth/caller.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { DELIVERY_SUBGRAPH, attributeDeliveryTests } from "../support/attribute-deliveries.js";
import { RETRY_SECRET } from "../support/bulk-retry.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** GUARANTEED delivery with the queue in this process (lost on restart: durable false); the same tests run on Redis in test/shared/. */
describe("attributeDelivery and cancelAttributeDelivery, in process", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      ...DELIVERY_SUBGRAPH,
      modules: [carnival],
      authenticator: new JwtAuthenticator({ secret: RETRY_SECRET }),
    });
  });
  afterAll(() => subgraph.close());

  attributeDeliveryTests(() => subgraph, false);
});
