import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { laneKey } from "./store.js";
import type { LaneRunner, LaneScheduler } from "./scheduler.js";
import type { Lane } from "./types.js";
import { withoutListenerLimit } from "./scheduler.js";

export interface BullmqLaneSchedulerOptions {
  /** BullMQ's connection (maxRetriesPerRequest: null). */
  readonly connection: Redis;
  readonly keyPrefix: string;
  /** Lanes this process works at once. */
  readonly concurrency: number;
  /** How long a lane's job lock lasts without renewal before its worker counts as dead (BULK_WORKER_LOCK_MS). */
  readonly lockDurationMs: number;
  readonly onError: (error: unknown) => void;
}

const QUEUE = "attribute-deliveries";

/**
 * Shared mode's wake-ups: a BullMQ delayed job per lane and due time, taken by any worker process.
 * BullMQ brings the durability (a wake-up survives every restart), the delays, the distribution
 * over workers, and stalled-job recovery: a lane whose worker was killed is worked again by another
 * one once the job's lock lapses. The order within a lane is not BullMQ's (its open-source edition
 * has no groups): the lane's lock and FIFO in Redis keep it (DeliveryEngine).
 */
export class BullmqLaneScheduler implements LaneScheduler {
  private readonly queue: Queue<Lane>;
  private worker: Worker<Lane> | undefined;
  // One signal for every lane this process runs, each of which may wait on it (for a rate slot, say).
  private readonly controller = withoutListenerLimit(new AbortController());
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: BullmqLaneSchedulerOptions) {
    this.queue = new Queue<Lane>(QUEUE, {
      connection: options.connection,
      prefix: `${options.keyPrefix}:bullmq`,
      defaultJobOptions: {
        // A run that throws (Redis away for a moment) is tried again; the lane's state decides what is sent.
        attempts: 1_000,
        backoff: { type: "exponential", delay: 1_000 },
        removeOnComplete: true,
        removeOnFail: 1_000,
      },
    });
    this.queue.on("error", options.onError);
  }

  async wake(lane: Lane, at: number): Promise<void> {
    // One job per lane and due time: waking twice for the same time adds nothing (BullMQ ids may not contain ":").
    const jobId = `${laneKey(lane).replace(":", ".")}.${Math.round(at)}`;
    await this.queue.add("lane", { vendor: lane.vendor, userId: lane.userId }, { jobId, delay: Math.max(0, Math.round(at - Date.now())) });
  }

  start(run: LaneRunner): void {
    const worker = new Worker<Lane>(QUEUE, (job) => run(job.data, this.controller.signal), {
      connection: this.options.connection,
      prefix: `${this.options.keyPrefix}:bullmq`,
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: Math.min(30_000, this.options.lockDurationMs),
      // A lane run again after its worker died is safe however often (the lane decides what is resent).
      maxStalledCount: 1_000,
    });
    worker.on("error", this.options.onError);
    // A run that threw (Redis away for a moment, a bug) is tried again by BullMQ; it is still reported, as TimerLaneScheduler reports one.
    worker.on("failed", (_job, error) => this.options.onError(error));
    this.worker = worker;
  }

  stop(graceMs: number): Promise<void> {
    this.stopped ??= (async () => {
      const abort = setTimeout(() => this.controller.abort(new Error("delivery worker stopping")), Math.max(0, graceMs));
      try {
        await this.worker?.close();
      } finally {
        clearTimeout(abort);
      }
      await this.queue.close();
    })();
    return this.stopped;
  }
}
