import http from "node:http";
import https from "node:https";
import got, { HTTPError, RequestError, TimeoutError, type Got, type Method, type Response } from "got";
import type { CallContext, DryRunRecorder, PreviewedRequest, Waiter } from "../domain/vendor.js";
import { FAULT_HEADER } from "../sandbox/faults.js";

/** What every vendor's HttpClient shares, set once by the composition root. */
export interface SharedHttpOptions {
  readonly onCall?: (call: VendorCallRecord) => void;
  /** Automatic retries of interactive calls; none by default (background calls never retry here). */
  readonly retry?: RetryPolicy;
  /**
   * Largest vendor answer read, after decompression (VENDOR_MAX_RESPONSE_BYTES): reading stops there
   * and the call fails with a typed AttributesVendorUnavailableError, so a vendor (or anything in between)
   * streaming an endless body cannot exhaust the heap. Default DEFAULT_MAX_RESPONSE_BYTES.
   */
  readonly maxResponseBytes?: number;
}

/** The shared options among `deps`, for a vendor's HttpClient (absent ones stay absent). */
export function sharedHttpOptions(deps: SharedHttpOptions): SharedHttpOptions {
  return {
    ...(deps.onCall ? { onCall: deps.onCall } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.maxResponseBytes === undefined ? {} : { maxResponseBytes: deps.maxResponseBytes }),
  };
}

export interface HttpClientOptions extends SharedHttpOptions {
  readonly vendor: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Sent with every request (auth, content negotiation). Never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The vendor credential's shared pacer: every retry waits for it, so retries count against the
   * vendor's rate like any request. (Callers acquire it themselves before the first attempt, with
   * their cancellation signal.)
   */
  readonly pacer?: RetryPacer;
  /**
   * Whether an HTTP 429 means the credential's rate limit, so that every 429 pauses the pacer at
   * once for its `Retry-After` (1 s without one), including 429s retried here, which the caller
   * never sees. False for vendors whose 429 can concern one user only.
   */
  readonly pauseOn429?: boolean;
}

export interface RetryPacer {
  acquire(waiter?: Waiter): Promise<void>;
  pause(seconds: number): void;
}

/** 1 MiB: every documented vendor answer is a few kilobytes (a user object, a 50-user multi envelope). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;

/** Seconds a 429 without a usable `Retry-After` pauses the pacer. */
export const DEFAULT_RATE_LIMIT_PAUSE_SECONDS = 1;

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly limit: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A longer `Retry-After` is not waited for: the failure is returned with its delay. */
  readonly maxRetryAfterMs: number;
}

export const NO_RETRIES: RetryPolicy = { limit: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

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
  /**
   * Whether sending this request twice leaves the same state as sending it once. Decides which
   * failures are retried here (timeouts, resets and 5xx only when true; 429 and never-sent
   * failures always) and whether the resulting failure is `retryable`. Default false.
   */
  readonly repeatSafe?: boolean;
  readonly requestId?: string;
  /**
   * The caller's cancellation: stops automatic retries that have not been sent yet (the attempt
   * already made is the outcome), never a request in flight.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Bulk work: no automatic retries here, because the bulk engine's attempts are the one retry
   * budget of each user (nested retries would multiply: 3 here × 3 there = 9 requests).
   */
  readonly background?: boolean | undefined;
  /** Sandbox mode only: a fault the sandbox vendor is asked to answer with (the x-sandbox-fault header). */
  readonly sandboxFault?: string | undefined;
  /** A read-only look-up (no state changes at the vendor): sent even in a dry run. */
  readonly lookup?: boolean;
  /**
   * For a write: the vendor's documented answer to it when it succeeds, which a dry run returns
   * instead of sending it, so that the adapter's reading of the answer runs too.
   */
  readonly dryRunAnswer?: { readonly status: number; readonly body: unknown };
  /** A dry run's recorder (CallContext.dryRun): writes are recorded, not sent. */
  readonly dryRun?: DryRunRecorder | undefined;
}

/** The fields of a vendor request that come from the call: its id, cancellation, kind and sandbox fault. */
export function callOptions(context: CallContext): Pick<HttpRequest, "requestId" | "signal" | "background" | "sandboxFault" | "dryRun"> {
  return {
    requestId: context.requestId,
    signal: context.signal,
    background: context.background,
    ...(context.sandboxFault === undefined ? {} : { sandboxFault: context.sandboxFault }),
    ...(context.dryRun === undefined ? {} : { dryRun: context.dryRun }),
  };
}

