/**
 * Baseline (a) of the overhead benchmark: a bare Apollo Server (the same @apollo/server version,
 * its standalone HTTP server, a minimal schema) whose one resolver makes the same single HTTP PUT
 * to the same Carnival sandbox with got and a keep-alive agent. Prints `READY <url>`.
 */
import http from "node:http";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import got from "got";

const typeDefs = `#graphql
  type Query { ok: Boolean! }
  type UpdateResult { delivered: Boolean! status: Int! }
  type Mutation { updateAttribute(userId: ID!, attribute: String!, value: String!): UpdateResult! }
`;

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const client = got.extend({
  prefixUrl: process.env.BASELINE_TARGET_URL!,
  timeout: { request: 10_000 },
  retry: { limit: 0 },
  throwHttpErrors: false,
  responseType: "text",
  agent: { http: agent },
  headers: { authorization: process.env.BASELINE_AUTHORIZATION!, accept: "application/json" },
});

const resolvers = {
  Query: { ok: () => true },
  Mutation: {
    async updateAttribute(_root: unknown, args: { userId: string; attribute: string; value: string }) {
      const response = await client.put(`users/${encodeURIComponent(args.userId)}`, {
        json: { user: { custom: { [args.attribute]: { type: "string", value: args.value } } } },
      });
      JSON.parse(response.body);
      return { delivered: response.statusCode < 300, status: response.statusCode };
    },
  },
};

const server = new ApolloServer({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
console.log(`READY ${url}`);
process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
