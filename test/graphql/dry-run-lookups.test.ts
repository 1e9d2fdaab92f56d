import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { jiguang } from "../../src/vendors/jiguang/index.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** A dry run makes the read-only look-ups a write needs, and lists them: Jiguang's CUIDs when user ids are mapped. */
describe("dryRun with Jiguang user ids mapped by Get CUID (JIGUANG_IDENTITY_NAME)", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [jiguang], sandboxUserIds: ["member-1"], env: { JIGUANG_IDENTITY_NAME: "login_id" } });
  });
  afterAll(() => subgraph.close());

  it("sends the CUID look-up, lists it as a look-up, and writes nothing", async () => {
    const sandbox = subgraph.sandbox("jiguang");
    sandbox.clearJournal();
    const result = await subgraph.gql(
      `mutation($input: AttributesUpdateInput!) { updateAttributes(input: $input) { ... on AttributesUpdateSuccess {
        deliveries { __typename ... on AttributesVendorDeliveryPreview { requests { method url body lookup } } ... on AttributesVendorError { code message } } } } }`,
      { input: { userId: "member-1", dryRun: true, operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] } },
    );
    const requests = result.data.updateAttributes.deliveries[0].requests as Array<{
      method: string;
      url: string;
      body: string;
      lookup: boolean;
    }>;
    expect(requests.map((r) => [r.method, new URL(r.url).pathname.split("/").at(-1), r.lookup])).toEqual([
      ["POST", "register", true],
      ["PUT", "attribute", false],
    ]);
    // The write carries the CUID the look-up returned, as a JSON integer.
    const cuid = /"cuid":(\d+)/.exec(requests[1]!.body)?.[1];
    expect(cuid).toMatch(/^\d+$/);
    expect(sandbox.journal().map((e) => [e.method, e.path.split("/").at(-1)])).toEqual([["POST", "register"]]);
  });
});
