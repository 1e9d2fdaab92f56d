import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import type { GraphQLContext } from "../graphql/context.js";
import type { Logger } from "../logging.js";
import { readAsset } from "./graphiql.js";

/** Generic in the context so the dev stack's users subgraph and gateway are served the same way. */
export interface HttpServerOptions<TContext extends BaseContext = GraphQLContext> {
  readonly apollo: ApolloServer<TContext>;
  readonly context: (requestId: string, authorization: string | undefined) => Promise<TContext>;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** The GraphiQL page, or undefined when GraphiQL is off. */
  readonly graphiqlHtml?: string;
  /** Prometheus exposition for GET /metrics, or undefined when metrics are off. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** GET /ready: 200 when ready, 503 otherwise, with the report as JSON. */
  readonly readiness?: () => Promise<{ ready: boolean; report: unknown }>;
}

const GRAPHQL_PATHS = new Set(["/", "/graphql"]);

/**
 * A small node:http integration for Apollo Server: GraphQL on POST / (and GET for queries),
 * GraphiQL on GET / for browsers, its assets under /graphiql/, /health (alive), /ready and
 * /metrics. Hand-written rather
 * than Express so the hot path stays lean and body limits answer with a typed JSON error.
 */
export function createHttpServer<TContext extends BaseContext>(options: HttpServerOptions<TContext>): http.Server {
  const server = http.createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, "unhandled error serving a request");
      if (!res.headersSent)
        sendJson(res, 500, { errors: [{ message: "internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000; // longer than common gateway/load-balancer idle timeouts
  return server;
}

async function handle<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { pathname, search } = splitUrl(req.url ?? "/");
  const method = (req.method ?? "GET").toUpperCase();

  if (pathname === "/health" && (method === "GET" || method === "HEAD")) {
    sendJson(res, 200, { status: "ok" });
    return;
  }
  if (pathname === "/ready" && options.readiness && (method === "GET" || method === "HEAD")) {
    const { ready, report } = await options.readiness();
    res.setHeader("cache-control", "no-store");
    sendJson(res, ready ? 200 : 503, report);
    return;
  }
  if (pathname === "/metrics" && options.metrics && method === "GET") {
    const { contentType, body } = await options.metrics();
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
    res.end(body);
    return;
  }
  if (pathname.startsWith("/graphiql/") && options.graphiqlHtml && method === "GET") {
    const asset = await readAsset(pathname.slice("/graphiql/".length));
    if (!asset) return sendJson(res, 404, { error: "not found" });
    res.writeHead(200, { "content-type": asset.type, "cache-control": "public, max-age=86400" });
    res.end(asset.body);
    return;
  }
  if (!GRAPHQL_PATHS.has(pathname)) {
    sendJson(res, 404, { error: "not found", graphql: "/" });
    return;
  }
  if (method === "GET" && !search && options.graphiqlHtml && acceptsHtml(req)) {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(options.graphiqlHtml);
    return;
  }

  const requestId = requestIdOf(req);
  res.setHeader("x-request-id", requestId);
  let body: unknown;
  if (method === "POST") {
    const read = await readPostBody(req, options.maxBodyBytes);
    if (read.kind === "too-large") {
      graphqlError(res, 413, `request body exceeds ${options.maxBodyBytes} bytes`, "PAYLOAD_TOO_LARGE");
      return;
    }
    if (read.kind === "invalid-json") {
      graphqlError(res, 400, "request body is not valid JSON", "BAD_REQUEST");
      return;
    }
    body = read.body;
  }

  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const result = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method, headers, search, body },
    context: () => options.context(requestId, req.headers.authorization),
  });
  for (const [name, value] of result.headers) res.setHeader(name, value);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === "complete") {
    res.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * A POST body, parsed when it is JSON. Its own function so that the raw text (9 MB for a million
 * bulk ids) is garbage once parsed, not held by the handler's frame while the operation runs.
 */
async function readPostBody(
  req: IncomingMessage,
  maxBodyBytes: number,
): Promise<{ kind: "body"; body: unknown } | { kind: "too-large" } | { kind: "invalid-json" }> {
  const text = await readBody(req, maxBodyBytes);
  if (text === undefined) return { kind: "too-large" };
  if (!(req.headers["content-type"] ?? "").includes("json")) return { kind: "body", body: text };
  try {
    return { kind: "body", body: text.length === 0 ? undefined : (JSON.parse(text) as unknown) };
  } catch {
    return { kind: "invalid-json" };
  }
}

/**
 * The path and query of a request target. Routing compares whole paths, so a split at the first
 * "?" is all that is needed; a WHATWG URL per request cost measurable CPU on the hot path.
 */
export function splitUrl(target: string): { pathname: string; search: string } {
  if (!target.startsWith("/")) {
    // Absolute form ("http://host/path"), which HTTP/1.1 servers must accept: rare, so parse it fully.
    const url = new URL(target, "http://localhost");
    return { pathname: url.pathname, search: url.search };
  }
  const question = target.indexOf("?");
  if (question === -1) return { pathname: target, search: "" };
  // An empty query is no query, as WHATWG URL has it.
  return { pathname: target.slice(0, question), search: question === target.length - 1 ? "" : target.slice(question) };
}

function acceptsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? "").includes("text/html");
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  // Accept a caller's id only when it is short and plain, so it cannot forge log lines.
  return typeof given === "string" && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * The body as text, or undefined when it exceeds the limit (the rest is drained, not buffered).
 * Event listeners rather than `for await`: the async iterator costs several microseconds a request.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () =>
      resolve(size > limit ? undefined : chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

function graphqlError(res: ServerResponse, status: number, message: string, code: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export async function listen(server: http.Server, port: number, host: string): Promise<{ url: string; port: number }> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return { url: `http://${shownHost}:${address.port}/`, port: address.port };
}

/** Closes the HTTP server (keep-alive connections included, so it cannot linger) and then Apollo. */
export async function closeServer(server: http.Server, apollo: { stop(): Promise<void> }): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await apollo.stop();
}
