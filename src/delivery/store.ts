import { hash } from "node:crypto";
import { decodeRecord, encodeRecord } from "./codec.js";
import type { DeliveryRecord, Lane } from "./types.js";

/** One vendor's queue, as metrics and Query.attributeVendors show it. */
export interface VendorQueueStats {
  readonly vendor: string;
  readonly depth: number;
  /** Epoch ms of the oldest queued delivery's creation, when any is queued. */
  readonly oldestCreatedAt?: number;
}

/**
 * Where queued deliveries live: lanes (one FIFO of delivery ids per vendor and user) and the
 * records. In this process (InMemoryDeliveryStore, lost on restart) or in Redis
 * (RedisDeliveryStore, shared by every replica and worker).
 *
 * Lane changes are made only by a holder of the lane's lock (DeliveryEngine takes it), so a store
 * needs no compare-and-set of its own; each change is still atomic, so a process that dies between
 * two leaves no lane and index that disagree.
 */
export interface DeliveryStore {
  /** Whether a queued delivery survives a restart of every process (false: this process's memory). */
  readonly durable: boolean;
  /** Deliveries queued in the lane. */
  depth(lane: Lane): Promise<number>;
  /** Queues a new record at the lane's tail; "full" (nothing stored) when `maxQueued` are queued already. */
  append(record: DeliveryRecord, maxQueued: number): Promise<"appended" | "full">;
  /** The lane's first record: the one to attempt next. */
  head(lane: Lane): Promise<DeliveryRecord | undefined>;
  /** The delivery a new record of this lane would wait behind: its last one. */
  tail(lane: Lane): Promise<string | undefined>;
  /** Saves a queued record that stays in its lane (an attempt started, or failed and was rescheduled). */
  update(record: DeliveryRecord): Promise<void>;
  /** Saves a record's final state and takes it out of its lane, wherever it stands; kept for `retentionMs`. */
  settle(record: DeliveryRecord, retentionMs: number): Promise<void>;
  get(id: string): Promise<DeliveryRecord | undefined>;
  /** Every vendor with deliveries queued. */
  stats(): Promise<VendorQueueStats[]>;
  /** Lanes whose head is due by `before` (epoch ms), oldest due first: a recovery sweep's work. */
  dueLanes(before: number, limit: number): Promise<Lane[]>;
}

/** A lane's name in keys and locks: the vendor and a digest of the user id (ids may be 1,000 characters). */
export function laneKey(lane: Lane): string {
  // Every update computes it: crypto.hash is one call, half createHash's cost.
  return `${lane.vendor}:${hash("sha256", lane.userId, "base64url")}`;
}

interface MemoryLane {
  readonly lane: Lane;
  readonly ids: string[];
}

/**
 * The embedded mode's store: lanes and records in this process. Records are kept as JSON text (as
 * in Redis), so that a record read is never the object a caller changes. Settled records are
 * forgotten after the retention, or sooner when more than `maxSettled` are kept (oldest first).
 */
export class InMemoryDeliveryStore implements DeliveryStore {
  readonly durable = false;
  private readonly records = new Map<string, string>();
  private readonly lanes = new Map<string, MemoryLane>();
  /** Settled ids in settling order, with when each is forgotten. */
  private readonly settled = new Map<string, number>();
  private queued = 0;

  constructor(
    private readonly maxSettled = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  depth(lane: Lane): Promise<number> {
    return Promise.resolve(this.lanes.get(laneKey(lane))?.ids.length ?? 0);
  }

  append(record: DeliveryRecord, maxQueued: number): Promise<"appended" | "full"> {
    if (this.queued >= maxQueued) return Promise.resolve("full");
    const key = laneKey(record);
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { lane: { vendor: record.vendor, userId: record.userId }, ids: [] }));
    lane.ids.push(record.id);
    this.records.set(record.id, encodeRecord(record));
    this.queued++;
    return Promise.resolve("appended");
  }

  head(lane: Lane): Promise<DeliveryRecord | undefined> {
    const id = this.lanes.get(laneKey(lane))?.ids[0];
    return this.get(id);
  }

  tail(lane: Lane): Promise<string | undefined> {
    return Promise.resolve(this.lanes.get(laneKey(lane))?.ids.at(-1));
  }

  update(record: DeliveryRecord): Promise<void> {
    this.records.set(record.id, encodeRecord(record));
    return Promise.resolve();
  }

  settle(record: DeliveryRecord, retentionMs: number): Promise<void> {
    const key = laneKey(record);
    const lane = this.lanes.get(key);
    const index = lane?.ids.indexOf(record.id) ?? -1;
    if (lane && index >= 0) {
      lane.ids.splice(index, 1);
      this.queued--;
      if (lane.ids.length === 0) this.lanes.delete(key);
    }
    this.records.set(record.id, encodeRecord(record));
    this.settled.delete(record.id);
    this.settled.set(record.id, this.now() + retentionMs);
    this.forgetSettled();
    return Promise.resolve();
  }

  get(id: string | undefined): Promise<DeliveryRecord | undefined> {
    this.forgetSettled();
    const text = id === undefined ? undefined : this.records.get(id);
    return Promise.resolve(text === undefined ? undefined : decodeRecord(text));
  }

  stats(): Promise<VendorQueueStats[]> {
    const byVendor = new Map<string, { depth: number; oldestCreatedAt?: number }>();
    for (const { lane, ids } of this.lanes.values()) {
      const entry = byVendor.get(lane.vendor) ?? { depth: 0 };
      entry.depth += ids.length;
      const head = this.records.get(ids[0]!);
      const createdAt = head === undefined ? undefined : decodeRecord(head).createdAt;
      if (createdAt !== undefined && (entry.oldestCreatedAt === undefined || createdAt < entry.oldestCreatedAt)) {
        entry.oldestCreatedAt = createdAt;
      }
      byVendor.set(lane.vendor, entry);
    }
    return Promise.resolve([...byVendor].map(([vendor, entry]) => ({ vendor, ...entry })));
  }

  async dueLanes(before: number, limit: number): Promise<Lane[]> {
    const due: Array<{ lane: Lane; at: number }> = [];
    for (const { lane } of this.lanes.values()) {
      const head = await this.head(lane);
      if (head && head.nextAttemptAt <= before) due.push({ lane, at: head.nextAttemptAt });
    }
    return due
      .sort((a, b) => a.at - b.at)
      .slice(0, limit)
      .map((d) => d.lane);
  }

  /** Settled records past their retention, and the oldest beyond `maxSettled`. */
  private forgetSettled(): void {
    const now = this.now();
    for (const [id, until] of this.settled) {
      if (until > now && this.settled.size <= this.maxSettled) break;
      this.settled.delete(id);
      this.records.delete(id);
    }
  }
}
