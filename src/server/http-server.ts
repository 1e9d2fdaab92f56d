import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import { parse as parseContentType } from "content-type";
import type { GraphQLContext } from "../graphql/context.js";
import type { Logger } from "../logging.js";
import { ALLOWED_HEADERS, type CorsPolicy } from "./cors.js";
import { readAsset } from "./graphiql.js";

/** Generic in the context so the dev stack's users subgraph and gateway are served the same way. */
export interface HttpServerOptions<TContext extends BaseContext = GraphQLContext> {
  readonly apollo: ApolloServer<TContext>;
  readonly context: (requestId: string, authorization: string | undefined, headers: http.IncomingHttpHeaders) => Promise<TContext>;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** The GraphiQL page, or undefined when GraphiQL is off. */
  readonly graphiqlHtml?: string;
  /** Prometheus exposition for GET /metrics, or undefined when metrics are off. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** GET /ready: 200 when ready, 503 otherwise, with the report as JSON. */
  readonly readiness?: () => Promise<{ ready: boolean; report: unknown }>;
  /** Browser origins allowed to call GraphQL cross-origin (CORS_ORIGINS); none by default. */
  readonly cors?: CorsPolicy;
}

const GRAPHQL_PATHS = new Set(["/", "/graphql"]);

/** What the drain needs to know of a server made by createHttpServer. */
interface DrainState {
  draining: boolean;
  /** Responses not yet closed: they get `Connection: close` once the drain starts. */
  readonly inFlight: Set<ServerResponse>;
  /** Open connections (Node's own list leaves out those that have not sent a byte yet). */
  readonly sockets: Set<Socket>;
}

const drainStates = new WeakMap<http.Server, DrainState>();

/**
 * A small node:http integration for Apollo Server: GraphQL on POST / (and GET for queries),
 * GraphiQL on GET / for browsers, its assets under /graphiql/, /health (alive), /ready and
 * /metrics. Hand-written rather
 * than Express so the hot path stays lean and body limits answer with a typed JSON error.
 * Request bodies may be compressed (Content-Encoding gzip, deflate, br, as Apollo Router sends
 * them). `drainServer` stops it without cutting off requests in progress.
 */
