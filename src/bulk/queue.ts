/**
 * Hands job ids to workers. In process by default; a distributed queue (BullMQ on Redis) lets
 * several replicas share the work without changing the engine.
 */
export interface WorkQueue {
  enqueue(jobId: string): Promise<void>;
  /** Starts delivering job ids to the handler, at most `concurrency` at a time. */
  start(handler: (jobId: string) => Promise<void>): void;
  /**
   * Stops taking jobs at once, waits for the running ones to finish, and returns the ids of the jobs
   * it holds that no worker will now run: an in-process queue's waiting jobs. (A shared queue keeps
   * its waiting jobs for the other workers and returns none.)
   */
  stop(): Promise<readonly string[]>;
}

export class InProcessQueue implements WorkQueue {
  private readonly waiting: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private handler: ((jobId: string) => Promise<void>) | undefined;
  private stopped = false;

  constructor(private readonly concurrency = 2) {}

  enqueue(jobId: string): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("the work queue is stopped"));
    this.waiting.push(jobId);
    this.pump();
    return Promise.resolve();
  }

  start(handler: (jobId: string) => Promise<void>): void {
    this.handler = handler;
    this.pump();
  }

  async stop(): Promise<readonly string[]> {
    this.stopped = true;
    const abandoned = this.waiting.splice(0);
    await Promise.allSettled([...this.running]);
    return abandoned;
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (!this.stopped && this.running.size < this.concurrency && this.waiting.length > 0) {
      const jobId = this.waiting.shift()!;
      const run: Promise<void> = handler(jobId).finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }
}
