import type { App } from "../../src/app.js";
import { Metrics } from "../../src/observability/metrics.js";
import { DEFAULT_READINESS, type ReadinessSettings } from "../../src/observability/readiness.js";
import type { CircuitSettings } from "../../src/reliability/circuit-breaker.js";
import type { VendorRuntime } from "../../src/runtime.js";
import type { Env, VendorModule } from "../../src/vendors/define-vendor.js";
import { startTestSubgraph } from "../support/subgraph.js";

export interface ObservedSubgraph {
  readonly app: App;
  readonly runtime: VendorRuntime;
  readonly metrics: Metrics;
  readonly url: string;
  /** Every log line so far, parsed. */
  readonly logs: Array<Record<string, any>>;
  /** Every log line so far, as written. */
  readonly rawLogs: string[];
  close(): Promise<void>;
}

/** The shared test harness with metrics observing the vendors and readiness probing them, as main.ts wires it. */
export async function startObservedSubgraph(
  options: {
    modules?: readonly VendorModule[];
    env?: Env;
    sandbox?: "auto" | "force" | "off";
    circuit?: CircuitSettings;
    readiness?: Partial<ReadinessSettings>;
    processMetrics?: boolean;
  } = {},
): Promise<ObservedSubgraph> {
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? false });
  const subgraph = await startTestSubgraph({
    ...(options.modules ? { modules: options.modules } : {}),
    ...(options.env ? { env: options.env } : {}),
    sandbox: options.sandbox ?? "force",
    retry: { limit: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1_000 },
    circuit: options.circuit ?? { failureThreshold: 1_000, cooldownMs: 60_000 },
    graphiql: false,
    bulk: { retryBaseDelayMs: 1 },
    metrics,
    readiness: { ...DEFAULT_READINESS, ...options.readiness },
  });
  return {
    app: subgraph.app,
    runtime: subgraph.runtime,
    metrics,
    url: subgraph.url,
    rawLogs: subgraph.logLines,
    get logs() {
      return subgraph.logLines.map((line) => JSON.parse(line) as Record<string, any>);
    },
    close: () => subgraph.close(),
  };
}

/** The value of one sample in Prometheus text, or undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

export async function scrape(url: string): Promise<string> {
  const response = await fetch(new URL("/metrics", url));
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

export async function post(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return response.json();
}
