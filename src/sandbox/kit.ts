import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { FAULT_HEADER, parseFault, type RandomFault, type SandboxFault } from "./faults.js";

export { FAULT_HEADER, parseFault, parseRandomFaults, type RandomFault, type SandboxFault } from "./faults.js";

/**
 * Building blocks for the sandbox vendors: real HTTP servers on loopback that enforce each
 * vendor's documented rules. They back the default start, the tests and the benchmarks.
 * Every sandbox keeps a bounded journal of what it received, and can be told to misbehave.
 */

export interface SandboxRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The parsed body; `undefined` when empty or not JSON (see `jsonError`). */
  readonly json: unknown;
  readonly jsonError: boolean;
}

export interface SandboxResponse {
  readonly status: number;
  /** Serialized as JSON unless it is a string. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface JournalEntry {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  readonly status: number;
  readonly response: unknown;
  readonly fault?: SandboxFault["kind"];
}

export type SandboxHandler = (request: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

export interface SandboxServerOptions {
  readonly name: string;
  readonly handler: SandboxHandler;
  /** Vendor-specific routes under `/__sandbox/` (seeding users, inspecting state). */
  readonly admin?: (request: SandboxRequest) => SandboxResponse | undefined;
  readonly journalLimit?: number;
  readonly maxBodyBytes?: number;
  /** Milliseconds every vendor request waits before it is answered (benchmarks); default 0. */
  readonly responseDelayMs?: number;
  /**
   * The vendor's own way of refusing a request with a message (its error body and status), for
   * faults that must look like the vendor speaking; default 400 `{"error": message}`.
   */
  readonly refusal?: (message: string) => SandboxResponse;
}

interface QueuedFault {
  readonly fault: SandboxFault;
  remaining: number;
  readonly match?: (request: SandboxRequest) => boolean;
}

export class SandboxServer {
  readonly name: string;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly journalEntries: JournalEntry[] = [];
  private readonly journalLimit: number;
  private readonly maxBodyBytes: number;
  private readonly faults: QueuedFault[] = [];
  /** Epoch ms until which every request answers 503 (a `down` fault). */
  private downUntil = 0;
  private readonly handler: SandboxHandler;
  private readonly admin: ((request: SandboxRequest) => SandboxResponse | undefined) | undefined;
  private readonly refusal: (message: string) => SandboxResponse;
  private received = 0;
  private randomFaults: readonly RandomFault[] = [];
  private responseDelayMs: number;
  private readonly statuses = new Map<number, number>();
  private baseUrl = "";

