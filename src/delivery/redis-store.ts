import type { Redis } from "ioredis";
import { decodeRecord, encodeRecord } from "./codec.js";
import { laneKey, type DeliveryStore, type VendorQueueStats } from "./store.js";
import type { DeliveryRecord, Lane } from "./types.js";

export interface RedisDeliveryStoreOptions {
  readonly keyPrefix: string;
  /**
   * How long a queued record is kept at most, its retry window plus the retention: a lane whose
   * every worker vanished for good does not keep its records forever.
   */
  readonly queuedTtlMs: number;
}

/**
 * Shared mode's queued deliveries, in Redis (`<prefix>:delivery:…`):
 *
 * - `lane:<vendor>:<user digest>` list: the lane's delivery ids, oldest first;
 * - `r:<id>` string: a record (codec.ts JSON), expiring after the retention once settled;
 * - `due` sorted set: each non-empty lane by its head's next attempt (recovery sweeps);
 * - `oldest:<vendor>` sorted set: each non-empty lane by its head's creation (the oldest-age metric);
 * - `depth` hash: deliveries queued per vendor (the depth metric and DELIVERY_MAX_QUEUED).
 *
 * Every change is one Lua script, so a lane, its indexes and the counts never disagree.
 */
export class RedisDeliveryStore implements DeliveryStore {
  readonly durable = true;
  private readonly redis: Redis & Scripts;
  private readonly base: string;

  constructor(
    redis: Redis,
    private readonly options: RedisDeliveryStoreOptions,
  ) {
    redis.defineCommand("deliveryAppend", { numberOfKeys: 5, lua: APPEND });
    redis.defineCommand("deliveryUpdate", { numberOfKeys: 3, lua: UPDATE });
    redis.defineCommand("deliverySettle", { numberOfKeys: 4, lua: SETTLE });
    this.redis = redis as Redis & Scripts;
    this.base = `${options.keyPrefix}:delivery`;
  }

  depth(lane: Lane): Promise<number> {
    return this.redis.llen(this.laneList(lane));
  }

  async append(record: DeliveryRecord, maxQueued: number): Promise<"appended" | "full"> {
    const appended = await this.redis.deliveryAppend(
      this.laneList(record),
      this.recordKey(record.id),
      `${this.base}:due`,
      `${this.base}:oldest:${record.vendor}`,
      `${this.base}:depth`,
      record.id,
      encodeRecord(record),
      record.vendor,
      laneKey(record),
      maxQueued,
      record.nextAttemptAt,
      record.createdAt,
      this.options.queuedTtlMs,
    );
    return appended === 1 ? "appended" : "full";
  }

  head(lane: Lane): Promise<DeliveryRecord | undefined> {
    return this.headOf(laneKey(lane), lane.vendor);
  }

  tail(lane: Lane): Promise<string | undefined> {
    return this.redis.lindex(this.laneList(lane), -1).then((id) => id ?? undefined);
  }

  async update(record: DeliveryRecord): Promise<void> {
    await this.redis.deliveryUpdate(
      this.recordKey(record.id),
      this.laneList(record),
      `${this.base}:due`,
      record.id,
      encodeRecord(record),
      laneKey(record),
      record.nextAttemptAt,
      this.options.queuedTtlMs,
    );
  }

  async settle(record: DeliveryRecord, retentionMs: number): Promise<void> {
    await this.redis.deliverySettle(
      ...this.settleKeys(this.laneList(record), record.vendor),
      record.id,
      encodeRecord(record),
      record.vendor,
      laneKey(record),
      Math.max(1, Math.round(retentionMs)),
      `${this.base}:r:`,
    );
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const text = await this.redis.get(this.recordKey(id));
    return text === null ? undefined : decodeRecord(text);
  }

  async stats(): Promise<VendorQueueStats[]> {
    const depths = await this.redis.hgetall(`${this.base}:depth`);
    const vendors = Object.entries(depths)
      .map(([vendor, depth]) => ({ vendor, depth: Number(depth) }))
      .filter((entry) => entry.depth > 0);
    const pipeline = this.redis.pipeline();
    for (const { vendor } of vendors) pipeline.zrange(`${this.base}:oldest:${vendor}`, 0, 0, "WITHSCORES");
    const oldest = (await pipeline.exec()) ?? [];
    return vendors.map((entry, index) => {
      const [error, pair] = oldest[index] ?? [];
      const score = !error && Array.isArray(pair) && pair.length === 2 ? Number(pair[1]) : undefined;
      return score === undefined ? entry : { ...entry, oldestCreatedAt: score };
    });
  }

