import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HeaderMap } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";

/** The sample `users` subgraph that owns User { id email name }, as a company's would. */
export const USERS_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

type User @key(fields: "id") {
  id: ID!
  email: String!
  name: String!
}

type Query {
  user(id: ID!): User
}
`;

export function sampleUser(id: string): { id: string; email: string; name: string } {
  return { id, email: `user${id}@example.test`, name: `User ${id}` };
}

export async function startUsersSubgraph(): Promise<{ url: string; close(): Promise<void> }> {
  const schema = buildSubgraphSchema({
    typeDefs: parse(USERS_SDL),
    resolvers: {
      Query: { user: (_: unknown, { id }: { id: string }) => sampleUser(id) },
      User: { __resolveReference: ({ id }: { id: string }) => sampleUser(id) },
    },
  });
  const apollo = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  await apollo.start();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const text = Buffer.concat(chunks).toString("utf8");
      void apollo
        .executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? "POST", headers, search: new URL(req.url ?? "/", "http://x").search, body: text ? JSON.parse(text) : undefined },
          context: () => Promise.resolve({}),
        })
        .then((result) => {
          for (const [k, v] of result.headers) res.setHeader(k, v);
          res.statusCode = result.status ?? 200;
          res.end(result.body.kind === "complete" ? result.body.string : "");
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}
