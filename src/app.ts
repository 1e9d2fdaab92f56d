import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { unwrapResolverError } from "@apollo/server/errors";
import type http from "node:http";
import { DEFAULT_INPUT_LIMITS, type InputLimits } from "./domain/command.js";
import { RequestScope } from "./domain/scope.js";
import type { Vendor } from "./domain/vendor.js";
import type { GraphQLContext } from "./graphql/context.js";
import { EXAMPLES } from "./graphql/examples.js";
import { buildSubgraph } from "./graphql/schema.js";
import type { Logger } from "./logging.js";
import { graphiqlPage } from "./server/graphiql.js";
import { createHttpServer, listen } from "./server/http-server.js";

export interface AppOptions {
  readonly vendors: readonly Vendor[];
  readonly logger: Logger;
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes: number;
  readonly graphiql: boolean;
  readonly introspection: boolean;
  readonly limits?: InputLimits;
  /** Shown on top of GraphiQL, for example which vendors are sandboxed. */
  readonly banner?: string;
}

export interface App {
  readonly url: string;
  readonly port: number;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly server: http.Server;
  close(): Promise<void>;
}

/** Builds the schema once, starts Apollo and the HTTP server. Used by main.ts and by the tests. */
export async function startApp(options: AppOptions): Promise<App> {
  const { schema } = await buildSubgraph(options.vendors);
  const logger = options.logger;
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    logger,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    formatError: (formatted, error) => {
      const original = unwrapResolverError(error);
      // Errors outside the typed unions are either GraphQL validation errors or bugs; log bugs.
      if (formatted.extensions?.code === "INTERNAL_SERVER_ERROR") {
        logger.error({ err: original }, "unexpected error in a resolver");
      }
      return formatted;
    },
  });
  await apollo.start();

  const limits = options.limits ?? DEFAULT_INPUT_LIMITS;
  const dispatchHooks = {
    onAdapterCrash: (vendor: string, error: unknown) => logger.error({ vendor, err: error }, "vendor adapter threw"),
  };
  const server = createHttpServer({
    apollo,
    logger,
    maxBodyBytes: options.maxBodyBytes,
    context: (requestId) => ({ requestId, scope: new RequestScope(), vendors: options.vendors, limits, dispatchHooks }),
    ...(options.graphiql ? { graphiqlHtml: graphiqlPage(EXAMPLES, options.banner ?? "") } : {}),
  });
  const { url, port } = await listen(server, options.port, options.host);

  return {
    url,
    port,
    apollo,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}
