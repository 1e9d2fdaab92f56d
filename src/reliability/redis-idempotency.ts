import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { IdempotencyBegin, IdempotencyStore } from "./idempotency.js";

export interface RedisIdempotencyOptions {
  /** REDIS_KEY_PREFIX: keys are `${keyPrefix}:idem:${key}`. */
  readonly keyPrefix: string;
  /** How long a key remembers its result, from its first use (IDEMPOTENCY_WINDOW_SECONDS): the key's TTL, never extended. */
  readonly windowMs: number;
  /**
   * Longest a duplicate waits for a call holding its key elsewhere (IDEMPOTENCY_IN_FLIGHT_WAIT_MS)
   * before it is answered "in-progress".
   */
  readonly inFlightWaitMs: number;
  /**
   * How long a claim stays valid without renewal; its holder renews it every third of this while
   * its call runs. A holder that dies is known to be lost this long after its last renewal.
   * Default 10 s.
   */
  readonly leaseMs?: number;
  /**
   * A failure the store absorbed rather than returned: recording an outcome or releasing a key
   * (the key then stays claimed, and repeats are told its outcome is unknown once the lease ends),
   * or renewing a lease. For the log.
   */
  readonly onError?: (error: unknown, during: "complete" | "abandon" | "renew") => void;
}

export const DEFAULT_IDEMPOTENCY_LEASE_MS = 10_000;
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

/**
 * The milliseconds clock of the Redis server: every replica's leases are compared on one clock,
 * whatever the skew between their hosts.
 */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * One key's hash: fp (fingerprint), v (version, bumped by every claim), state (pending | done),
 * result (JSON of the last recorded result; kept while a retake is pending, so that its abandon
 * restores it), claim (the holder's token) and lease (Redis time in ms until which the holder is
 * alive). ARGV: fingerprint, window ms, lease ms, a new claim token, the version to retake ("" for a
 * plain begin). Answers: first (v, previous result if any), conflict, replay (v, result),
 * wait (v: a live holder), lost (v, ms left of the window: a holder whose lease ended).
 */
const BEGIN = `${NOW}
local e = redis.call('HMGET', KEYS[1], 'fp', 'v', 'state', 'lease', 'result')
if not e[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'v', 1, 'state', 'pending', 'claim', ARGV[4], 'lease', now + tonumber(ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'first', '1'}
end
if e[1] ~= ARGV[1] then return {'conflict'} end
if e[3] == 'pending' then
  if tonumber(e[4]) > now then return {'wait', e[2]} end
  return {'lost', e[2], tostring(redis.call('PTTL', KEYS[1]))}
end
if ARGV[5] ~= '' and ARGV[5] == e[2] then
  local v = tonumber(e[2]) + 1
  redis.call('HSET', KEYS[1], 'v', v, 'state', 'pending', 'claim', ARGV[4], 'lease', now + tonumber(ARGV[3]))
  return {'first', tostring(v), e[5]}
end
return {'replay', e[2], e[5]}
`;

/** ARGV: claim token, result JSON. Records it only while the claim is still this holder's (HSET keeps the TTL). */
const COMPLETE = `
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'result', ARGV[2])
redis.call('HDEL', KEYS[1], 'claim', 'lease')
return 1
`;

/** ARGV: claim token. A retake restores the previous result; a first call frees the key. */
const ABANDON = `
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'result') == 1 then
  redis.call('HSET', KEYS[1], 'state', 'done')
  redis.call('HDEL', KEYS[1], 'claim', 'lease')
else
  redis.call('DEL', KEYS[1])
end
return 1
`;

/** ARGV: claim token, lease ms. */
const RENEW = `${NOW}
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[2]))
return 1
`;

interface IdempotencyScripts {
  attributesIdemBegin(key: string, fp: string, windowMs: number, leaseMs: number, claim: string, retake: string): Promise<string[]>;
  attributesIdemComplete(key: string, claim: string, json: string): Promise<number>;
  attributesIdemAbandon(key: string, claim: string): Promise<number>;
  attributesIdemRenew(key: string, claim: string, leaseMs: number): Promise<number>;
}

function withScripts(redis: Redis): Redis & IdempotencyScripts {
  const scripts: Record<keyof IdempotencyScripts, string> = {
    attributesIdemBegin: BEGIN,
    attributesIdemComplete: COMPLETE,
    attributesIdemAbandon: ABANDON,
    attributesIdemRenew: RENEW,
  };
  for (const [name, lua] of Object.entries(scripts)) {
    if (!(name in redis)) redis.defineCommand(name, { lua, numberOfKeys: 1 });
  }
  return redis as Redis & IdempotencyScripts;
}