  constructor(options: SandboxServerOptions) {
    this.name = options.name;
    this.handler = options.handler;
    this.admin = options.admin;
    this.refusal = options.refusal ?? ((message) => ({ status: 400, body: { error: message } }));
    this.journalLimit = options.journalLimit ?? 10_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
    this.responseDelayMs = options.responseDelayMs ?? 0;
    this.server = http.createServer((req, res) => void this.serve(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** Listens on loopback; port 0 picks a free one. Resolves with the base URL. */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${address.port}`;
    return this.baseUrl;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** A copy of what was received, oldest first (bounded by `journalLimit`). */
  journal(): JournalEntry[] {
    return [...this.journalEntries];
  }

  /** Requests received since start, including those that fell out of the journal. */
  requestCount(): number {
    return this.received;
  }

  /** Answers sent per HTTP status since start (unbounded, unlike the journal). */
  statusCounts(): Record<number, number> {
    return Object.fromEntries(this.statuses);
  }

  clearJournal(): void {
    this.journalEntries.length = 0;
    this.statuses.clear();
  }

  /** The next `count` matching requests get the fault instead of a normal answer. */
  injectFault(fault: SandboxFault, options: { count?: number; match?: (r: SandboxRequest) => boolean } = {}): void {
    this.faults.push({ fault, remaining: options.count ?? 1, ...(options.match ? { match: options.match } : {}) });
  }

  clearFaults(): void {
    this.faults.length = 0;
    this.downUntil = 0;
  }

  /** Every request answers 503 for `seconds` from now, then the vendor recovers (the `down` fault). */
  goDown(seconds: number): void {
    this.downUntil = Math.max(this.downUntil, Date.now() + seconds * 1000);
  }

  /** Answers each request with one of these faults at its probability (the rest normally). */
  setRandomFaults(faults: readonly RandomFault[]): void {
    this.randomFaults = faults;
  }

  /**
   * Every following vendor request (not admin routes, not faults) waits `ms` before the vendor's
   * rules run, like network and vendor latency; 0 turns it off (the default).
   */
  setResponseDelay(ms: number): void {
    this.responseDelayMs = Math.max(0, ms);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let request: SandboxRequest;
    try {
      request = await this.read(req);
    } catch {
      send(res, { status: 413, body: { error: "request body too large" } });
      return;
    }
    if (request.path.startsWith("/__sandbox/")) {
      send(res, this.serveAdmin(request));
      return;
    }
    this.received++;
    let fault = this.takeFault(request);
    if (fault?.kind === "down") this.goDown(fault.seconds);
    // During an outage every request fails alike, whatever else it asked for.
    if (Date.now() < this.downUntil) fault = OUTAGE;
    if (fault && (fault.kind === "reset-after-apply" || fault.kind === "status-after-apply" || fault.kind === "cut-off-after-apply")) {
      const applied = await Promise.resolve(this.handler(request)).catch(() => undefined);
      // The status the client sees: none after a reset, the fault's, or the real one cut off mid-body.
      const seen = fault.kind === "reset-after-apply" ? 0 : fault.kind === "status-after-apply" ? fault.status : (applied?.status ?? 0);
      this.record(request, seen, applied?.body, fault.kind);
      if (fault.kind === "cut-off-after-apply") cutOff(res, applied ?? { status: 200, body: {} });
      else this.applyFault(fault, res);
      return;
    }
    if (fault?.kind === "echo-credentials") {
      const response = this.refusal(`invalid credentials: ${credentialsIn(request).join("; ")}`);
      this.record(request, response.status, response.body, fault.kind);
      send(res, response);
      return;
    }
    if (fault) {
      this.record(
        request,
        fault.kind === "status" ? fault.status : fault.kind === "rate-limit" ? 429 : fault.kind === "down" ? 503 : 0,
        undefined,
        fault.kind,
      );
      this.applyFault(fault, res);
      return;
    }
    if (this.responseDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.responseDelayMs));
    let response: SandboxResponse;
    try {
      response = await this.handler(request);
    } catch (error) {
      response = { status: 500, body: { error: `sandbox ${this.name} crashed: ${String(error)}` } };
    }
    this.record(request, response.status, response.body);
    send(res, response);
  }

  private serveAdmin(request: SandboxRequest): SandboxResponse {
    if (request.path === "/__sandbox/journal" && request.method === "GET") {
      return { status: 200, body: this.journalEntries.map(redactEntry) };
    }
    if (request.path === "/__sandbox/faults" && request.method === "POST") {
      const body = request.json as { fault?: string; count?: number } | undefined;
      const fault = body?.fault ? parseFault(body.fault) : undefined;
      if (!fault) return { status: 400, body: { error: "expected {fault, count?}" } };
      // An outage starts now, rather than with the next request.
      if (fault.kind === "down") this.goDown(fault.seconds);
      else this.injectFault(fault, { count: body?.count ?? 1 });
      return { status: 204 };
    }
    if (request.path === "/__sandbox/faults" && request.method === "DELETE") {
      this.clearFaults();
      return { status: 204 };
    }
    return this.admin?.(request) ?? { status: 404, body: { error: "unknown sandbox admin route" } };
  }

  private takeFault(request: SandboxRequest): SandboxFault | undefined {
    const header = request.headers[FAULT_HEADER];
    if (typeof header === "string") {
      const fault = parseFault(header);
      if (fault) return fault;
    }
    const index = this.faults.findIndex((f) => !f.match || f.match(request));
    if (index < 0) return this.randomFault();
    const queued = this.faults[index]!;
    queued.remaining--;
    if (queued.remaining <= 0) this.faults.splice(index, 1);
    return queued.fault;
  }

  private randomFault(): SandboxFault | undefined {
    let draw = Math.random();
    for (const { fault, probability } of this.randomFaults) {
      if (draw < probability) return fault;
      draw -= probability;
    }
    return undefined;
  }

  private applyFault(fault: SandboxFault, res: ServerResponse): void {
    switch (fault.kind) {
      case "down":
        send(res, { status: 503, body: { error: "service unavailable" } });
        return;
      case "status-after-apply":
      case "status":
        send(res, { status: fault.status, body: { error: `sandbox fault ${fault.status}` } });
        return;
      case "rate-limit":
        send(res, {
          status: 429,
          body: { error: "rate limit exceeded" },
          ...(fault.retryAfterSeconds === undefined ? {} : { headers: { "retry-after": String(fault.retryAfterSeconds) } }),
        });
        return;
      case "hang": {
        // Answer nothing; give up the socket after a while so a forgotten client cannot pin it.
        const timer = setTimeout(() => res.destroy(), fault.ms ?? 60_000);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      case "reset-after-apply":
      case "reset":
        res.socket?.destroy();
        return;
      case "malformed":
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"truncated": ');
        return;
      case "html":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end("<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We'll be right back</h1></body></html>");
        return;
      case "empty":
        res.writeHead(200, { "content-length": "0" });
        res.end();
        return;
      case "endless":
        streamForever(res);
        return;
      case "echo-credentials":
      case "cut-off-after-apply":
        return; // answered in serve()
    }
  }

  private record(request: SandboxRequest, status: number, response: unknown, fault?: SandboxFault["kind"]): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    this.journalEntries.push({
      at: Date.now(),
      method: request.method,
      path: request.path,
      query: Object.fromEntries(request.query),
      headers: request.headers,
      body: request.json ?? (request.text === "" ? undefined : request.text),
      status,
      response,
      ...(fault ? { fault } : {}),
    });
    if (this.journalEntries.length > this.journalLimit) this.journalEntries.shift();
  }

  private async read(req: IncomingMessage): Promise<SandboxRequest> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxBodyBytes) throw new Error("too large");
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://sandbox");
    let json: unknown;
    let jsonError = false;
    if (text.length > 0) {
      try {
        json = JSON.parse(text) as unknown;
      } catch {
        jsonError = true;
      }
    }
    return { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers, text, json, jsonError };
  }
}

/** Every credential a request carries, in the forms it was sent, for a vendor that echoes them back. */
function credentialsIn(request: SandboxRequest): string[] {
  const found: string[] = [];
  const authorization = request.headers.authorization;
  if (authorization) {
    found.push(`Authorization: ${authorization}`);
    const basic = decodeBasicAuth(authorization);
    if (basic) found.push(`password ${basic.password}`, `encoded ${encodeURIComponent(basic.password)}`);
  }
  const credentialKey = /key|secret|token|password/i;
  for (const [name, value] of request.query)
    if (credentialKey.test(name)) found.push(`${name}=${value}`, `${name}=${encodeURIComponent(value)}`);
  if (typeof request.json === "object" && request.json !== null) {
    for (const [name, value] of Object.entries(request.json as Record<string, unknown>)) {
      if (credentialKey.test(name) && typeof value === "string") found.push(`${name}=${value}`, `${name}=${encodeURIComponent(value)}`);
    }
  }
  return found;
}

/** The real answer's status line and the first half of its body, then a reset: an answer that never arrives whole. */
function cutOff(res: ServerResponse, response: SandboxResponse): void {
  const payload = Buffer.from(
    response.body === undefined ? "{}" : typeof response.body === "string" ? response.body : JSON.stringify(response.body),
  );
  res.writeHead(response.status, { "content-type": "application/json;charset=utf-8", "content-length": String(payload.length) });
  res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => setTimeout(() => res.socket?.destroy(), 10));
}

/** A 200 whose chunked JSON-looking body never ends, until the client goes away. */
function streamForever(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/json" });
  const chunk = Buffer.from(`${"0123456789".repeat(6_553)}\n`); // ~64 KiB
  res.write('{"padding": "');
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once("drain", pump);
  };
  res.on("close", () => res.removeAllListeners("drain"));
  pump();
}

/** What every request is answered during a `down` outage. */
const OUTAGE: SandboxFault = { kind: "down", seconds: 0 };

function send(res: ServerResponse, response: SandboxResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload = "";
  if (response.body !== undefined) {
    payload = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
    headers["content-type"] ??= "application/json;charset=utf-8";
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

function redactEntry(entry: JournalEntry): JournalEntry {
  const headers = { ...entry.headers };
  if (headers.authorization) headers.authorization = "[redacted]";
  return { ...entry, headers };
}

/**
 * Counts requests per key in a strict sliding one-second window, to answer over-rate traffic with
 * 429: a request is refused when the last 1,000 ms (the request's own moment excluded from aging
 * out, nothing excluded for bunching) already hold `limitPerSecond` admitted requests. No slack:
 * a sandbox whose `rateLimitPerSecond` is the client's configured rate counts as strictly as a
 * vendor that enforces exactly its documented limit.
 */
export class RateWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly limitPerSecond: number) {}

  /**
   * The `Retry-After` a vendor answers with a 429: whole seconds until the key's oldest counted
   * request leaves the window, at least 1 (in practice always 1: the header cannot say less).
   */
  retryAfterSeconds(key: string, now: number = performance.now()): number {
    const oldest = this.hits.get(key)?.[0];
    return Math.max(1, Math.ceil(((oldest ?? now) + 1000 - now) / 1000));
  }

  /** Records a hit; false when the key is over its limit in the last second. */
  admit(key: string, now: number = performance.now()): boolean {
    const list = this.hits.get(key) ?? [];
    while (list.length > 0 && list[0]! <= now - 1000) list.shift();
    if (list.length >= this.limitPerSecond) {
      this.hits.set(key, list);
      return false;
    }
    list.push(now);
    this.hits.set(key, list);
    return true;
  }
}

export function decodeBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
