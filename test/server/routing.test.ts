import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { splitUrl } from "../../src/server/http-server.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** Request targets as the HTTP server routes them. */
describe("request routing", () => {
  it("splits origin-form targets at the first question mark", () => {
    expect(splitUrl("/")).toEqual({ pathname: "/", search: "" });
    expect(splitUrl("/graphql?query=%7B__typename%7D")).toEqual({ pathname: "/graphql", search: "?query=%7B__typename%7D" });
    expect(splitUrl("/?")).toEqual({ pathname: "/", search: "" });
    expect(splitUrl("/health?a=1?b=2")).toEqual({ pathname: "/health", search: "?a=1?b=2" });
    expect(splitUrl("//evil.example/health")).toEqual({ pathname: "//evil.example/health", search: "" });
  });

  it("parses absolute-form targets, which HTTP/1.1 servers must accept", () => {
    expect(splitUrl("http://subgraph.internal:4001/health?x=1")).toEqual({ pathname: "/health", search: "?x=1" });
  });

  describe("over HTTP", () => {
    let subgraph: TestSubgraph;
    beforeAll(async () => {
      subgraph = await startTestSubgraph({ graphiql: false });
    });
    afterAll(() => subgraph.close());

    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const { port } = new URL(subgraph.url);
        const request = http.request(
          { host: "127.0.0.1", port, path, method: "GET", headers: { accept: "application/json", "apollo-require-preflight": "true" } },
          (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (body += chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on("error", reject);
        request.end();
      });

    it("answers health checks with or without a query string and in absolute form", async () => {
      for (const target of ["/health", "/health?probe=1", `http://127.0.0.1:${new URL(subgraph.url).port}/health`]) {
        expect({ target, ...(await get(target)) }).toEqual({ target, status: 200, body: JSON.stringify({ status: "ok" }) });
      }
    });

    // GET needs a preflight-forcing header: Apollo's CSRF prevention.
    it("serves GraphQL queries over GET and 404s unknown paths", async () => {
      const query = await get(`/?query=${encodeURIComponent("{ __typename }")}`);
      expect(query.status).toBe(200);
      expect(JSON.parse(query.body)).toEqual({ data: { __typename: "Query" } });
      const missing = await get("/nope?x=1");
      expect(missing.status).toBe(404);
    });
  });
});