/** The header values a preview never shows. */
const REDACTED = "[redacted]";
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "x-api-key"]);

/** The outcome of one HTTP exchange, with no exception and no request options attached. */
export type HttpResult =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly headers: Readonly<Record<string, string | string[] | undefined>>;
      readonly text: string;
      /** The parsed body, or `undefined` when it is empty or not JSON. */
      readonly json: unknown;
      readonly attempts: number;
      readonly repeatSafe: boolean;
    }
  | { readonly kind: "timeout"; readonly timeoutMs: number; readonly attempts: number; readonly repeatSafe: boolean }
  | {
      readonly kind: "network";
      /** The system or got error code, or ERR_RESPONSE_TOO_LARGE when the answer passed the size cap. */
      readonly code: string;
      /** False only when the request provably never reached the vendor (connection refused). */
      readonly mayHaveReachedVendor: boolean;
      /**
       * The status the vendor had answered when the exchange broke off: its answer did not arrive
       * whole (a reset mid-body, a body shorter than its Content-Length, one past the size cap), so
       * it says nothing reliable, whatever the status.
       */
      readonly answeredStatus?: number;
      readonly attempts: number;
      readonly repeatSafe: boolean;
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
  readonly attempts: number;
}

/** Our own code for an answer cut off at the size cap. */
export const RESPONSE_TOO_LARGE = "ERR_RESPONSE_TOO_LARGE";

/** Error codes that mean no byte of the request reached the vendor. */
const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ERR_INVALID_URL"]);
/** Transient failures after which the request may or may not have been applied. */
const AMBIGUOUS_CODES = ["ETIMEDOUT", "ECONNRESET", "EPIPE", "ENETUNREACH", "EHOSTUNREACH", "ECONNABORTED"];
const ALL_METHODS: Method[] = ["GET", "PUT", "POST", "DELETE", "PATCH"];

/**
 * A vendor's HTTP client: one keep-alive agent per vendor, a timeout on every attempt, no
 * cancellation of a request once sent (its outcome would become unknown; callers cancel waits), no
 * automatic retries (retry policy depends on the operation and lives with the caller), and
 * failures returned as values. got's error objects carry request options, credentials included,
 * so they never leave this module.
 */
export class HttpClient {
  readonly vendor: string;
  /** One got instance per retry class, built once: per-request retry options cost measurable CPU. */
  private readonly got: { readonly repeatSafe: Got; readonly unsafe: Got; readonly background: Got };
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly retry: RetryPolicy;
  private readonly pacer: RetryPacer | undefined;
  private readonly pauseOn429: boolean;
  private readonly onCall?: (call: VendorCallRecord) => void;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly baseUrl: string;
  private readonly defaultHeaders: Readonly<Record<string, string>>;

