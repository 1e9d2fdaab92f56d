import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { GATEWAY_EXAMPLES } from "../../src/dev/examples.js";
import { startDevStack, type DevStack } from "../../src/dev/stack.js";
import { createLogger } from "../../src/logging.js";

/** `npm run dev:stack` in process: users subgraph, this subgraph on sandboxes, @apollo/gateway. */
describe("supergraph dev stack", () => {
  let stack: DevStack;
  const logLines: string[] = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        callback();
      },
    });
    stack = await startDevStack({
      env: { SANDBOX_USER_IDS: "1-3" },
      host: "127.0.0.1",
      gatewayPort: 0,
      attributesPort: 0,
      usersPort: 0,
      logger: createLogger({ level: "info", destination }),
    });
  }, 60_000);
  afterAll(() => stack.close());

  const throughGateway = async (query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await fetch(stack.gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
    });
    return (await response.json()) as { data?: any; errors?: unknown[] };
  };

  it.each(GATEWAY_EXAMPLES.map((example) => [example.name, example] as const))("runs the gateway example %s", async (_name, example) => {
    const result = await throughGateway(example.query, example.variables, example.headers);
    expect(result.errors).toBeUndefined();
    let node: any = result.data;
    for (const key of example.expect.path) node = node?.[key];
    expect(node?.__typename).toBe(example.expect.typename);
  });

  it("joins the users subgraph's fields with this subgraph's results", async () => {
    const result = await throughGateway(
      `{ user(id: "2") { id name email attributeProfiles(vendors: [CARNIVAL]) { __typename ... on AttributesVendorError { vendor code } } } }`,
    );
    expect(result).toEqual({
      data: {
        user: {
          id: "2",
          name: "User 2",
          email: "user2@example.test",
          attributeProfiles: [{ __typename: "AttributesUnsupportedOperationError", vendor: "CARNIVAL", code: "UNSUPPORTED_OPERATION" }],
        },
      },
    });
  });

  it("forwards the request id, so one id finds the operation in the subgraph's logs", async () => {
    await throughGateway(
      `mutation { updateAttributes(input: { userId: "1", vendors: [CARNIVAL], operations: [{ op: SET, attribute: "plan", value: { string: "gold" } }] }) { __typename } }`,
      undefined,
      {
        "x-request-id": "stack-request-1",
      },
    );
    const operation = logLines
      .map((line) => JSON.parse(line))
      .find((line) => line.component === "attributes" && line.msg === "graphql operation" && line.requestId === "stack-request-1");
    expect(operation).toMatchObject({
      operation: { fields: ["updateAttributes"], result: "AttributesUpdateSuccess" },
      deliveries: [{ vendor: "carnival", outcome: "delivered" }],
    });
  });

  it("runs the subgraph without the authorization directives @apollo/gateway refuses", async () => {
    const response = await fetch(stack.attributes.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ _service { sdl } }" }),
    });
    const sdl = ((await response.json()) as any).data._service.sdl as string;
    expect(sdl).toContain("updateAttributes");
    expect(sdl).not.toMatch(/@authenticated|@requiresScopes/);
  });

  it("serves GraphiQL at the gateway with its own examples", async () => {
    const response = await fetch(stack.gateway.url, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("query UserWithAttributes");
    expect(html).not.toContain("_entities(representations");
  });
});