/**
 * Idempotency keys in Redis, shared by every replica, with the in-memory store's semantics: the
 * first caller anywhere claims a new key; the same key with another fingerprint is a conflict; a
 * settled result is replayed, and `retake` hands it to exactly one repeat (a version
 * compare-and-set in one script); `abandon` of a retake restores the previous result, of a first
 * call frees the key; the key expires with its window, counted from first use and never extended.
 *
 * A duplicate that arrives while the key is held by a call in flight (on any replica) waits for
 * that call's outcome — polling with a short backoff, woken at once when the holder is in this
 * process — for at most `inFlightWaitMs`, then gets "in-progress". A claim carries a lease, renewed
 * while its call runs: when the holder dies without completing, the key stays claimed until its
 * window ends and every repeat gets "in-progress" with `holderLost`, so nothing whose outcome is
 * unknown is sent twice. `begin` therefore never returns a replay whose result is still pending.
 *
 * There is no key limit ("full" is never answered): memory is Redis's, one hash per key for its
 * window (IDEMPOTENCY_MAX_KEYS applies to the in-memory store only). Redis must not evict these
 * keys (see checkEvictionPolicy).
 */
export class RedisIdempotencyStore<T> implements IdempotencyStore<T> {
  private readonly redis: Redis & IdempotencyScripts;
  private readonly leaseMs: number;
  /** Waiters in this process per Redis key, woken when a holder in this process settles it. */
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(
    redis: Redis,
    private readonly options: RedisIdempotencyOptions,
  ) {
    this.redis = withScripts(redis);
    this.leaseMs = options.leaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS;
  }

  /** The Redis key that holds `key`. */
  redisKey(key: string): string {
    return `${this.options.keyPrefix}:idem:${key}`;
  }

  begin(key: string, fingerprint: string): Promise<IdempotencyBegin<T>> {
    return this.settle(this.redisKey(key), fingerprint, "");
  }

  /** Begins, or retakes `retakeVersion`; waits (bounded) while a live holder elsewhere has the key. */
  private async settle(redisKey: string, fingerprint: string, retakeVersion: string): Promise<IdempotencyBegin<T>> {
    const deadline = performance.now() + this.options.inFlightWaitMs;
    let delay = FIRST_POLL_MS;
    for (;;) {
      const claim = randomUUID();
      const reply = await this.redis.attributesIdemBegin(redisKey, fingerprint, this.options.windowMs, this.leaseMs, claim, retakeVersion);
      switch (reply[0]) {
        case "first":
          return this.claimed(redisKey, claim, reply[2] === undefined ? undefined : (JSON.parse(reply[2]) as T));
        case "conflict":
          return { kind: "conflict" };
        case "replay": {
          const version = reply[1]!;
          const result = JSON.parse(reply[2]!) as T;
          return {
            kind: "replay",
            result: Promise.resolve(result),
            retake: () => this.settle(redisKey, fingerprint, version),
          };
        }
        case "lost":
          return { kind: "in-progress", holderLost: true, retryAfterSeconds: Math.max(1, Math.ceil(Number(reply[2]) / 1000)) };
        case "wait": {
          const left = deadline - performance.now();
          if (left <= 0) return { kind: "in-progress", holderLost: false, retryAfterSeconds: Math.max(1, Math.ceil(this.leaseMs / 1000)) };
          await this.pause(redisKey, Math.min(delay, left));
          delay = Math.min(delay * 2, MAX_POLL_MS);
          continue;
        }
        default:
          throw new Error(`unexpected answer from the idempotency script: ${JSON.stringify(reply)}`);
      }
    }
  }

  /** The caller holds the key under `claim` until it completes or abandons; the lease is renewed meanwhile. */
  private claimed(redisKey: string, claim: string, previous: T | undefined): IdempotencyBegin<T> {
    const renewal = setInterval(
      () => {
        this.redis.attributesIdemRenew(redisKey, claim, this.leaseMs).catch((error: unknown) => this.options.onError?.(error, "renew"));
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    renewal.unref();
    let settled = false;
    const finish = async (during: "complete" | "abandon", write: () => Promise<number>): Promise<void> => {
      if (settled) return;
      settled = true;
      clearInterval(renewal);
      try {
        await write();
      } catch (error) {
        this.options.onError?.(error, during);
      } finally {
        this.wake(redisKey);
      }
    };
    return {
      kind: "first",
      ...(previous === undefined ? {} : { previous }),
      complete: (result: T) => finish("complete", () => this.redis.attributesIdemComplete(redisKey, claim, JSON.stringify(result))),
      abandon: () => finish("abandon", () => this.redis.attributesIdemAbandon(redisKey, claim)),
    };
  }

  private pause(redisKey: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.wakers.get(redisKey);
      if (!waiters) this.wakers.set(redisKey, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.wakers.get(redisKey) === waiters) this.wakers.delete(redisKey);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });
  }

  private wake(redisKey: string): void {
    for (const done of [...(this.wakers.get(redisKey) ?? [])]) done();
  }
}