export function createHttpServer<TContext extends BaseContext>(options: HttpServerOptions<TContext>): http.Server {
  const state: DrainState = { draining: false, inFlight: new Set(), sockets: new Set() };
  // One shared listener rather than a closure per request.
  function responseClosed(this: ServerResponse): void {
    state.inFlight.delete(this);
    // A response whose headers went out before the drain (a stream) could not say `Connection:
    // close`: its connection is idle now, so close it.
    if (state.draining) setImmediate(() => server.closeIdleConnections());
  }
  const server = http.createServer((req, res) => {
    state.inFlight.add(res);
    res.once("close", responseClosed);
    if (state.draining) res.setHeader("connection", "close");
    handle(options, req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, "unhandled error serving a request");
      if (!res.headersSent)
        sendJson(res, 500, { errors: [{ message: "internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
      else res.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    state.sockets.add(socket);
    socket.once("close", () => state.sockets.delete(socket));
  });
  server.keepAliveTimeout = 65_000; // longer than common gateway/load-balancer idle timeouts
  drainStates.set(server, state);
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
  // CORS for allowed browser origins: the preflight is answered here (Apollo's CSRF prevention
  // would refuse it), and the request that follows carries the allow header. Requests a browser
  // sends without a preflight still meet the CSRF prevention.
  const origin = req.headers.origin;
  if (origin !== undefined && options.cors?.allows(origin)) {
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("vary", "Origin");
    res.setHeader("access-control-expose-headers", "x-request-id");
    if (method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": "600",
      });
      res.end();
      return;
    }
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
    if (read.kind !== "body") {
      refuseBody(res, read, options.maxBodyBytes);
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
    context: () => options.context(requestId, req.headers.authorization, req.headers),
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

type BodyRefusal =
  | { readonly kind: "too-large" }
  | { readonly kind: "invalid-json" }
  /** The compressed body could not be decoded (corrupt or truncated). */
  | { readonly kind: "corrupt"; readonly coding: string }
  | { readonly kind: "unsupported-encoding"; readonly coding: string }
  | { readonly kind: "unsupported-charset"; readonly charset: string };

/**
 * A POST body, parsed when it is JSON. Its own function so that the raw text (9 MB for a million
 * bulk ids) is garbage once parsed, not held by the handler's frame while the operation runs.
 *
 * JSON is `application/json` or any `…/…+json` type, parsed as a media type (parameters, case,
 * whitespace); its charset, if given, must be UTF-8 (RFC 8259 allows nothing else). Any other
 * type is handed to Apollo as text, which refuses it, or applies its CSRF prevention to the
 * types a browser may send cross-site without a preflight.
 */
async function readPostBody(req: IncomingMessage, maxBodyBytes: number): Promise<{ kind: "body"; body: unknown } | BodyRefusal> {
  const media = mediaTypeOf(req.headers["content-type"]);
  if (media.charset !== undefined && media.json && !UTF8.has(media.charset.toLowerCase())) {
    req.resume();
    return { kind: "unsupported-charset", charset: media.charset };
  }
  const encoding = req.headers["content-encoding"];
  let read: BodyRead;
  if (encoding === undefined) read = await readBody(req, maxBodyBytes);
  else {
    const codings = contentCodings(encoding);
    if (typeof codings === "string") {
      req.resume();
      return { kind: "unsupported-encoding", coding: codings };
    }
    read = codings.length === 0 ? await readBody(req, maxBodyBytes) : await readDecodedBody(req, codings, maxBodyBytes);
  }
  if (typeof read !== "string") return read;
  if (!media.json) return { kind: "body", body: read };
  try {
    return { kind: "body", body: read.length === 0 ? undefined : (JSON.parse(read) as unknown) };
  } catch {
    return { kind: "invalid-json" };
  }
}

function refuseBody(res: ServerResponse, refusal: BodyRefusal, maxBodyBytes: number): void {
  switch (refusal.kind) {
    case "too-large":
      return graphqlError(res, 413, `request body exceeds ${maxBodyBytes} bytes`, "PAYLOAD_TOO_LARGE");
    case "invalid-json":
      return graphqlError(res, 400, "request body is not valid JSON", "BAD_REQUEST");
    case "corrupt":
      return graphqlError(res, 400, `request body is not valid ${refusal.coding} data`, "BAD_REQUEST");
    case "unsupported-encoding":
      // RFC 9110 15.5.16: name the codings that would have been accepted.
      res.setHeader("accept-encoding", SUPPORTED_CODINGS);
      return graphqlError(
        res,
        415,
        `unsupported Content-Encoding "${printable(refusal.coding)}"; supported: ${SUPPORTED_CODINGS}, identity`,
        "UNSUPPORTED_MEDIA_TYPE",
      );
    case "unsupported-charset":
      return graphqlError(
        res,
        415,
        `unsupported charset "${printable(refusal.charset)}" for a JSON body; send UTF-8`,
        "UNSUPPORTED_MEDIA_TYPE",
      );
  }
}

/** A caller's header value echoed in a message: short, and nothing that could forge a log line. */
function printable(value: string): string {
  return value.slice(0, 64).replace(/[^\x20-\x7e]/g, "?");
}

const UTF8 = new Set(["utf-8", "utf8"]);

interface MediaType {
  readonly json: boolean;
  readonly charset?: string;
}

const NOT_JSON: MediaType = { json: false };
const PLAIN_JSON: MediaType = { json: true };
/** What nearly every client sends, answered without parsing. */
const COMMON_JSON_TYPES = new Map<string, MediaType>([
  ["application/json", PLAIN_JSON],
  ["application/json; charset=utf-8", { json: true, charset: "utf-8" }],
  ["application/json;charset=utf-8", { json: true, charset: "utf-8" }],
]);

/** The Content-Type as the body reader needs it: JSON or not, and its charset. */
export function mediaTypeOf(header: string | undefined): MediaType {
  if (header === undefined) return NOT_JSON;
  const common = COMMON_JSON_TYPES.get(header);
  if (common) return common;
  let parsed;
  try {
    parsed = parseContentType(header);
  } catch {
    return NOT_JSON; // content-type 2.x never throws; a later major might
  }
  const { type, parameters } = parsed;
  const slash = type.indexOf("/");
  const json = type === "application/json" || (slash > 0 && type.endsWith("+json") && type.length > slash + "+json".length + 1);
  const charset = parameters.charset;
  return charset === undefined ? (json ? PLAIN_JSON : NOT_JSON) : { json, charset };
}

const SUPPORTED_CODINGS = "gzip, deflate, br";

/**
 * The codings of a Content-Encoding header in the order they were applied, `identity` left out;
 * the first unsupported one as a string. `x-gzip` is gzip (RFC 9110 8.4.1.3); `deflate` is the
 * zlib format (RFC 9110 8.4.1.2). At most three codings: more is no client's doing.
 */
export function contentCodings(header: string): ContentCoding[] | string {
  const codings: ContentCoding[] = [];
  for (const part of header.split(",")) {
    const name = part.trim().toLowerCase();
    if (name === "identity" || name === "") continue;
    const coding = name === "x-gzip" ? "gzip" : name;
    if (coding !== "gzip" && coding !== "deflate" && coding !== "br") return part.trim() || header;
    codings.push(coding);
  }
  return codings.length > 3 ? header : codings;
}

type ContentCoding = "gzip" | "deflate" | "br";

function decoder(coding: ContentCoding): Transform {
  if (coding === "gzip") return createGunzip();
  if (coding === "deflate") return createInflate();
  return createBrotliDecompress();
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

type BodyRead = string | { readonly kind: "too-large" } | { readonly kind: "corrupt"; readonly coding: string };

const TOO_LARGE = { kind: "too-large" } as const;

/**
 * An uncompressed body as text, or TOO_LARGE when it exceeds the limit (the rest is drained, not
 * buffered). Event listeners rather than `for await`: the async iterator costs several
 * microseconds a request.
 */
function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(TOO_LARGE);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () =>
      resolve(size > limit ? TOO_LARGE : chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

/**
 * A compressed body, decoded as it arrives: the compressed bytes and the output of every
 * decoding step count against the limit, and the moment one exceeds it the decoders are
 * destroyed and the rest of the request is drained unread, so a small "zip bomb" never expands
 * past the limit in memory or CPU. Codings are undone last-applied first.
 */
function readDecodedBody(req: IncomingMessage, codings: readonly ContentCoding[], limit: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(TOO_LARGE);
  }
  return new Promise((resolve, reject) => {
    const stages = codings.map(decoder).reverse();
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (outcome: BodyRead | Error): void => {
      if (settled) return;
      settled = true;
      req.unpipe(stages[0]);
      for (const stage of stages) stage.destroy();
      // Whatever the client still sends is read and dropped, so the answer can go out on a sound connection.
      if (!req.complete) req.resume();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    let raw = 0;
    req.on("data", (chunk: Buffer) => {
      raw += chunk.length;
      if (raw > limit) finish(TOO_LARGE);
    });
    req.on("error", (error) => finish(error));
    let source: NodeJS.ReadableStream = req;
    stages.forEach((stage, index) => {
      const last = index === stages.length - 1;
      let size = 0;
      stage.on("data", (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > limit) finish(TOO_LARGE);
        else if (last) chunks.push(chunk);
      });
      stage.on("error", () => finish({ kind: "corrupt", coding: codings[codings.length - 1 - index]! }));
      source.pipe(stage);
      source = stage;
    });
    stages.at(-1)!.on("end", () => finish(Buffer.concat(chunks).toString("utf8")));
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
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return { url: `http://${shownHost}:${address.port}/`, port: address.port };
}

export interface DrainOutcome {
  /** Requests in progress when the drain began. */
  readonly inProgress: number;
  /** Requests still in progress when the grace ran out, whose connections were then closed. */
  readonly cutOff: number;
}

/**
 * Stops a server made by createHttpServer without cutting off a caller whose request is in
 * progress: it stops accepting connections and closes idle keep-alive ones at once; each request
 * in progress is answered with `Connection: close` (as is any request that still arrives on an
 * open connection), and its connection closes once answered. After `graceMs`, whatever is still
 * open is closed. Resolves when every connection is closed. Closing an idle connection can race
 * a request the client is just sending on it, as at any keep-alive timeout; clients retry those.
 */
export function drainServer(server: http.Server, graceMs: number): Promise<DrainOutcome> {
  const state = drainStates.get(server);
  if (state) {
    state.draining = true;
    for (const res of state.inFlight) if (!res.headersSent) res.setHeader("connection", "close");
  }
  const inProgress = state?.inFlight.size ?? 0;
  return new Promise((resolve) => {
    let cutOff = 0;
    const timer = setTimeout(() => {
      cutOff = state?.inFlight.size ?? 0;
      server.closeAllConnections();
      for (const socket of state?.sockets ?? []) socket.destroy();
    }, graceMs);
    // Also closes idle keep-alive connections (Node 19+); the callback runs once none is left.
    server.close(() => {
      clearTimeout(timer);
      resolve({ inProgress, cutOff });
    });
    server.closeIdleConnections();
    // Connections that have not sent a byte are idle too, but closeIdleConnections leaves them
    // (and close() stops the timer that would end them): without this, one pre-opened connection
    // would hold the drain for the whole grace. One whose request has begun to arrive is kept.
    for (const socket of state?.sockets ?? []) if (socket.bytesRead === 0) socket.destroy();
  });
}

/**
 * The grace of a server or app stopped without one given: the dev stack's servers and the tests'
 * in-process subgraphs, where a request left hanging should not hold a teardown for long. The
 * process itself drains for SHUTDOWN_GRACE_MS (main.ts passes it).
 */
export const EMBEDDED_GRACE_MS = 2_000;

/** Drains the HTTP server (see drainServer) and then stops Apollo. */
export async function closeServer(
  server: http.Server,
  apollo: { stop(): Promise<void> },
  options: { readonly graceMs?: number } = {},
): Promise<DrainOutcome> {
  const outcome = await drainServer(server, options.graceMs ?? EMBEDDED_GRACE_MS);
  await apollo.stop();
  return outcome;
}
