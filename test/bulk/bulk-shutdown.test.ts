import { describe, expect, it } from "@jest/globals";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { BULK_MUTATION, waitForBulkJob } from "../support/bulk.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

const USERS = 2_000;
/** Users per fan-out chunk (the engine's default) and users in flight per vendor (50 per lane, two lanes). */
const CHUNK = 200;
const FAN_OUT = 100;
const ids = (n: number, prefix = "") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** A Carnival sandbox that answers every request after 300 ms: a chunk of 200 takes four rounds. */
async function slowSubgraph(jobConcurrency = 2): Promise<{ subgraph: TestSubgraph; sandbox: CarnivalSandbox }> {
  const subgraph = await startTestSubgraph({
    modules: [carnival],
    sandboxUserIds: ids(USERS),
    // The pacer never holds a request back here: only the response delay and the fan-out bound the pace.
    env: { CARNIVAL_RATE_LIMIT: "100000" },
    sandboxRateLimits: { carnival: 1_000_000 },
    bulk: { fanOutConcurrency: FAN_OUT, jobConcurrency },
  });
  const sandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
  sandbox.setResponseDelay(300);
  return { subgraph, sandbox };
}

const start = async (subgraph: TestSubgraph, userIds: string[]) => {
  const started = await subgraph.gql(BULK_MUTATION, { input: { userIds, attribute: "tier", value: { int: 5 } } });
  return started.data.bulkSetCustomAttribute.id as string;
};

/** The users each journaled request was for, by chunk of the job's ids (users 1-200 are chunk 0). */
function sentByChunk(sandbox: CarnivalSandbox): Map<number, number> {
  const chunks = new Map<number, number>();
  for (const entry of sandbox.journal()) {
    const user = Number(/\/users\/(\d+)$/.exec(entry.path)?.[1]);
    const chunk = Math.floor((user - 1) / CHUNK);
    chunks.set(chunk, (chunks.get(chunk) ?? 0) + 1);
  }
  return chunks;
}

const completeChunks = (chunks: Map<number, number>) => [...chunks.values()].filter((n) => n === CHUNK).length;

const REASON = `query($id: ID!) { attributeBulkJob(id: $id) { ... on AttributesBulkJob { status cancelRequested cancelReason } } }`;

describe("BulkEngine.stop: a shutdown stops bulk work at a chunk boundary with an exact account", () => {
  it("lets the chunks in flight finish within the grace, starts no other, and ends the job CANCELLED by SHUTDOWN", async () => {
    const { subgraph, sandbox } = await slowSubgraph();
    try {
      const id = await start(subgraph, ids(USERS));
      // More than one lane's worth of requests have arrived: both lanes are in their first chunk.
      while (sandbox.requestCount() <= FAN_OUT / 2) await new Promise((r) => setTimeout(r, 5));
      // The journal holds answered requests: the chunks it holds whole were done before the stop.
      const doneBefore = completeChunks(sentByChunk(sandbox));
      const arrivedBefore = sandbox.requestCount();
      await subgraph.app.bulk.stop({ graceMs: 60_000 });

      const sent = sentByChunk(sandbox);
      // Every chunk begun was sent whole, in order, and none began after the stop beyond the lanes in flight.
      expect([...sent.keys()].sort((a, b) => a - b)).toEqual([...Array(sent.size).keys()]);
      expect([...sent.values()].every((n) => n === CHUNK)).toBe(true);
      expect(sent.size).toBeLessThanOrEqual(doneBefore + 2);
      expect(arrivedBefore).toBeGreaterThan(doneBefore * CHUNK); // something was in flight at the stop, and finished
      expect(sent.size).toBeLessThan(USERS / CHUNK);

      const job = (await subgraph.app.bulk.get(id))!;
      expect(job.status).toBe("CANCELLED");
      expect(job.cancelRequested).toBe(false);
      expect(job.progress[0]).toMatchObject({
        total: USERS,
        succeeded: sent.size * CHUNK,
        failed: 0,
        cancelled: USERS - sent.size * CHUNK,
      });
      expect(sandbox.requestCount()).toBe(sent.size * CHUNK);
      expect((await subgraph.gql(REASON, { id })).data.attributeBulkJob).toEqual({
        status: "CANCELLED",
        cancelRequested: false,
        cancelReason: "SHUTDOWN",
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(sandbox.requestCount()).toBe(sent.size * CHUNK);
    } finally {
      await subgraph.close();
    }
  });

  it("with no grace left gives up every wait at once, counts exactly, and cancels queued and later jobs whole", async () => {
    const { subgraph, sandbox } = await slowSubgraph(1);
    try {
      const running = await start(subgraph, ids(USERS));
      const queued = await start(subgraph, ids(50, "b-"));
      while (sandbox.requestCount() <= FAN_OUT / 2) await new Promise((r) => setTimeout(r, 5));
      const arrivedBefore = sandbox.requestCount();
      const generous = subgraph.app.bulk.stop({ graceMs: 60_000 });
      // A second call (app.close after a drain, say) shares the first one's work and may shorten its grace.
      await subgraph.app.bulk.stop({ graceMs: 0 });
      await generous;

      // Only the calls already under way (at most the fan-out's) reach the vendor after the stop.
      const sentAtEnd = sandbox.requestCount();
      expect(sentAtEnd - arrivedBefore).toBeLessThanOrEqual(FAN_OUT);
      const job = (await subgraph.app.bulk.get(running))!;
      expect(job.status).toBe("CANCELLED");
      // Requests already sent were not aborted: each is counted by its outcome; the rest are cancelled.
      expect(job.progress[0]).toMatchObject({ total: USERS, succeeded: sentAtEnd, failed: 0, cancelled: USERS - sentAtEnd });
      expect(sandbox.statusCounts()).toEqual({ 202: sentAtEnd });
      expect((await subgraph.gql(REASON, { id: running })).data.attributeBulkJob.cancelReason).toBe("SHUTDOWN");

      // The queued job never started: all its users are cancelled and nothing was sent for them.
      const never = (await subgraph.app.bulk.get(queued))!;
      expect(never).toMatchObject({ status: "CANCELLED", cancelReason: "SHUTDOWN", cancelRequested: false });
      expect(never.startedAt).toBeUndefined();
      expect(never.progress[0]).toMatchObject({ total: 50, succeeded: 0, failed: 0, cancelled: 50 });
      expect(sandbox.journal().filter((e) => e.path.includes("/users/b-"))).toEqual([]);

      // A job submitted once the engine has stopped is answered, typed, as cancelled by the shutdown.
      const late = await start(subgraph, ids(10, "c-"));
      const ended = await waitForBulkJob(subgraph, late, "cancelReason progress { total succeeded failed cancelled pending }");
      expect(ended).toEqual({
        status: "CANCELLED",
        cancelReason: "SHUTDOWN",
        progress: [{ total: 10, succeeded: 0, failed: 0, cancelled: 10, pending: 0 }],
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(sandbox.requestCount()).toBe(sentAtEnd);
    } finally {
      await subgraph.close();
    }
  });
});
