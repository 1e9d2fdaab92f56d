import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { UPDATE_ATTRIBUTES } from "../support/subgraph.js";
import { usercom } from "../../src/vendors/usercom/index.js";
import { startObservedSubgraph, type ObservedSubgraph } from "./observed.js";

const PRIVATE_VALUE = "very-private-plan-value-7f3a";
const CALLER_TOKEN = "Bearer caller-token-that-must-not-be-logged";

/** Structured logs: one line per operation and per vendor call, tied by the request id, with no secret. */
describe("operation and vendor call logs", () => {
  let stand: ObservedSubgraph;
  let subgraph: ObservedSubgraph;
  let apiKey: string;

  beforeAll(async () => {
    // User.com "live", against the User.com sandbox, so its API key is a configured secret.
    stand = await startObservedSubgraph({ modules: [usercom] });
    const env = usercom.sandboxEnv(stand.runtime.sandboxes.get("usercom")!.url);
    apiKey = env.USERCOM_API_KEY!;
    subgraph = await startObservedSubgraph({ modules: [usercom], sandbox: "off", env });
  });
  afterAll(async () => {
    await subgraph.close();
    await stand.close();
  });

  const send = async (input: Record<string, unknown>, headers: Record<string, string>) => {
    const response = await fetch(subgraph.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: CALLER_TOKEN, ...headers },
      body: JSON.stringify({ query: UPDATE_ATTRIBUTES, variables: { input }, operationName: "Update" }),
    });
    return { requestId: response.headers.get("x-request-id"), body: (await response.json()) as any };
  };

  it("writes one line per operation with its request id, name, result type and deliveries", async () => {
    const { requestId, body } = await send(
      { userId: "1", vendors: ["USERCOM"], operations: [{ op: "SET", attribute: "plan", value: { string: PRIVATE_VALUE } }] },
      { "x-request-id": "req-logs-1" },
    );
    expect(requestId).toBe("req-logs-1");
    expect(body.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorDeliverySuccess");
    const lines = subgraph.logs.filter((line) => line.requestId === "req-logs-1");
    const operation = lines.filter((line) => line.msg === "graphql operation");
    expect(operation).toEqual([
      expect.objectContaining({
        level: 30,
        service: "attributes-subgraph",
        requestId: "req-logs-1",
        operation: { name: "Update", type: "mutation", fields: ["updateAttributes"], result: "AttributesUpdateSuccess" },
        durationMs: expect.any(Number),
        deliveries: [{ vendor: "usercom", outcome: "delivered", durationMs: expect.any(Number) }],
      }),
    ]);
    const calls = lines.filter((line) => line.msg === "vendor call").map((line) => line.vendorCall);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls).toContainEqual({
      vendor: "usercom",
      operation: "updateUserByCustomId",
      method: "PUT",
      requestId: "req-logs-1",
      outcome: "response",
      status: 200,
      durationMs: expect.any(Number),
      attempts: 1,
    });
  });

  it("names a typed failure's category in the operation line", async () => {
    await send(
      { userId: "1", vendors: ["USERCOM"], operations: [{ op: "SET", attribute: "undefined_attribute", value: { int: 1 } }] },
      { "x-request-id": "req-logs-2" },
    );
    const operation = subgraph.logs.find((line) => line.requestId === "req-logs-2" && line.msg === "graphql operation");
    expect(operation?.deliveries).toEqual([
      { vendor: "usercom", outcome: "ATTRIBUTE_NOT_DEFINED", retryable: false, durationMs: expect.any(Number) },
    ]);
  });

  it("generates a request id when the caller gives none (or an unsafe one) and uses it throughout", async () => {
    const { requestId } = await send(
      { userId: "2", vendors: ["USERCOM"], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
      { "x-request-id": 'not a safe id: {"level":60}' },
    );
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const lines = subgraph.logs.filter((line) => line.requestId === requestId);
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(["graphql operation", "vendor call"]));
  });

  it("logs request-level GraphQL errors by code, not by the caller's text", async () => {
    const response = await fetch(subgraph.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-logs-3" },
      body: JSON.stringify({ query: "{ secretFieldName }" }),
    });
    expect(response.status).toBe(400);
    const operation = subgraph.logs.find((line) => line.requestId === "req-logs-3" && line.msg === "graphql operation");
    expect(operation).toMatchObject({
      operation: { name: null, type: "unknown", fields: [], result: "error" },
      errors: ["GRAPHQL_VALIDATION_FAILED"],
    });
    expect(JSON.stringify(operation)).not.toContain("secretFieldName");
  });

  it("never writes a secret, the caller's token or a variable's value", () => {
    expect(subgraph.rawLogs.length).toBeGreaterThan(0);
    for (const forbidden of [apiKey, CALLER_TOKEN, PRIVATE_VALUE]) {
      expect(subgraph.rawLogs.filter((line) => line.includes(forbidden))).toEqual([]);
    }
  });
});
