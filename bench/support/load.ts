/** autocannon in the benchmark process, with latencies recorded at sub-millisecond precision. */
import autocannon from "autocannon";

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  /** A fixed body, or a function called for every request (e.g. to rotate user ids). */
  readonly body: string | (() => string);
  readonly headers?: Record<string, string>;
  /** Called with every response body (costs the load generator a little; use where bodies are checked). */
  readonly onBody?: (status: number, body: string) => void;
  readonly timeoutSec?: number;
}

export interface LoadResult {
  readonly connections: number;
  readonly durationSec: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const body = options.body;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSec,
    timeout: options.timeoutSec ?? 30,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", ...options.headers },
        ...(typeof body === "string"
          ? { body }
          : { setupRequest: (request) => ({ ...request, body: body() }) }),
        ...(options.onBody
          ? { onResponse: (status: number, text: string) => options.onBody!(status, text) }
          : {}),
      },
    ],
  });
  instance.on(
    "response",
    (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    },
  );
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
  return {
    connections: options.connections,
    durationSec: result.duration,
    requests: latencies.length,
    rps: Math.round(latencies.length / result.duration),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: round(latencies.at(-1) ?? NaN),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** POSTs one GraphQL operation and returns the parsed body. */
export async function gql<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}
