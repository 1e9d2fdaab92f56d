import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { FAILURE_CATEGORIES, type FailureCategory } from "../domain/failures.js";
import { countBits, type Bitmap } from "./bitmap.js";
import type { FailedUsers } from "./retry.js";
import type { NewBulkJob } from "./store.js";
import type { BulkFailure, BulkJobSnapshot, BulkJobSpec, CancelReason, JobStatus, VendorProgress } from "./types.js";
import { isFinished } from "./types.js";
import { PackedUserIds } from "./user-ids.js";

/**
 * Shared mode's bulk jobs in Redis, visible to every replica and worker and surviving any restart.
 * All of one job's keys share a hash tag (`{<job id>}`), so they live in one slot, and every
 * change is one Lua script, atomic however many workers record at once. Per job:
 *
 * - `…:job` hash: spec, owner, status, times, users (`total`), cancel request and reason, chunk
 *   sizes; for a retry, `retryOf` (the parent's id) and `selected` (its vendors have selections);
 * - `…:v:<vendor>` hash: succeeded, failed, cancelled, and `failed:<CATEGORY>` counts; for a retry,
 *   the vendor's own `total` (its selection's size);
 * - `…:f:<vendor>` list: the first failures recorded (JSON), at most the cap;
 * - `…:fb:<vendor>:<CATEGORY>` bitmaps: the users whose final failure at the vendor had that
 *   category, and `…:fr:<vendor>`: those whose final failure was retryable (every failed user, kept
 *   or not, so that a retry finds them all);
 * - `…:ids` and `…:ends` strings: the ids packed as UTF-8 and each id's end offset (uint32 LE),
 *   read one chunk at a time with GETRANGE;
 * - `…:sel:<vendor>` bitmap, a retry only: the users to deliver at the vendor;
 * - `…:done:<vendor>` bitmap: users settled at the vendor, so that a chunk run again after a
 *   worker died counts each user once;
 * - `…:chunks:<vendor>` hash: each chunk's state, `w` taken by a worker (running, or its worker
 *   died), `r` released by a worker stopping at a chunk boundary (what is unsettled was not sent),
 *   `c` cancelled before any worker took it;
 * - `…:retries` list: the ids of the jobs retrying this one's failures, oldest first.
 *
 * Finished jobs expire after the retention (a retry's entry in `retries` with its parent). At the
 * finish, the selections, settled bitmaps and chunk states go at once, and so do the ids unless a
 * user failed: then they stay, with the failure bitmaps, for as long as the job, so that its
 * failures can be retried.
 */
export interface RedisJobStoreOptions {
  readonly keyPrefix: string;
  /** Failures whose details are kept per vendor (BULK_MAX_FAILURES_KEPT). */
  readonly maxFailuresKept: number;
  /** Seconds a finished job stays readable (BULK_JOB_RETENTION_SECONDS). */
  readonly retentionSeconds: number;
}

/** One user's outcome to record: its index in the job, and succeeded, failed (with the failure) or cancelled. */
export type SettledUser =
  | { readonly index: number; readonly kind: "succeeded" }
  | { readonly index: number; readonly kind: "cancelled" }
  | { readonly index: number; readonly kind: "failed"; readonly failure: BulkFailure };

/** What a worker may do with a chunk it picked up. */
export type ChunkClaim =
  /** Run it; `rerun`: it was taken before by a worker that died, so users it did not settle may have been sent. */
  | { readonly kind: "run"; readonly rerun: boolean; readonly cancelRequested: boolean }
  /** Nothing to do: the job finished, or the chunk was cancelled before anyone took it. */
  | { readonly kind: "skip" };

/** What recording did: users newly counted (a user already counted is not counted again), and the job's status if it just finished. */
export interface RecordResult {
  readonly counted: number;
  readonly finished?: JobStatus;
}

type Commands = {
  bulkRecord(...args: Array<string | number>): Promise<[number, string | null]>;
  bulkClaim(...args: Array<string | number>): Promise<string>;
  bulkCancel(...args: Array<string | number>): Promise<[number, string | null]>;
  bulkLinkRetry(...args: Array<string | number>): Promise<number>;
};

