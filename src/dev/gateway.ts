import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type http from "node:http";
import type { ExampleOperation } from "../graphql/examples.js";
import type { Logger } from "../logging.js";
import { FAULT_HEADER } from "../sandbox/faults.js";
import { CorsPolicy } from "../server/cors.js";
import { graphiqlPage } from "../server/graphiql.js";
import { closeServer, createHttpServer, listen } from "../server/http-server.js";

/** What the gateway keeps of an incoming request, to forward to the subgraphs. */
interface GatewayContext {
  readonly requestId: string;
  readonly authorization?: string;
  readonly sandboxFault?: string;
}

export interface GatewayOptions {
  readonly subgraphs: ReadonlyArray<{ readonly name: string; readonly url: string }>;
  readonly port: number;
  readonly host: string;
  readonly logger: Logger;
  /** GraphiQL tabs at GET /; none: no GraphiQL. */
  readonly examples?: readonly ExampleOperation[];
  readonly banner?: string;
  /** Browser origins allowed to call the gateway from another origin. */
  readonly corsOrigins?: readonly string[];
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

/**
 * @apollo/gateway composing the subgraphs by introspection at start-up, served by the same HTTP
 * integration as the subgraph (GraphiQL, body limits, request ids). It forwards the caller's
 * Authorization header and its request id, so one id follows an operation into every subgraph's
 * logs, as a router configured to propagate them would.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const gateway = new ApolloGateway({
    logger: options.logger,
    supergraphSdl: new IntrospectAndCompose({ subgraphs: options.subgraphs.map((s) => ({ ...s })) }),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        willSendRequest({ request, context }) {
          // Schema loading and health checks run outside any client request: their context is empty.
          const incoming = context as Partial<GatewayContext>;
          if (incoming.requestId) request.http?.headers.set("x-request-id", incoming.requestId);
          if (incoming.authorization) request.http?.headers.set("authorization", incoming.authorization);
          // The dev stack's vendors are sandboxes: a GraphiQL example's vendor outage reaches them through the subgraph.
          if (incoming.sandboxFault) request.http?.headers.set(FAULT_HEADER, incoming.sandboxFault);
        },
      }),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: options.logger,
    introspection: true,
    // Errors reach browsers: no stack traces with this machine's absolute paths in them.
    includeStacktraceInErrorResponses: false,
    // stack-main.ts handles SIGINT/SIGTERM (see src/app.ts).
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  const server = createHttpServer<GatewayContext>({
    apollo,
    logger: options.logger,
    maxBodyBytes: 8 * 1_048_576,
    context: (requestId, authorization, headers) => {
      const fault = headers[FAULT_HEADER];
      return Promise.resolve({
        requestId,
        ...(authorization ? { authorization } : {}),
        ...(typeof fault === "string" ? { sandboxFault: fault } : {}),
      });
    },
    ...(options.examples ? { graphiqlHtml: graphiqlPage(options.examples, options.banner ?? "") } : {}),
    ...(options.corsOrigins?.length ? { cors: new CorsPolicy(options.corsOrigins) } : {}),
  });
  const { url, port } = await listen(server, options.port, options.host);
  return {
    url,
    port,
    server,
    async close() {
      await closeServer(server, apollo);
    },
  };
}
