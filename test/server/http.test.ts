import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

describe("HTTP surface", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival], maxBodyBytes: 4096 });
  });
  afterAll(() => subgraph.close());

  it("serves self-hosted GraphiQL to browsers at GET /, with its assets and the examples", async () => {
    const page = await fetch(subgraph.url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="/graphiql/graphiql.js">');
    expect(html).toContain("mutation SetAttributes");
    for (const asset of ["react.js", "react-dom.js", "graphiql.js", "graphiql.css"]) {
      const response = await fetch(new URL(`/graphiql/${asset}`, subgraph.url));
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  it("answers /health", async () => {
    const response = await fetch(new URL("/health", subgraph.url));
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("serves GraphQL over GET for queries and echoes a request id", async () => {
    const response = await fetch(`${subgraph.url}?query=${encodeURIComponent("{ attributeVendors { vendor mode } }")}`, {
      headers: { "apollo-require-preflight": "true", "x-request-id": "abc-123" },
    });
    expect(response.headers.get("x-request-id")).toBe("abc-123");
    expect(await response.json()).toEqual({ data: { attributeVendors: [{ vendor: "CARNIVAL", mode: "SANDBOX" }] } });
  });

  it("answers an oversized body with 413 and a GraphQL-shaped error", async () => {
    const response = await fetch(subgraph.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{ attributeVendors { vendor } } #${"x".repeat(5000)}` }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      errors: [{ message: "request body exceeds 4096 bytes", extensions: { code: "PAYLOAD_TOO_LARGE" } }],
    });
  });

  it("answers malformed JSON with 400", async () => {
    const response = await fetch(subgraph.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe("BAD_REQUEST");
  });

  it("refuses simple cross-site requests (CSRF prevention)", async () => {
    const response = await fetch(`${subgraph.url}?query=${encodeURIComponent("{ attributeVendors { vendor } }")}`);
    expect(response.status).toBe(400);
  });

  it("answers unknown paths with 404", async () => {
    expect((await fetch(new URL("/nope", subgraph.url))).status).toBe(404);
  });
});
