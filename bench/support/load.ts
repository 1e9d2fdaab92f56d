/** autocannon in the benchmark process, with latencies recorded at sub-millisecond precision. */
import http from "node:http";
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

/** Each response of a run, in the order they came: latency in decimal ms, and when it ended (epoch ms, sub-ms). */
export interface ResponseTimes {
  readonly latencies: readonly number[];
  readonly endedAt: readonly number[];
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
  const { latencies: _latencies, endedAt: _endedAt, ...result } = await loadTimed(options);
  return result;
}

/** As load, with every response's latency and end time (the closed-loop tail needs them all). */
export async function loadTimed(options: LoadOptions): Promise<LoadResult & ResponseTimes> {
  const latencies: number[] = [];
  const endedAt: number[] = [];
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
        ...(typeof body === "string" ? { body } : { setupRequest: (request) => ({ ...request, body: body() }) }),
        ...(options.onBody ? { onResponse: (status: number, text: string) => options.onBody!(status, text) } : {}),
      },
    ],
  });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
    endedAt.push(performance.timeOrigin + performance.now());
  });
  const result = await instance;
  // Copied before summarize sorts the latencies in place, so each keeps its end time.
  const inOrder = [...latencies];
  return {
    ...summarize(latencies, options.connections, result.duration, {
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    }),
    latencies: inOrder,
    endedAt,
  };
}

/** The latency at quantile q of ascending latencies, in ms to 0.01. */
export function quantile(sorted: readonly number[], q: number): number {
  return round2(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
}

/** The middle value (the upper of the two middle ones for an even count), not rounded; the input is not changed. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
}

/** Percentiles and rate of one load run's latencies (sorted in place). */
function summarize(
  latencies: number[],
  connections: number,
  durationSec: number,
  counts: { non2xx: number; errors: number; timeouts: number },
): LoadResult {
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => quantile(latencies, q);
  return {
    connections,
    durationSec,
    requests: latencies.length,
    rps: Math.round(latencies.length / durationSec),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: round2(latencies.at(-1) ?? NaN),
    ...counts,
  };
}

/** Two decimals, the precision every bench table prints. */
export const round2 = (value: number): number => Math.round(value * 100) / 100;

/** POSTs one GraphQL operation and returns the parsed body. */
export async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/**
 * Open-loop load at an even rate: one request every 1000/rate ms (autocannon's rate limit sends each
 * second's quota in a burst, which measures queueing), over at most `connections` keep-alive sockets.
 * Latency counts from the moment a request was due, so a request that waits for a free socket is not
 * flattered (no coordinated omission).
 */
export async function paced(
  options: LoadOptions & {
    readonly overallRate: number;
    readonly method?: string;
    /** The request path, called for every request; default the URL's path. */
    readonly path?: () => string;
  },
): Promise<LoadResult & { readonly latencies: readonly number[]; readonly dueSeconds: readonly number[] }> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  // The second of the run each answered request was due in, beside its latency.
  const dueSeconds: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const pending = new Set<Promise<void>>();
  const fire = (due: number): void => {
    const body = typeof options.body === "string" ? options.body : options.body();
    const done = new Promise<void>((resolve) => {
      const request = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: options.path ? options.path() : target.pathname,
          method: options.method ?? "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...options.headers },
        },
        (response) => {
          let text = "";
          if (options.onBody) response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
          else response.resume();
          response.on("end", () => {
            latencies.push(performance.now() - due);
            options.onBody?.(response.statusCode ?? 0, text);
            dueSeconds.push(Math.floor((due - start) / 1000));
            if ((response.statusCode ?? 0) >= 300) non2xx++;
            resolve();
          });
        },
      );
      request.on("error", () => {
        errors++;
        resolve();
      });
      request.end(body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  const interval = 1000 / options.overallRate;
  const start = performance.now();
  let next = start;
  const end = next + options.durationSec * 1000;
  while (next < end) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const now = performance.now(); next <= now && next < end; next += interval) fire(next);
  }
  await Promise.all(pending);
  agent.destroy();
  // Copied before summarize sorts the latencies in place, so each keeps its due second.
  const inOrder = [...latencies];
  return {
    ...summarize(latencies, options.connections, options.durationSec, { non2xx, errors, timeouts: 0 }),
    latencies: inOrder,
    dueSeconds,
  };
}
