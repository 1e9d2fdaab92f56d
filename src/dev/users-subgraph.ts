import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type http from "node:http";
import { parse } from "graphql";
import { createLogger, type Logger } from "../logging.js";
import { closeServer, createHttpServer, listen } from "../server/http-server.js";

/**
 * The sample `users` subgraph that owns User { id email name }, as a company's would. It exists
 * so the composed graph can be explored and tested (dev stack, compose example, gateway tests);
 * `src/dev/users.graphql` holds the same SDL for Rover (a test keeps the two equal).
 */
export const USERS_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

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

export interface UsersSubgraphOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default: silent. */
  readonly logger?: Logger;
}

export interface UsersSubgraph {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

export async function startUsersSubgraph(options: UsersSubgraphOptions = {}): Promise<UsersSubgraph> {
  const logger = options.logger ?? createLogger({ level: "silent" });
  const schema = buildSubgraphSchema({
    typeDefs: parse(USERS_SDL),
    resolvers: {
      Query: { user: (_: unknown, { id }: { id: string }) => sampleUser(id) },
      User: { __resolveReference: ({ id }: { id: string }) => sampleUser(id) },
    },
  });
  const apollo = new ApolloServer({
    schema,
    logger,
    includeStacktraceInErrorResponses: false,
    // users-main.ts and the dev stack handle SIGINT/SIGTERM (see src/app.ts).
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  const server = createHttpServer({ apollo, logger, maxBodyBytes: 1_048_576, context: () => Promise.resolve({}) });
  const { url, port } = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  return {
    url,
    port,
    server,
    async close() {
      await closeServer(server, apollo);
    },
  };
}
