import http from "node:http";
import https from "node:https";
import got, { RequestError, TimeoutError, type Got, type Method } from "got";

export interface HttpClientOptions {
  readonly vendor: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Sent with every request (auth, content negotiation). Never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly onCall?: (call: VendorCallRecord) => void;
}

export interface HttpRequest {
  readonly method: Method;
  /** Relative to the base URL; no leading slash. */
  readonly path: string;
  readonly searchParams?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  /** JSON already serialized, for bodies JSON.stringify cannot write (64-bit integers). */
  readonly jsonText?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A short label for logs and metrics (for example "setUserAttributes"). */
  readonly operation: string;
  readonly requestId?: string;
}

/** The outcome of one HTTP exchange, with no exception and no request options attached. */
export type HttpResult =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly headers: Readonly<Record<string, string | string[] | undefined>>;
      readonly text: string;
      /** The parsed body, or `undefined` when it is empty or not JSON. */
      readonly json: unknown;
    }
  | { readonly kind: "timeout"; readonly timeoutMs: number }
  | {
      readonly kind: "network";
      readonly code: string;
      /** False only when the request provably never reached the vendor (connection refused). */
      readonly mayHaveReachedVendor: boolean;
    };

export interface VendorCallRecord {
  readonly vendor: string;
  readonly operation: string;
  readonly method: string;
  readonly requestId?: string;
  readonly outcome: "response" | "timeout" | "network";
  readonly status?: number;
  readonly errorCode?: string;
  readonly durationMs: number;
}

/** Error codes that mean no byte of the request reached the vendor. */
const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ERR_INVALID_URL"]);

/**
 * A vendor's HTTP client: one keep-alive agent per vendor, a timeout on every attempt, no
 * cancellation of a request once sent (its outcome would become unknown; callers cancel waits), no
 * automatic retries (retry policy depends on the operation and lives with the caller), and
 * failures returned as values. got's error objects carry request options, credentials included,
 * so they never leave this module.
 */
export class HttpClient {
  readonly vendor: string;
  private readonly got: Got;
  private readonly timeoutMs: number;
  private readonly onCall?: (call: VendorCallRecord) => void;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(options: HttpClientOptions) {
    this.vendor = options.vendor;
    this.timeoutMs = options.timeoutMs;
    if (options.onCall) this.onCall = options.onCall;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
    };
    this.got = got.extend({
      prefixUrl: options.baseUrl,
      timeout: { request: options.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: "text",
      agent: this.agents,
      headers: { "user-agent": "attributes-subgraph", ...options.headers },
    });
  }

  async send(request: HttpRequest): Promise<HttpResult> {
    const started = performance.now();
    const result = await this.exchange(request);
    this.onCall?.({
      vendor: this.vendor,
      operation: request.operation,
      method: request.method,
      ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
      outcome: result.kind,
      ...(result.kind === "response" ? { status: result.status } : {}),
      ...(result.kind === "network" ? { errorCode: result.code } : {}),
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
    return result;
  }

  private async exchange(request: HttpRequest): Promise<HttpResult> {
    try {
      const response = await this.got(request.path, {
        method: request.method,
        ...(request.searchParams ? { searchParams: { ...request.searchParams } } : {}),
        ...(request.json === undefined ? {} : { json: request.json }),
        ...(request.jsonText === undefined ? {} : { body: request.jsonText }),
        headers: {
          ...(request.jsonText === undefined ? {} : { "content-type": "application/json" }),
          ...request.headers,
        },
      });
      const text = response.body;
      return {
        kind: "response",
        status: response.statusCode,
        headers: response.headers,
        text,
        json: parseJson(text),
      };
    } catch (error) {
      if (error instanceof TimeoutError) return { kind: "timeout", timeoutMs: this.timeoutMs };
      if (error instanceof RequestError) {
        const code = error.code || "ERR_NETWORK";
        return { kind: "network", code, mayHaveReachedVendor: !NEVER_SENT_CODES.has(code) };
      }
      throw error;
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. */
export function retryAfterSeconds(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  now: number = Date.now(),
): number | undefined {
  const raw = headers["retry-after"];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}