/**
 * Shared by the scripts that may settle a job's last users: the status, set once, and the clean-up.
 * A vendor's `total` is its own (a retry's selection) or the job's. `retained` keys expire with the
 * job; `idsKeys` too when a user failed (a retry needs them), else they go with `transient` at once.
 */
const FINISH_IF_COMPLETE = `
local function finish_if_complete(job, vendorKeys, retained, idsKeys, transient, now, retention)
  local status = redis.call('HGET', job, 'status')
  if status ~= 'QUEUED' and status ~= 'RUNNING' then return nil end
  local total = tonumber(redis.call('HGET', job, 'total'))
  local succeeded, failed, cancelled = 0, 0, 0
  for _, key in ipairs(vendorKeys) do
    local c = redis.call('HMGET', key, 'succeeded', 'failed', 'cancelled', 'total')
    local s, f, x = tonumber(c[1] or 0), tonumber(c[2] or 0), tonumber(c[3] or 0)
    if s + f + x < (tonumber(c[4]) or total) then return nil end
    succeeded, failed, cancelled = succeeded + s, failed + f, cancelled + x
  end
  local final
  if redis.call('HGET', job, 'cancelRequested') == '1' or cancelled > 0 then final = 'CANCELLED'
  elseif failed == 0 then final = 'SUCCEEDED'
  elseif succeeded == 0 then final = 'FAILED'
  else final = 'PARTIALLY_FAILED' end
  redis.call('HSET', job, 'status', final, 'finishedAt', now)
  if redis.call('HEXISTS', job, 'startedAt') == 0 then redis.call('HSET', job, 'startedAt', now) end
  for _, key in ipairs(transient) do redis.call('DEL', key) end
  redis.call('EXPIRE', job, retention)
  for _, key in ipairs(vendorKeys) do redis.call('EXPIRE', key, retention) end
  for _, key in ipairs(retained) do redis.call('EXPIRE', key, retention) end
  for _, key in ipairs(idsKeys) do
    if failed > 0 then redis.call('EXPIRE', key, retention) else redis.call('DEL', key) end
  end
  return final
end
`;

/** Reads the key groups every finishing script passes after its own keys (see RedisJobStore.finishKeys). */
const FINISH_KEYS = `
local function finish_keys(first, vendorCount, retainedCount, transientCount)
  local vendorKeys, retained, idsKeys, transient = {}, {}, {}, {}
  local at = first
  for i = 1, vendorCount do vendorKeys[i] = KEYS[at]; at = at + 1 end
  for i = 1, retainedCount do retained[i] = KEYS[at]; at = at + 1 end
  for i = 1, 2 do idsKeys[i] = KEYS[at]; at = at + 1 end
  for i = 1, transientCount do transient[i] = KEYS[at]; at = at + 1 end
  return vendorKeys, retained, idsKeys, transient
end
`;

/**
 * KEYS: job, vendor counters, vendor failures, vendor done-bitmap, vendor retryable-failures bitmap,
 * then the vendor's failure bitmap of each category in this batch (categoryCount), then the finish
 * keys (see finishKeys).
 * ARGV: categoryCount, vendorCount, retainedCount, transientCount, cap, now, retention, n, then
 * n × (index, kind, category, category bitmap position 1…categoryCount (0: none), retryable 1/0, json).
 */