  constructor(options: HttpClientOptions) {
    this.vendor = options.vendor;
    this.baseUrl = options.baseUrl;
    this.defaultHeaders = { "user-agent": "attributes-subgraph", ...options.headers };
    this.timeoutMs = options.timeoutMs;
    this.retry = options.retry ?? NO_RETRIES;
    this.pacer = options.pacer;
    this.pauseOn429 = options.pauseOn429 ?? false;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (options.onCall) this.onCall = options.onCall;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
    };
    const base = got.extend({
      prefixUrl: options.baseUrl,
      timeout: { request: options.timeoutMs },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: "text",
      // A body shorter than its Content-Length is an incomplete answer, never a short success.
      strictContentLength: true,
      agent: this.agents,
      request: requestWithSetOptions,
      headers: { "user-agent": "attributes-subgraph", ...options.headers },
      hooks: {
        // Retries count against the vendor's rate like any request, and a cancelled caller's retry
        // is not sent: the attempt before it becomes the outcome.
        // Only interactive calls retry here, and a retry that cannot get a slot before the caller's
        // deadline is not sent either.
        beforeRetry: [
          async (error) => {
            const signal = signalOf(error);
            try {
              await this.pacer?.acquire({ signal });
            } catch {
              throw new RetryCancelled(error);
            }
            if (signal?.aborted) throw new RetryCancelled(error);
          },
        ],
      },
    });
    this.got = {
      repeatSafe: base.extend({ retry: this.retryOptions(true) }),
      unsafe: base.extend({ retry: this.retryOptions(false) }),
      background: base.extend({ retry: { limit: 0 } }),
    };
  }

  private retryOptions(repeatSafe: boolean) {
    const policy = this.retry;
    return {
      limit: policy.limit,
      methods: ALL_METHODS,
      // 429 means refused, and a never-sent request was not applied: both are always safe to repeat.
      statusCodes: repeatSafe ? [408, 429, 500, 502, 503, 504] : [429],
      errorCodes: repeatSafe ? [...NEVER_SENT_CODES, ...AMBIGUOUS_CODES] : [...NEVER_SENT_CODES],
      maxRetryAfter: policy.maxRetryAfterMs,
      calculateDelay: ({ attemptCount, retryAfter, computedValue, error }: RetryDelayInput) => {
        if (computedValue === 0) return 0; // got decided against a retry: send() pauses for the final 429
        // A 429 retried here (the caller never sees it) slows the whole credential down at once too.
        if (this.pauseOn429 && error.response?.statusCode === 429) {
          this.pacer?.pause(retryAfterSeconds(error.response.headers) ?? DEFAULT_RATE_LIMIT_PAUSE_SECONDS);
        }
        if (signalOf(error)?.aborted) return 0; // cancelled: the attempt made is the outcome
        // 0 would mean "no retry" to got: "Retry-After: 0" means "now". got gives NaN for a header it cannot read.
        if (retryAfter !== undefined && Number.isFinite(retryAfter)) return Math.max(1, retryAfter);
        // Exponential backoff with full jitter, so retries from many callers spread out (never 0: that means "no retry").
        return Math.max(1, Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attemptCount - 1)));
      },
    };
  }

  async send(request: HttpRequest): Promise<HttpResult> {
    if (request.dryRun) return this.dryRun(request, request.dryRun);
    const started = performance.now();
    const result = await this.exchange(request, request.repeatSafe ?? false);
    // The final answer's 429 (retried ones paused in calculateDelay): once per 429, whoever sent it.
    if (this.pauseOn429 && result.kind === "response" && result.status === 429) {
      this.pacer?.pause(retryAfterSeconds(result.headers) ?? DEFAULT_RATE_LIMIT_PAUSE_SECONDS);
    }
    this.onCall?.({
      vendor: this.vendor,
      operation: request.operation,
      method: request.method,
      ...(request.requestId === undefined ? {} : { requestId: request.requestId }),
      outcome: result.kind,
      ...(result.kind === "response" ? { status: result.status } : {}),
      ...(result.kind === "network" ? { errorCode: result.code } : {}),
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      attempts: result.attempts,
    });
    return result;
  }

  /**
   * A dry run: a look-up is sent (and recorded); a write is recorded as the vendor would receive it
   * and answered with its documented success answer, never sent. A write without one is a bug in
   * its client, refused loudly rather than sent.
   */
  private async dryRun(request: HttpRequest, recorder: DryRunRecorder): Promise<HttpResult> {
    const { dryRun: _, ...live } = request;
    const preview = this.preview(request);
    if (request.lookup) {
      const result = await this.send(live);
      recorder.record(preview);
      return result;
    }
    if (!request.dryRunAnswer) throw new Error(`${this.vendor} ${request.operation}: a write without a dry-run answer cannot be previewed`);
    recorder.record(preview);
    const text = JSON.stringify(request.dryRunAnswer.body);
    return {
      kind: "response",
      status: request.dryRunAnswer.status,
      headers: {},
      text,
      json: parseJson(text),
      attempts: 0,
      repeatSafe: request.repeatSafe ?? false,
    };
  }

  /** The request as the vendor would receive it: full URL, headers (credentials redacted), the body as sent. */
  private preview(request: HttpRequest): PreviewedRequest {
    const url = new URL(request.path, this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    for (const [name, value] of Object.entries(request.searchParams ?? {})) url.searchParams.set(name, value);
    const body = request.jsonText ?? (request.json === undefined ? undefined : JSON.stringify(request.json));
    const headers: Record<string, string> = {};
    const all = { ...this.defaultHeaders, ...(body === undefined ? {} : { "content-type": "application/json" }), ...request.headers };
    for (const [name, value] of Object.entries(all))
      headers[name.toLowerCase()] = CREDENTIAL_HEADERS.has(name.toLowerCase()) ? REDACTED : value;
    return { vendor: this.vendor, method: request.method, url: url.toString(), headers, body, lookup: request.lookup === true };
  }

  private async exchange(request: HttpRequest, repeatSafe: boolean): Promise<HttpResult> {
    const instance = request.background ? this.got.background : repeatSafe ? this.got.repeatSafe : this.got.unsafe;
    const pending = instance(request.path, {
      method: request.method,
      ...(request.searchParams ? { searchParams: { ...request.searchParams } } : {}),
      ...(request.json === undefined ? {} : { json: request.json }),
      ...(request.jsonText === undefined ? {} : { body: request.jsonText }),
      ...(request.signal === undefined ? {} : { context: { signal: request.signal } }),
      headers: {
        ...(request.jsonText === undefined ? {} : { "content-type": "application/json" }),
        ...(request.sandboxFault === undefined ? {} : { [FAULT_HEADER]: request.sandboxFault }),
        ...request.headers,
      },
    });
    // Stop reading at the cap (decompressed bytes; a declared length past it stops at once).
    let tooLarge = false;
    // `on` returns the request itself (a promise) for chaining; it is awaited below.
    void pending.on("downloadProgress", (progress: { transferred: number; total?: number }) => {
      if (!tooLarge && (progress.transferred > this.maxResponseBytes || (progress.total ?? 0) > this.maxResponseBytes)) {
        tooLarge = true;
        pending.cancel();
      }
    });
    try {
      const response = await pending;
      return responseResult(response, response.retryCount + 1, repeatSafe);
    } catch (error) {
      // A retry refused on cancel: the outcome is the attempt before it, which was made.
      const failure = error instanceof RequestError && error.cause instanceof RetryCancelled ? error.cause.previous : error;
      const attempts = failure instanceof RequestError ? (failure.request?.retryCount ?? 0) + 1 : 1;
      if (tooLarge) return { kind: "network", code: RESPONSE_TOO_LARGE, mayHaveReachedVendor: true, attempts, repeatSafe };
      if (failure instanceof TimeoutError) return { kind: "timeout", timeoutMs: this.timeoutMs, attempts, repeatSafe };
      // A complete HTTP answer got held back for a retry that was then not sent. Only an HTTPError is
      // complete: any other error that carries a response (a reset mid-body, a short body) broke
      // off before the answer arrived whole, and a 200 status line alone proves nothing.
      if (failure instanceof HTTPError) return responseResult(failure.response, attempts, repeatSafe);
      if (failure instanceof RequestError) {
        const code = failure.code || "ERR_NETWORK";
        const answeredStatus = failure.response?.statusCode;
        return {
          kind: "network",
          code,
          mayHaveReachedVendor: answeredStatus !== undefined || !NEVER_SENT_CODES.has(code),
          ...(answeredStatus === undefined ? {} : { answeredStatus }),
          attempts,
          repeatSafe,
        };
      }
      throw error;
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/**
 * node:http's request (got's own choice for HTTP/1.1, which is all we use), given only the options got
 * set. got passes an object of 34 keys with 4–5 set, which node copies twice per request
 * (ClientRequest, then Agent#addRequest); in a bulk job's CPU profile those copies were ~12% of each
 * vendor call. An undefined option and an absent one mean the same to node, so nothing else changes.
 */
function requestWithSetOptions(url: URL, options: http.RequestOptions & https.RequestOptions): http.ClientRequest {
  const set: Record<string, unknown> = {};
  // for…in rather than Object.entries: no array of pairs per request (got's object has no inherited keys).
  for (const key in options) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) set[key] = value;
  }
  return (url.protocol === "https:" ? https : http).request(url, set);
}

type RetryDelayInput = { attemptCount: number; retryAfter?: number; computedValue: number; error: RequestError };

/** Thrown by the retry hook when the caller cancelled before a retry went out; carries the attempt made. */
class RetryCancelled extends Error {
  constructor(readonly previous: RequestError) {
    super("retry not sent: the caller cancelled");
  }
}

function signalOf(error: RequestError): AbortSignal | undefined {
  return (error.options?.context as { signal?: AbortSignal } | undefined)?.signal;
}

function responseResult(response: Response<string>, attempts: number, repeatSafe: boolean): HttpResult {
  const text = typeof response.body === "string" ? response.body : (response.rawBody?.toString("utf8") ?? "");
  return { kind: "response", status: response.statusCode, headers: response.headers, text, json: parseJson(text), attempts, repeatSafe };
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