  async dueLanes(before: number, limit: number): Promise<Lane[]> {
    const keys = await this.redis.zrangebyscore(`${this.base}:due`, "-inf", before, "LIMIT", 0, limit);
    const lanes: Lane[] = [];
    for (const key of keys) {
      // The lane's name is `<vendor>:<user digest>`, and a digest has no ":".
      const vendor = key.slice(0, key.lastIndexOf(":"));
      const head = await this.headOf(key, vendor);
      if (head && head.nextAttemptAt <= before) lanes.push({ vendor: head.vendor, userId: head.userId });
      // A lane left in the indexes without a record: dropped from them (re-indexed instead, atomically, if one just came).
      else if (!head)
        await this.redis.deliverySettle(...this.settleKeys(`${this.base}:lane:${key}`, vendor), "", "", vendor, key, 0, `${this.base}:r:`);
    }
    return lanes;
  }

  /**
   * The first record of the lane named `key`. Ids whose record expired (a lane no worker served for
   * longer than its window and retention) are dropped on the way, and the lane re-indexed by the
   * record after them, or forgotten when none is left: otherwise the sweep would see such a lane
   * as due forever without ever finding its user, and never work the deliveries queued behind.
   */
  private async headOf(key: string, vendor: string): Promise<DeliveryRecord | undefined> {
    const list = `${this.base}:lane:${key}`;
    for (;;) {
      const id = await this.redis.lindex(list, 0);
      if (id === null) return undefined;
      const text = await this.redis.get(this.recordKey(id));
      if (text !== null) return decodeRecord(text);
      await this.redis.deliverySettle(...this.settleKeys(list, vendor), id, "", vendor, key, 0, `${this.base}:r:`);
    }
  }

  private settleKeys(list: string, vendor: string): [string, string, string, string] {
    return [list, `${this.base}:due`, `${this.base}:oldest:${vendor}`, `${this.base}:depth`];
  }

  private laneList(lane: Lane): string {
    return `${this.base}:lane:${laneKey(lane)}`;
  }

  private recordKey(id: string): string {
    return `${this.base}:r:${id}`;
  }
}

type Scripts = {
  deliveryAppend(...args: Array<string | number>): Promise<number>;
  deliveryUpdate(...args: Array<string | number>): Promise<number>;
  deliverySettle(...args: Array<string | number>): Promise<number>;
};

/**
 * KEYS: lane, record, due, oldest, depth.
 * ARGV: id, json, vendor, laneKey, maxQueued, nextAttemptAt, createdAt, ttlMs.
 */
const APPEND = `
local total = 0
for _, count in ipairs(redis.call('HVALS', KEYS[5])) do total = total + tonumber(count) end
if total >= tonumber(ARGV[5]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[8])
local length = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
if length == 1 then
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[4])
  redis.call('ZADD', KEYS[4], ARGV[7], ARGV[4])
end
return 1
`;

/**
 * KEYS: record, lane, due. ARGV: id, json, laneKey, nextAttemptAt, ttlMs.
 * A queued record's new state; when it heads its lane, the lane's due time follows it.
 */
const UPDATE = `
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
if redis.call('LINDEX', KEYS[2], 0) == ARGV[1] then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3]) end
return 1
`;

/**
 * KEYS: lane, due, oldest, depth.
 * ARGV: id, json ('' to only drop the id), vendor, laneKey, retentionMs, record key prefix.
 * Saves the final record, takes its id out of the lane, and re-indexes the lane by its new head
 * (dropping ids whose record expired), or takes it out of the indexes when it is empty.
 */
const SETTLE = `
if ARGV[2] ~= '' then redis.call('SET', ARGV[6] .. ARGV[1], ARGV[2], 'PX', ARGV[5]) end
local removed = redis.call('LREM', KEYS[1], 0, ARGV[1])
if removed > 0 then redis.call('HINCRBY', KEYS[4], ARGV[3], -removed) end
local head = redis.call('LINDEX', KEYS[1], 0)
while head do
  local text = redis.call('GET', ARGV[6] .. head)
  if text then
    local record = cjson.decode(text)
    redis.call('ZADD', KEYS[2], record.nextAttemptAt, ARGV[4])
    redis.call('ZADD', KEYS[3], record.createdAt, ARGV[4])
    return 1
  end
  redis.call('LPOP', KEYS[1])
  redis.call('HINCRBY', KEYS[4], ARGV[3], -1)
  head = redis.call('LINDEX', KEYS[1], 0)
end
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[4])
return 1
`;