const RECORD = `${FINISH_IF_COMPLETE}${FINISH_KEYS}
local categoryCount, vendorCount, retainedCount, transientCount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cap, now, retention, n = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local counted = 0
-- Counters are added once per field for the batch, not once per user.
local increments, fields = {}, {}
local function count(field)
  if not increments[field] then increments[field] = 0; fields[#fields + 1] = field end
  increments[field] = increments[field] + 1
end
for i = 0, n - 1 do
  local at = 9 + i * 6
  local index, kind, category, position, retryable, json = tonumber(ARGV[at]), ARGV[at + 1], ARGV[at + 2], tonumber(ARGV[at + 3]), ARGV[at + 4], ARGV[at + 5]
  if redis.call('SETBIT', KEYS[4], index, 1) == 0 then
    counted = counted + 1
    count(kind)
    if kind == 'failed' then
      count('failed:' .. category)
      if redis.call('LLEN', KEYS[3]) < cap then redis.call('RPUSH', KEYS[3], json) end
      redis.call('SETBIT', KEYS[5 + position], index, 1)
      if retryable == '1' then redis.call('SETBIT', KEYS[5], index, 1) end
    end
  end
end
for _, field in ipairs(fields) do redis.call('HINCRBY', KEYS[2], field, increments[field]) end
local vendorKeys, retained, idsKeys, transient = finish_keys(6 + categoryCount, vendorCount, retainedCount, transientCount)
return { counted, finish_if_complete(KEYS[1], vendorKeys, retained, idsKeys, transient, now, retention) }
`;

/** KEYS: job, chunk hash. ARGV: chunk index, now. */
const CLAIM = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'QUEUED' and status ~= 'RUNNING' then return 'skip' end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if state == 'c' then return 'skip' end
local cancel = redis.call('HGET', KEYS[1], 'cancelRequested') == '1'
redis.call('HSET', KEYS[2], ARGV[1], 'w')
if status == 'QUEUED' then redis.call('HSET', KEYS[1], 'status', 'RUNNING', 'startedAt', ARGV[2]) end
return (state == 'w' and 'rerun' or 'run') .. (cancel and ':cancel' or '')
`;

/**
 * Cancels a job: the first reason stays; every chunk no worker holds is settled here, a chunk never
 * taken as a whole (its users count as cancelled: none was sent), a released one user by user. In
 * a retry, only the vendor's selected users count.
 * KEYS: job, then per vendor (counters, done-bitmap, chunk hash, selection), then the finish keys.
 * ARGV: vendorCount, retainedCount, transientCount, reason, userCancel (1/0), now, retention, then
 * per vendor its chunk size.
 */
const CANCEL = `${FINISH_IF_COMPLETE}${FINISH_KEYS}
local vendorCount, retainedCount, transientCount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local job = KEYS[1]
local status = redis.call('HGET', job, 'status')
if not status then return { 0, nil } end
if status ~= 'QUEUED' and status ~= 'RUNNING' then return { 1, status } end
redis.call('HSETNX', job, 'cancelReason', ARGV[4])
if ARGV[5] == '1' then redis.call('HSET', job, 'cancelRequested', '1') end
local total = tonumber(redis.call('HGET', job, 'total'))
local selected = redis.call('HGET', job, 'selected') == '1'
for v = 0, vendorCount - 1 do
  local counters, done, chunks, selection = KEYS[2 + v * 4], KEYS[3 + v * 4], KEYS[4 + v * 4], KEYS[5 + v * 4]
  local size = tonumber(ARGV[8 + v])
  local cancelled = 0
  for c = 0, math.ceil(total / size) - 1 do
    local state = redis.call('HGET', chunks, c)
    local first, last = c * size, math.min(total, (c + 1) * size) - 1
    if not state then
      redis.call('HSET', chunks, c, 'c')
      if selected then cancelled = cancelled + redis.call('BITCOUNT', selection, first, last, 'BIT')
      else cancelled = cancelled + (last - first + 1) end
    elseif state == 'r' then
      redis.call('HSET', chunks, c, 'c')
      for i = first, last do
        if (not selected or redis.call('GETBIT', selection, i) == 1) and redis.call('SETBIT', done, i, 1) == 0 then
          cancelled = cancelled + 1
        end
      end
    end
  end
  if cancelled > 0 then redis.call('HINCRBY', counters, 'cancelled', cancelled) end
