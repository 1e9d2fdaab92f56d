import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { VendorQueueStats } from "../delivery/store.js";
import type { BulkProgressEvent } from "../bulk/engine.js";
import type { DeliveryOutcome } from "../domain/results.js";
import type { VendorMode } from "../domain/vendor.js";
import type { VendorCallRecord } from "../http/client.js";
import type { PacerRegistry } from "../pacing/pacer.js";
import type { CircuitBreaker, CircuitState } from "../reliability/circuit-breaker.js";

export interface MetricsOptions {
  /**
   * Node.js process metrics (CPU, memory, event loop, GC). On in main.ts; off by default because
   * prom-client's collectors install process-wide observers that are never removed, which tests
   * building many apps should not accumulate.
   */
  readonly processMetrics?: boolean;
}

/** What the metrics read at scrape time from the running vendors. */
export interface ObservedRuntime {
  readonly summary: ReadonlyArray<{ readonly vendor: string; readonly mode: VendorMode }>;
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  readonly pacers: PacerRegistry;
}

const CIRCUIT_STATES: readonly CircuitState[] = ["closed", "open", "half-open"];
const VENDOR_MODES: readonly VendorMode[] = ["live", "sandbox", "not-configured"];
/** From a fast loopback call to a vendor's 10 s timeout. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ACTIVE_JOB_STATUSES = new Set(["QUEUED", "RUNNING"]);

/**
 * The subgraph's Prometheus metrics, in a registry of their own (not prom-client's global one) so
 * several apps can live in one process. Every label value comes from a closed set: vendor ids,
 * the adapters' operation names, failure categories, schema field and type names. Nothing a
 * caller types becomes a label.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly vendorRequests: Counter<"vendor" | "operation" | "outcome" | "status_class">;
  private readonly vendorRequestDuration: Histogram<"vendor" | "operation" | "outcome">;
  private readonly vendorRetries: Counter<"vendor" | "operation">;
  private readonly deliveries: Counter<"vendor" | "outcome" | "category">;
  private readonly deliveryDuration: Histogram<"vendor">;
  private readonly operations: Counter<"type" | "field" | "result">;
  private readonly operationDuration: Histogram<"type" | "field">;
  private readonly circuitTransitions: Counter<"vendor" | "state">;
  private readonly logLinesDropped: Counter;
  private readonly bulkJobs: Counter<"status">;
  private readonly bulkUsers: Counter<"vendor" | "outcome" | "category">;
  private readonly queuedDeliveries: Counter<"vendor" | "reason">;
  private readonly settledDeliveries: Counter<"vendor" | "status">;
  private readonly deliveryQueues: Array<() => Promise<readonly VendorQueueStats[]>> = [];
  private readonly runtimes: ObservedRuntime[] = [];
  /** Status of every job not yet finished, and its users not yet settled per vendor. */
  private readonly activeJobs = new Map<string, { status: string; pending: Map<string, number> }>();

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });

    this.vendorRequests = new Counter({
      name: "attributes_vendor_requests_total",
      help: "Vendor HTTP exchanges (retries inside one exchange included) by outcome (response, timeout, network) and status class",
      labelNames: ["vendor", "operation", "outcome", "status_class"],
      registers,
    });
    this.vendorRequestDuration = new Histogram({
      name: "attributes_vendor_request_duration_seconds",
      help: "Duration of one vendor HTTP exchange, retries and their delays included",
      labelNames: ["vendor", "operation", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.vendorRetries = new Counter({
      name: "attributes_vendor_request_retries_total",
      help: "Automatic retries of vendor requests (attempts after the first)",
      labelNames: ["vendor", "operation"],
      registers,
    });
    this.deliveries = new Counter({
      name: "attributes_deliveries_total",
      help: "updateAttributes deliveries by vendor and outcome; category is the typed error (none when delivered)",
      labelNames: ["vendor", "outcome", "category"],
      registers,
    });
    this.deliveryDuration = new Histogram({
      name: "attributes_delivery_duration_seconds",
      help: "Duration of one vendor's delivery of an updateAttributes call, pacing, look-ups and retries included",
      labelNames: ["vendor"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.operations = new Counter({
      name: "attributes_graphql_operations_total",
      help: "GraphQL operations by type, first root field and that field's result type (error: GraphQL errors, none: not executed)",
      labelNames: ["type", "field", "result"],
      registers,
    });
    this.operationDuration = new Histogram({
      name: "attributes_graphql_operation_duration_seconds",
      help: "Duration of GraphQL operations, from request to response",
      labelNames: ["type", "field"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.circuitTransitions = new Counter({
      name: "attributes_circuit_transitions_total",
      help: "Circuit breaker state changes by vendor and new state",
      labelNames: ["vendor", "state"],
      registers,
    });
    this.logLinesDropped = new Counter({
      name: "attributes_log_lines_dropped_total",
      help: "Log lines dropped because stdout did not keep up with asynchronous logging (LOG_SYNC=false)",
      registers,
    });
    this.bulkJobs = new Counter({
      name: "attributes_bulk_jobs_total",
      help: "Bulk jobs entering each status (QUEUED counts submitted jobs)",
      labelNames: ["status"],
      registers,
    });
    this.bulkUsers = new Counter({
      name: "attributes_bulk_users_total",
      help: "Users settled by bulk jobs, by vendor and outcome (succeeded, failed, cancelled); category is a failure's typed error",
      labelNames: ["vendor", "outcome", "category"],
      registers,
    });

    this.queuedDeliveries = new Counter({
      name: "attributes_deliveries_queued_total",
      help: "Updates queued instead of answered, by vendor and reason (RETRYABLE_FAILURE, BEHIND_EARLIER_DELIVERY)",
      labelNames: ["vendor", "reason"],
      registers,
    });
    this.settledDeliveries = new Counter({
      name: "attributes_deliveries_settled_total",
      help: "Queued deliveries settled by this process, by vendor and final status (DELIVERED, FAILED, EXPIRED, CANCELLED)",
      labelNames: ["vendor", "status"],
      registers,
    });
    const deliveryQueues = this.deliveryQueues;
    const queueStats = async (): Promise<VendorQueueStats[]> => (await Promise.all(deliveryQueues.map((read) => read()))).flat();
    new Gauge({
      name: "attributes_delivery_queue_depth",
      help: "Updates queued per vendor (in shared mode: across every process, read from Redis)",
      labelNames: ["vendor"],
      registers,
      async collect() {
        this.reset();
        for (const { vendor, depth } of await queueStats().catch(() => [])) this.inc({ vendor }, depth);
      },
    });
    new Gauge({
      name: "attributes_delivery_oldest_queued_seconds",
      help: "Age of the oldest queued update per vendor",
      labelNames: ["vendor"],
      registers,
      async collect() {
        this.reset();
        const now = Date.now();
        for (const { vendor, oldestCreatedAt } of await queueStats().catch(() => [])) {
          if (oldestCreatedAt !== undefined) this.set({ vendor }, Math.max(0, (now - oldestCreatedAt) / 1000));
        }
      },
    });

    // Gauges read their sources at scrape time, so they are never stale and cost nothing between scrapes.
    const runtimes = this.runtimes;
    const activeJobs = this.activeJobs;
    new Gauge({
      name: "attributes_vendor_mode",
      help: "1 for each vendor's mode in this deployment (live, sandbox, not-configured)",
      labelNames: ["vendor", "mode"],
      registers,
      collect() {
        this.reset();
        for (const runtime of runtimes) {
          for (const { vendor, mode } of runtime.summary) {
            for (const candidate of VENDOR_MODES) this.set({ vendor, mode: candidate }, candidate === mode ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: "attributes_circuit_state",
      help: "1 for each vendor's current circuit state (closed, open, half-open), 0 for the others",
      labelNames: ["vendor", "state"],
      registers,
      collect() {
        this.reset();
        for (const runtime of runtimes) {
          for (const [vendor, breaker] of runtime.breakers) {
            const current = breaker.current;
            for (const state of CIRCUIT_STATES) this.set({ vendor, state }, state === current ? 1 : 0);
          }
        }
      },
    });
    const pacerTotals = (): Map<string, { acquired: number; waitedMs: number; backlogMs: number }> => {
      const totals = new Map<string, { acquired: number; waitedMs: number; backlogMs: number }>();
      for (const runtime of runtimes) {
        for (const [key, pacer] of runtime.pacers.entries()) {
          // Keys are `<vendor>:<hashed credential>`; only the vendor becomes a label.
          const vendor = key.split(":")[0]!;
          const stats = pacer.stats();
          const total = totals.get(vendor) ?? { acquired: 0, waitedMs: 0, backlogMs: 0 };
          total.acquired += stats.acquired;
          total.waitedMs += stats.waitedMs;
          total.backlogMs = Math.max(total.backlogMs, pacer.peekDelayMs());
          totals.set(vendor, total);
        }
      }
      return totals;
    };
    new Counter({
      name: "attributes_pacer_acquisitions_total",
      help: "Requests that passed a vendor's shared pacer (first attempts and retries)",
      labelNames: ["vendor"],
      registers,
      collect() {
        this.reset();
        for (const [vendor, total] of pacerTotals()) this.inc({ vendor }, total.acquired);
      },
    });
    new Counter({
      name: "attributes_pacer_wait_seconds_total",
      help: "Time requests spent waiting for a vendor's shared pacer (rate limit and Retry-After pauses)",
      labelNames: ["vendor"],
      registers,
      collect() {
        this.reset();
        for (const [vendor, total] of pacerTotals()) this.inc({ vendor }, total.waitedMs / 1000);
      },
    });
    new Gauge({
      name: "attributes_pacer_backlog_seconds",
      help: "How long a request arriving now would wait for the vendor's pacer",
      labelNames: ["vendor"],
      registers,
      collect() {
        this.reset();
        for (const [vendor, total] of pacerTotals()) this.set({ vendor }, total.backlogMs / 1000);
      },
    });
    new Gauge({
      name: "attributes_bulk_jobs",
      help: "Bulk jobs in this process not yet finished, by status (QUEUED, RUNNING)",
      labelNames: ["status"],
      registers,
      collect() {
        this.reset();
        for (const status of ACTIVE_JOB_STATUSES) this.set({ status }, 0);
        for (const job of activeJobs.values()) this.inc({ status: job.status });
      },
    });
    new Gauge({
      name: "attributes_bulk_users_pending",
      help: "Users of unfinished bulk jobs not yet settled, by vendor",
      labelNames: ["vendor"],
      registers,
      collect() {
        this.reset();
        const sums = new Map<string, number>();
        for (const job of activeJobs.values()) {
          for (const [vendor, pending] of job.pending) sums.set(vendor, (sums.get(vendor) ?? 0) + pending);
        }
        for (const [vendor, pending] of sums) this.set({ vendor }, pending);
      },
    });
  }

  /** Reads breakers, pacers and vendor modes from a running set of vendors at every scrape. */
  observeRuntime(runtime: ObservedRuntime): void {
    this.runtimes.push(runtime);
    for (const [vendor, breaker] of runtime.breakers) {
      breaker.onChange((state) => this.circuitTransitions.inc({ vendor, state }));
    }
  }

  /** Reads a delivery queue's depth and oldest age at every scrape. */
  observeDeliveryQueue(stats: () => Promise<readonly VendorQueueStats[]>): void {
    this.deliveryQueues.push(stats);
  }

  readonly recordQueued = (vendor: string, reason: string): void => {
    this.queuedDeliveries.inc({ vendor, reason });
  };

  readonly recordSettled = (vendor: string, status: string): void => {
    this.settledDeliveries.inc({ vendor, status });
  };

  readonly recordLogDrop = (): void => {
    this.logLinesDropped.inc();
  };

  readonly recordVendorCall = (call: VendorCallRecord): void => {
    const statusClass = call.status === undefined ? "none" : `${Math.floor(call.status / 100)}xx`;
    this.vendorRequests.inc({ vendor: call.vendor, operation: call.operation, outcome: call.outcome, status_class: statusClass });
    this.vendorRequestDuration.observe({ vendor: call.vendor, operation: call.operation, outcome: call.outcome }, call.durationMs / 1000);
    if (call.attempts > 1) this.vendorRetries.inc({ vendor: call.vendor, operation: call.operation }, call.attempts - 1);
  };

  recordDelivery(outcome: DeliveryOutcome, durationMs: number): void {
    this.deliveries.inc(
      outcome.ok
        ? { vendor: outcome.vendor, outcome: "delivered", category: "none" }
        : { vendor: outcome.vendor, outcome: "failed", category: outcome.failure.category },
    );
    this.deliveryDuration.observe({ vendor: outcome.vendor }, durationMs / 1000);
  }

  recordOperation(operation: { type: string; field: string; result: string; durationMs: number }): void {
    this.operations.inc({ type: operation.type, field: operation.field, result: operation.result });
    this.operationDuration.observe({ type: operation.type, field: operation.field }, operation.durationMs / 1000);
  }

  readonly recordBulkProgress = (event: BulkProgressEvent): void => {
    if (event.kind === "users") {
      if (event.succeeded > 0) this.bulkUsers.inc({ vendor: event.vendor, outcome: "succeeded", category: "none" }, event.succeeded);
      if (event.cancelled > 0) this.bulkUsers.inc({ vendor: event.vendor, outcome: "cancelled", category: "none" }, event.cancelled);
      for (const category of event.failed) this.bulkUsers.inc({ vendor: event.vendor, outcome: "failed", category });
      const pending = this.activeJobs.get(event.jobId)?.pending;
      const left = pending?.get(event.vendor);
      if (pending && left !== undefined)
        pending.set(event.vendor, Math.max(0, left - event.succeeded - event.cancelled - event.failed.length));
      return;
    }
    this.bulkJobs.inc({ status: event.status });
    if (event.shared) return;
    if (!ACTIVE_JOB_STATUSES.has(event.status)) {
      this.activeJobs.delete(event.jobId);
      return;
    }
    const job = this.activeJobs.get(event.jobId);
    if (job) job.status = event.status;
    else
      this.activeJobs.set(event.jobId, {
        status: event.status,
        pending: new Map(event.vendors.map((vendor) => [vendor, event.totals?.[vendor] ?? event.users])),
      });
  };

  /** The exposition text for GET /metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
