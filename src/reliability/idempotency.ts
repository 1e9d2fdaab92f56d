import { hash } from "node:crypto";

export type IdempotencyBegin<T> =
  /**
   * Nobody holds this key now: run the call, then `complete` (or `abandon` if it crashed).
   * `previous` is the stored result being resent in part (see `replay.retake`), if any.
   */
  | { readonly kind: "first"; readonly previous?: T; complete(result: T): Promise<void>; abandon(): Promise<void> }
  /**
   * The same key and input ran (or is running): its result, without sending anything. `retake`
   * claims a settled result to send part of it again (for outcomes that certainly were not
   * applied); it answers "first" to exactly one caller, and to the others the newer run's replay.
   */
  | { readonly kind: "replay"; readonly result: Promise<T>; retake(): Promise<IdempotencyBegin<T>> }
  /** The same key was used with a different input. */
  | { readonly kind: "conflict" }
  /**
   * The store holds as many live keys as it may, and none expires sooner: a new key is refused
   * rather than an old one forgotten inside its window (forgetting it would let its retry apply twice).
   */
  | { readonly kind: "full"; readonly retryAfterSeconds: number }
  /**
   * Shared stores only: the in-memory store never answers it (its duplicates wait on the first
   * call's own promise, and a process that dies takes its keys with it). The same key and input is
   * held by a call elsewhere, and either that call did not finish within the store's wait
   * (`holderLost: false`: ask again later for its outcome), or it stopped renewing its lease without
   * recording an outcome (`holderLost: true`: its replica was killed or cut off from the store).
   * Then what it sent is unknown, so nothing is sent again under this key: the answer stays until
   * the key's window ends (`retryAfterSeconds`), unless that call still records its outcome.
   */
  | { readonly kind: "in-progress"; readonly holderLost: boolean; readonly retryAfterSeconds: number };

/**
 * Remembers results by idempotency key for a window that starts at the key's first use. The
 * in-memory store serves one process; a shared store (RedisIdempotencyStore) serves several
 * replicas with the same semantics. Results must be plain JSON-serializable data.
 */
export interface IdempotencyStore<T> {
  begin(key: string, fingerprint: string): Promise<IdempotencyBegin<T>>;
}

interface Entry<T> {
  readonly fingerprint: string;
  readonly expiresAt: number;
  /** Bumped by every retake, so that only one of several concurrent repeats resends. */
  version: number;
  /**
   * In flight: the promise its duplicates wait on. Settled: the result as JSON text, a third of
   * the heap of the object graph and its promise (bench:idempotency), parsed again on a replay.
   */
  state: { readonly pending: Promise<T> } | { readonly json: string };
}

/**
 * Keys in process memory, forgotten only when their window ends (they are kept in first-use order,
 * which is expiry order, so forgetting is O(1) per key). At `maxKeys` live keys a new key is refused.
 * It never answers "in-progress": a duplicate gets a replay whose `result` is the running call's own
 * promise, however long that call takes.
 */
export class InMemoryIdempotencyStore<T> implements IdempotencyStore<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Live keys (expired ones are dropped on the next call). */
  get size(): number {
    return this.entries.size;
  }

  begin(key: string, fingerprint: string): Promise<IdempotencyBegin<T>> {
    const now = this.now();
    this.expire(now);
    const existing = this.entries.get(key);
    if (existing) {
      return Promise.resolve(existing.fingerprint === fingerprint ? this.replay(key, existing) : { kind: "conflict" });
    }
    if (this.entries.size >= this.maxKeys) {
      const oldest = this.entries.values().next().value as Entry<T>;
      return Promise.resolve({ kind: "full", retryAfterSeconds: Math.max(1, Math.ceil((oldest.expiresAt - now) / 1000)) });
    }
    const entry: Entry<T> = { fingerprint, expiresAt: now + this.windowMs, version: 0, state: { json: "null" } };
    this.entries.set(key, entry);
    return Promise.resolve(this.claim(key, entry, undefined));
  }

  private replay(key: string, entry: Entry<T>): IdempotencyBegin<T> {
    const version = entry.version;
    return {
      kind: "replay",
      result: resultOf(entry),
      retake: () => {
        const current = this.entries.get(key);
        if (current !== entry) return this.begin(key, entry.fingerprint); // expired or abandoned meanwhile
        if (entry.version !== version || "pending" in entry.state) return Promise.resolve(this.replay(key, entry));
        return Promise.resolve(this.claim(key, entry, JSON.parse(entry.state.json) as T));
      },
    };
  }

  /** Makes `entry` in flight again for the caller, who completes or abandons it. */
  private claim(key: string, entry: Entry<T>, previous: T | undefined): IdempotencyBegin<T> {
    entry.version++;
    const before = entry.state;
    let settle!: { resolve: (value: T) => void; reject: (error: Error) => void };
    const pending = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
    pending.catch(() => undefined); // waiters handle it; an abandoned call is not an unhandled rejection
    entry.state = { pending };
    return {
      kind: "first",
      ...(previous === undefined ? {} : { previous }),
      complete: (value: T) => {
        entry.state = { json: JSON.stringify(value) };
        settle.resolve(value);
        return Promise.resolve();
      },
      abandon: () => {
        if (previous === undefined) {
          if (this.entries.get(key) === entry) this.entries.delete(key);
          settle.reject(new Error("the first call with this idempotency key failed; send it again"));
        } else {
          // A failed resend leaves the stored result as it was.
          entry.state = before;
          settle.resolve(previous);
        }
        return Promise.resolve();
      },
    };
  }

  /** Forgets keys whose window has ended; only those, never a live key. */
  private expire(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}

function resultOf<T>(entry: Entry<T>): Promise<T> {
  return "pending" in entry.state ? entry.state.pending : Promise.resolve(JSON.parse(entry.state.json) as T);
}

/** A stable digest of plain data: key order and Date objects do not change it. */
export function fingerprint(value: unknown): string {
  return hash("sha256", stableJson(value), "base64url");
}

/**
 * The store's key for a caller's idempotency key, scoped to the user: a fixed-size digest, so a
 * key of up to 255 characters costs what a short one does (and holds no part of the request).
 */
export function scopedKey(scope: string, key: string): string {
  return hash("sha256", `${scope}\u0000${key}`, "base64url");
}

function stableJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