end
local vendorKeys, retained, idsKeys, transient = finish_keys(2 + vendorCount * 4, vendorCount, retainedCount, transientCount)
return { 1, finish_if_complete(job, vendorKeys, retained, idsKeys, transient, ARGV[6], tonumber(ARGV[7])) }
`;

/**
 * Lists a retry on its parent, for as long as the parent is kept. KEYS: parent job, parent retries.
 * ARGV: the retry's id. 0 when the parent is gone.
 */
const LINK_RETRY = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;

export class RedisJobStore {
  private readonly redis: Redis & Commands;

  constructor(
    redis: Redis,
    private readonly options: RedisJobStoreOptions,
  ) {
    redis.defineCommand("bulkRecord", { lua: RECORD });
    redis.defineCommand("bulkClaim", { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand("bulkCancel", { lua: CANCEL });
    redis.defineCommand("bulkLinkRetry", { numberOfKeys: 2, lua: LINK_RETRY });
    this.redis = redis as Redis & Commands;
  }

  /**
   * Stores a new job QUEUED, with its ids and each vendor's chunk size; a retry with each vendor's
   * selection, and listed on its parent.
   */
  async create(job: NewBulkJob, chunkSizes: Readonly<Record<string, number>>): Promise<BulkJobSnapshot> {
    const id = randomUUID();
    const createdAt = new Date();
    const { bytes, ends } = (job.userIds as PackedUserIds).parts();
    // Offsets are read back as little-endian uint32 by any worker, whatever this host's byte order.
    const endsBytes = Buffer.alloc(ends.length * 4);
    for (let i = 0; i < ends.length; i++) endsBytes.writeUInt32LE(ends[i]!, i * 4);
    // Listed first (its own key: another cluster slot than the job's), so that a job stored but never
    // queued, its submitter gone or Redis lost in between, is found and queued (see unqueued).
    await this.redis.zadd(this.unqueuedKey, createdAt.getTime(), id);
    const multi = this.redis.multi();
    multi.hset(this.key(id, "job"), {
      spec: JSON.stringify(job.spec),
      status: "QUEUED",
      createdAt: createdAt.toISOString(),
      total: String(job.userIds.length),
      duplicateUserIds: String(job.duplicateUserIds),
      chunkSizes: JSON.stringify(chunkSizes),
      ...(job.owner === undefined ? {} : { owner: job.owner }),
      ...(job.retryOf === undefined ? {} : { retryOf: job.retryOf }),
      ...(job.selections ? { selected: "1" } : {}),
    });
    multi.set(this.key(id, "ids"), bytes);
    multi.set(this.key(id, "ends"), endsBytes);
    for (const vendor of job.selections ? job.spec.vendors : []) {
      const selection = job.selections!.get(vendor);
      if (!selection) throw new Error(`a selection of users for ${vendor} is missing`);
      multi.set(this.key(id, `sel:${vendor}`), Buffer.from(selection.buffer, selection.byteOffset, selection.byteLength));
      multi.hset(this.key(id, `v:${vendor}`), "total", String(countBits(selection, 0, job.userIds.length)));
    }
    await multi.exec();
    if (job.retryOf !== undefined) {
      await this.redis.bulkLinkRetry(this.key(job.retryOf, "job"), this.key(job.retryOf, "retries"), id);
    }
    return (await this.get(id))!;
  }

  async get(id: string): Promise<BulkJobSnapshot | undefined> {
    const fields = await this.redis.hgetall(this.key(id, "job"));
    if (!fields.spec) return undefined;
    const spec = JSON.parse(fields.spec) as BulkJobSpec;
    const total = Number(fields.total);
    const pipeline = this.redis.pipeline();
    for (const vendor of spec.vendors) {
      pipeline.hgetall(this.key(id, `v:${vendor}`));
      pipeline.llen(this.key(id, `f:${vendor}`));
    }
    pipeline.lrange(this.key(id, "retries"), 0, -1);
    const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const progress = spec.vendors.map((vendor, index): VendorProgress => {
      const counters = replies[index * 2] as Record<string, string>;
      const failedByCategory: Partial<Record<FailureCategory, number>> = {};
      for (const category of FAILURE_CATEGORIES) {
        const count = Number(counters[`failed:${category}`] ?? 0);
        if (count > 0) failedByCategory[category] = count;
      }
      return {
        vendor,
        total: counters.total === undefined ? total : Number(counters.total),
        succeeded: Number(counters.succeeded ?? 0),
        failed: Number(counters.failed ?? 0),
        cancelled: Number(counters.cancelled ?? 0),
        failedByCategory,
        failuresKept: replies[index * 2 + 1] as number,
      };
    });
    return {
      id,
      spec,
      ...(fields.owner === undefined ? {} : { owner: fields.owner }),
      status: fields.status as JobStatus,
      createdAt: new Date(fields.createdAt!),
      ...(fields.startedAt ? { startedAt: new Date(fields.startedAt) } : {}),
      ...(fields.finishedAt ? { finishedAt: new Date(fields.finishedAt) } : {}),
      duplicateUserIds: Number(fields.duplicateUserIds),
      users: total,
      progress,
      cancelRequested: fields.cancelRequested === "1",
      ...(fields.cancelReason ? { cancelReason: fields.cancelReason as CancelReason } : {}),
      ...(fields.retryOf ? { retryOf: fields.retryOf } : {}),
      retries: replies.at(-1) as string[],
    };
  }

  /** The ids of users `start` up to `end` (exclusive), read from the packed copy: two range reads. */
  async userIdRange(id: string, start: number, end: number): Promise<string[]> {
    const from = start === 0 ? 0 : (start - 1) * 4;
    const ends = await this.redis.getrangeBuffer(this.key(id, "ends"), from, end * 4 - 1);
    const offsets = Array.from({ length: ends.length / 4 }, (_, i) => ends.readUInt32LE(i * 4));
    const firstByte = start === 0 ? 0 : offsets.shift()!;
    if (offsets.length === 0) return [];
    const bytes = await this.redis.getrangeBuffer(this.key(id, "ids"), firstByte, offsets.at(-1)! - 1);
    const ids: string[] = [];
    let at = 0;
    for (const endOffset of offsets) {
      ids.push(bytes.toString("utf8", at, endOffset - firstByte));
      at = endOffset - firstByte;
    }
    return ids;
  }

  /** Which of the indexes from `start` (count `length`) are already settled at the vendor. */
  async settled(id: string, vendor: string, start: number, length: number): Promise<boolean[]> {
    const pipeline = this.redis.pipeline();
    for (let i = start; i < start + length; i++) pipeline.getbit(this.key(id, `done:${vendor}`), i);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, value]) => {
      if (error) throw error;
      return value === 1;
    });
  }

  /** A retry: which of the indexes from `start` (count `length`) the vendor's selection holds; one range read. */
  async selected(id: string, vendor: string, start: number, length: number): Promise<boolean[]> {
    if (length <= 0) return [];
    const first = start >> 3;
    const bytes = await this.redis.getrangeBuffer(this.key(id, `sel:${vendor}`), first, (start + length - 1) >> 3);
    return Array.from({ length }, (_, i) => {
      const bit = start + i - first * 8;
      const byte = bit >> 3;
      return byte < bytes.length && (bytes[byte]! & (0x80 >> (bit & 7))) !== 0;
    });
  }

  /**
   * A finished job's failed users, for a retry: its packed ids and the failure bitmaps of the
   * vendors (and categories) `job`'s counts say had failures. Undefined when its ids are gone (the
   * job had no failure, or expired).
   */
  async failedUsers(job: BulkJobSnapshot): Promise<FailedUsers | undefined> {
    const failing = job.progress.filter((p) => p.failed > 0);
    if (failing.length === 0) return undefined;
    const pipeline = this.redis.pipeline();
    pipeline.getBuffer(this.key(job.id, "ids"));
    pipeline.getBuffer(this.key(job.id, "ends"));
    const reads: Array<{ vendor: string; category?: FailureCategory }> = [];
    for (const { vendor, failedByCategory } of failing) {
      reads.push({ vendor });
      pipeline.getBuffer(this.key(job.id, `fr:${vendor}`));
      for (const category of Object.keys(failedByCategory) as FailureCategory[]) {
        reads.push({ vendor, category });
        pipeline.getBuffer(this.key(job.id, `fb:${vendor}:${category}`));
      }
    }
    const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as Buffer | null;
    });
    const [bytes, ends] = replies;
    if (!bytes || !ends) return undefined;
    const vendors = new Map<string, { byCategory: Partial<Record<FailureCategory, Bitmap>>; retryable: Bitmap }>();
    reads.forEach(({ vendor, category }, i) => {
      const bits: Bitmap = replies[i + 2] ?? new Uint8Array(0);
      const users = vendors.get(vendor) ?? { byCategory: {}, retryable: new Uint8Array(0) };
      if (category) users.byCategory[category] = bits;
      else users.retryable = bits;
      vendors.set(vendor, users);
    });
    return { ids: PackedUserIds.fromStored(bytes, ends), vendors };
  }

  /** For each job, whether a cancel was asked for it (or it is over): one round trip for all of them. */
  async cancelled(ids: readonly string[]): Promise<boolean[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.key(id, "job"), "cancelRequested", "status");
    return ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      const [cancelRequested, status] = value as [string | null, string | null];
      return cancelRequested === "1" || status === null || isFinished(status as JobStatus);
    });
  }

  /** Every chunk of the job is on the queue: it no longer needs the unqueued list. */
  async markQueued(id: string): Promise<void> {
    await this.redis.zrem(this.unqueuedKey, id);
  }

  /** Jobs listed as not yet queued since before `before` (epoch ms), oldest first. */
  async unqueued(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.unqueuedKey, "-inf", before, "LIMIT", 0, limit);
  }

  /** What a job's chunk units are cut from: each vendor's chunk size, and whether it is a retry of selected users. */
  async chunkPlan(id: string): Promise<{ chunkSizes: Record<string, number>; selected: boolean } | undefined> {
    const [chunkSizes, selected] = await this.redis.hmget(this.key(id, "job"), "chunkSizes", "selected");
    if (!chunkSizes) return undefined;
    return { chunkSizes: JSON.parse(chunkSizes) as Record<string, number>, selected: selected === "1" };
  }

  /** Takes a chunk for this worker (see ChunkClaim); the first chunk taken makes the job RUNNING. */
  async claim(id: string, vendor: string, chunk: number): Promise<ChunkClaim> {
    const reply = await this.redis.bulkClaim(this.key(id, "job"), this.key(id, `chunks:${vendor}`), chunk, new Date().toISOString());
    if (reply === "skip") return { kind: "skip" };
    const [mode, cancel] = reply.split(":");
    return { kind: "run", rerun: mode === "rerun", cancelRequested: cancel === "cancel" };
  }

  /** A worker stopping at a chunk boundary gives the chunk back: its unsettled users were not sent. */
  async release(id: string, vendor: string, chunk: number): Promise<void> {
    await this.redis.hset(this.key(id, `chunks:${vendor}`), String(chunk), "r");
  }

  /** Records users' outcomes, each user once whatever runs its chunk again; finishes the job when its last user is settled. */
  async record(id: string, vendor: string, users: readonly SettledUser[]): Promise<RecordResult> {
    const job = await this.redis.hget(this.key(id, "job"), "spec");
    if (!job) return { counted: 0 };
    const vendors = (JSON.parse(job) as BulkJobSpec).vendors;
    const categories = [...new Set(users.flatMap((u) => (u.kind === "failed" ? [u.failure.failure.category] : [])))];
    const finish = this.finishKeys(id, vendors);
    const keys = [
      this.key(id, "job"),
      this.key(id, `v:${vendor}`),
      this.key(id, `f:${vendor}`),
      this.key(id, `done:${vendor}`),
      this.key(id, `fr:${vendor}`),
      ...categories.map((category) => this.key(id, `fb:${vendor}:${category}`)),
      ...finish.keys,
    ];
    const args: Array<string | number> = [
      categories.length,
      vendors.length,
      finish.retained,
      finish.transient,
      this.options.maxFailuresKept,
      new Date().toISOString(),
      this.options.retentionSeconds,
      users.length,
    ];
    for (const user of users) {
      if (user.kind === "failed") {
        const failure = user.failure.failure;
        args.push(
          user.index,
          user.kind,
          failure.category,
          categories.indexOf(failure.category) + 1,
          failure.retryable ? 1 : 0,
          JSON.stringify(user.failure),
        );
      } else args.push(user.index, user.kind, "", 0, 0, "");
    }
    const [counted, finished] = await this.redis.bulkRecord(keys.length, ...keys, ...args);
    return { counted, ...(finished ? { finished: finished as JobStatus } : {}) };
  }

  /**
   * Asks a job to stop (the first reason stays) and settles at once every chunk no worker holds, so
   * a cancelled job finishes as soon as the chunks in flight do. False for an unknown job.
   */
  async requestCancel(id: string, reason: CancelReason): Promise<{ known: boolean; finished?: JobStatus }> {
    const spec = await this.redis.hget(this.key(id, "job"), "spec");
    if (!spec) return { known: false };
    const vendors = (JSON.parse(spec) as BulkJobSpec).vendors;
    const sizes = JSON.parse((await this.redis.hget(this.key(id, "job"), "chunkSizes")) ?? "{}") as Record<string, number>;
    const finish = this.finishKeys(id, vendors);
    const keys = [
      this.key(id, "job"),
      ...vendors.flatMap((v) => [this.key(id, `v:${v}`), this.key(id, `done:${v}`), this.key(id, `chunks:${v}`), this.key(id, `sel:${v}`)]),
      ...finish.keys,
    ];
    const [known, status] = await this.redis.bulkCancel(
      keys.length,
      ...keys,
      vendors.length,
      finish.retained,
      finish.transient,
      reason,
      reason === "CANCEL_REQUESTED" ? 1 : 0,
      new Date().toISOString(),
      this.options.retentionSeconds,
      ...vendors.map((v) => sizes[v] ?? 1),
    );
    return { known: known === 1, ...(status ? { finished: status as JobStatus } : {}) };
  }

  async failures(id: string, vendor: string, range: { offset: number; limit: number }): Promise<BulkFailure[]> {
    const offset = Math.max(0, range.offset);
    const limit = Math.max(0, range.limit);
    if (limit === 0) return [];
    const items = await this.redis.lrange(this.key(id, `f:${vendor}`), offset, offset + limit - 1);
    return items.map((item) => JSON.parse(item) as BulkFailure);
  }

  /** Bytes Redis uses for one job's keys (MEMORY USAGE), for the memory benchmark. */
  async memoryUsage(id: string, vendors: readonly string[]): Promise<number> {
    const keys = [this.key(id, "job"), this.key(id, "retries"), ...this.finishKeys(id, vendors).keys];
    let bytes = 0;
    for (const key of keys) bytes += Number((await this.redis.call("MEMORY", "USAGE", key)) ?? 0);
    return bytes;
  }

  /**
   * The keys a script that may finish the job passes last, in groups (see FINISH_KEYS): every
   * vendor's counters, the keys kept for the retention (failure lists and bitmaps), the ids (kept
   * only when a user failed), and the transient ones (selections, settled bitmaps, chunk states).
   */
  private finishKeys(id: string, vendors: readonly string[]): { keys: string[]; retained: number; transient: number } {
    const retained = vendors.flatMap((v) => [
      this.key(id, `f:${v}`),
      this.key(id, `fr:${v}`),
      ...FAILURE_CATEGORIES.map((category) => this.key(id, `fb:${v}:${category}`)),
    ]);
    const transient = vendors.flatMap((v) => [this.key(id, `done:${v}`), this.key(id, `chunks:${v}`), this.key(id, `sel:${v}`)]);
    return {
      keys: [...vendors.map((v) => this.key(id, `v:${v}`)), ...retained, this.key(id, "ids"), this.key(id, "ends"), ...transient],
      retained: retained.length,
      transient: transient.length,
    };
  }

  private get unqueuedKey(): string {
    return `${this.options.keyPrefix}:bulk:unqueued`;
  }

  private key(id: string, part: string): string {
    return `${this.options.keyPrefix}:bulk:{${id}}:${part}`;
  }
}
