import { describe, expect, it } from "@jest/globals";
import type { VendorCapabilities } from "../../src/domain/capabilities.js";
import type { Vendor, VendorAdapter } from "../../src/domain/vendor.js";
import { BulkEngine } from "../../src/bulk/engine.js";
import { InProcessQueue } from "../../src/bulk/queue.js";
import { InMemoryJobStore } from "../../src/bulk/store.js";
import { isFinished } from "../../src/bulk/types.js";

const capabilities: VendorCapabilities = {
  operations: { SET: ["string"] },
  profileFields: [],
  tags: { add: false, remove: false },
  readProfile: false,
  createsUsers: true,
};

/**
 * The engine's fan-out path classifies throws the way the native path and the circuit breaker do:
 * only the cancel itself means nothing was sent; any other throw, also one after a cancel, is a
 * crash whose outcome is unknown, reported and counted failed (INTERNAL), not cancelled.
 */
describe("bulk engine, fan-out path, throws after a cancel", () => {
  it("counts the cancel's own rejection as cancelled and any other throw as an INTERNAL failure", async () => {
    let cancelJob: () => void = () => undefined;
    let calls = 0;
    const adapter: VendorAdapter = {
      update: (command, context) => {
        calls++;
        if (calls === 1) {
          cancelJob(); // the job is cancelled while the first users are in flight
          return Promise.resolve({ ok: true, vendor: "fake", warnings: [] });
        }
        // In flight when the cancel came: user 2 crashes (a bug), the others give up their pacer wait.
        return new Promise((_resolve, reject) => {
          const signal = context.signal!;
          const settle = () => reject(command.userId === "2" ? new Error("adapter bug") : (signal.reason as Error));
          if (signal.aborted) settle();
          else signal.addEventListener("abort", settle, { once: true });
        });
      },
    };
    const vendor: Vendor = { id: "fake", displayName: "Fake", capabilities, mode: "sandbox", adapter };
    const errors: unknown[] = [];
    const store = new InMemoryJobStore();
    const engine = new BulkEngine({
      store,
      queue: new InProcessQueue(1),
      vendors: [vendor],
      fanOutConcurrency: 8,
      fanOutChunkSize: 8,
      onError: (_jobId, error) => errors.push(error),
    });
    const submitted = await engine.submit({
      userIds: ["1", "2", "3", "4"],
      change: { attribute: "plan", value: { kind: "string", value: "gold" } },
    });
    if (submitted.kind !== "accepted") throw new Error(submitted.kind);
    const id = submitted.job.id;
    cancelJob = () => void engine.cancel(id);
    let job = await engine.get(id);
    for (const deadline = Date.now() + 5_000; job && !isFinished(job.status) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      job = await engine.get(id);
    }
    expect(job?.status).toBe("CANCELLED");
    expect(job?.progress).toEqual([expect.objectContaining({ vendor: "fake", total: 4, succeeded: 1, failed: 1, cancelled: 2 })]);
    const failures = await store.failures(id, "fake", { offset: 0, limit: 10 });
    expect(failures).toEqual([
      expect.objectContaining({ userId: "2", vendor: "fake", failure: expect.objectContaining({ category: "INTERNAL" }) }),
    ]);
    expect(errors).toEqual([expect.objectContaining({ message: "adapter bug" })]);
    await engine.stop();
  });
});
