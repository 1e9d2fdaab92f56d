import http from "node:http";
import net from "node:net";

/** An HTTP answer as tests read it: status, headers and the body, parsed when it is JSON. */
export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: any;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
  /** Default: a new connection for this request only. Pass a keep-alive agent to reuse connections. */
  readonly agent?: http.Agent;
}

/**
 * One request over node:http, so a test chooses every header and byte (fetch adds or refuses
 * some, and hides the connection). Rejects on a connection error (reset, closed without answer).
 */
export function request(url: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body;
    const req = http.request(url, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers: { ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }), ...options.headers },
      agent: options.agent ?? false,
    });
    req.on("response", (response) => void collect(response).then(resolve, reject));
    req.on("error", reject);
    req.end(body);
  });
}

/** POSTs a GraphQL operation as JSON. */
export function postGraphQLRaw(url: string, query: string, variables?: Record<string, unknown>, agent?: http.Agent): Promise<Answer> {
  return request(url, {
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
    ...(agent ? { agent } : {}),
  });
}

export async function collect(response: http.IncomingMessage): Promise<Answer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.statusCode ?? 0, headers: response.headers, body };
}

/**
 * Resolves once `check` holds, polling; rejects after `timeoutMs` (a generous bound on a busy
 * machine, never an assertion about speed).
 */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs` (generous: it bounds a hang, it does not measure). */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Opens a TCP connection: resolves with the socket, or rejects with the error (ECONNREFUSED…). */
export function connect(port: number, host = "127.0.0.1"): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Everything a socket receives until the other side closes it. */
export function readUntilClosed(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.once("close", () => resolve(text));
    socket.once("error", reject);
  });
}
