import { createHash } from "node:crypto";

export type IdempotencyBegin<T> =
  /** No call with this key yet: run it, then `complete` (or `abandon` if it crashed). */
  | { readonly kind: "first"; complete(result: T): Promise<void>; abandon(): Promise<void> }
  /** The same key and input ran (or is running): its result, without sending anything. */
  | { readonly kind: "replay"; readonly result: Promise<T> }
  /** The same key was used with a different input. */
  | { readonly kind: "conflict" };

/**
 * Remembers results by idempotency key for a window. The in-memory store serves one process; a
 * shared store (Redis: SET NX with a TTL, then the stored JSON) serves several replicas. Results
 * must be plain JSON-serializable data.
 */
export interface IdempotencyStore<T> {
  begin(key: string, fingerprint: string): Promise<IdempotencyBegin<T>>;
}

interface Entry<T> {
  readonly fingerprint: string;
  readonly expiresAt: number;
  readonly result: Promise<T>;
}

export class InMemoryIdempotencyStore<T> implements IdempotencyStore<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  begin(key: string, fingerprint: string): Promise<IdempotencyBegin<T>> {
    const now = this.now();
    const existing = this.entries.get(key);
    if (existing && existing.expiresAt > now) {
      return Promise.resolve(existing.fingerprint === fingerprint ? { kind: "replay", result: existing.result } : { kind: "conflict" });
    }
    let settle!: { resolve: (value: T) => void; reject: (error: Error) => void };
    const result = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
    result.catch(() => undefined); // waiters handle it; an abandoned first call is not an unhandled rejection
    this.entries.delete(key);
    this.entries.set(key, { fingerprint, expiresAt: now + this.windowMs, result });
    this.evict(now);
    return Promise.resolve({
      kind: "first",
      complete: (value: T) => {
        settle.resolve(value);
        return Promise.resolve();
      },
      abandon: () => {
        this.entries.delete(key);
        settle.reject(new Error("the first call with this idempotency key failed; send it again"));
        return Promise.resolve();
      },
    });
  }

  /** Drops expired entries, then the oldest beyond the bound (Map keeps insertion order). */
  private evict(now: number): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxKeys && entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}

/** A stable digest of plain data: key order and Date objects do not change it. */
export function fingerprint(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
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
