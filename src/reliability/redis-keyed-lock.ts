import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { KeyedMutex, LockUnavailableError, type HeldKeys, type KeyedLock } from "./keyed-lock.js";
import { sleep } from "../util/sleep.js";

export interface RedisKeyedLockOptions {
  /** REDIS_KEY_PREFIX. */
  readonly keyPrefix: string;
  /** The lock's name (one per vendor app, say): its keys are `${keyPrefix}:lock:{${name}}:…`. */
  readonly name: string;
  /**
   * How long a ticket stays valid without renewal; its process renews it every third of this while
   * it waits or holds. A process that dies holds its keys at most this long. Default 10 s.
   */
  readonly leaseMs?: number;
  /** A failure the lock absorbed rather than returned (renewing, releasing, withdrawing, a cooldown): for the log. */
  readonly onError?: (error: unknown, during: "renew" | "release" | "withdraw" | "cooldown") => void;
}

export const DEFAULT_LOCK_LEASE_MS = 10_000;
const FIRST_POLL_MS = 2;
const MAX_POLL_MS = 50;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS[1] is the lock's lease set (ticket → expiry, Redis time in ms), KEYS[2..] the queues (lists
 * of tickets) of the keys a section holds. Every script first forgets expired leases; a queue's
 * head whose lease is gone is dropped (its process died). Structural keys are kept alive for at
 * least two leases past every renewal, and vanish once nobody uses them.
 */
const COMMON = `${NOW}
local function keep(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- 1: the ticket heads every queue; 0: it waits; -1: its lease ended, it is withdrawn and must join again.
local function poll(ticket)
  if not redis.call('ZSCORE', KEYS[1], ticket) then
    for i = 2, #KEYS do redis.call('LREM', KEYS[i], 0, ticket) end
    return -1
  end
  local ready = 1
  for i = 2, #KEYS do
    while true do
      local head = redis.call('LINDEX', KEYS[i], 0)
      if head == ticket then break end
      if not head then
        for j = 2, #KEYS do redis.call('LREM', KEYS[j], 0, ticket) end
        redis.call('ZREM', KEYS[1], ticket)
        return -1
      end
      if redis.call('ZSCORE', KEYS[1], head) then
        ready = 0
        break
      end
      redis.call('LPOP', KEYS[i])
    end
  end
  return ready
end
`;

/** ARGV: ticket, lease ms. Joins every queue at once (one script: the same order on every key), then polls. */
const ENQUEUE = `${COMMON}
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
keep(KEYS[1], 2 * lease)
for i = 2, #KEYS do
  redis.call('RPUSH', KEYS[i], ARGV[1])
  keep(KEYS[i], 2 * lease)
end
return poll(ARGV[1])
`;

/** ARGV: ticket. */
const POLL = `${COMMON}
return poll(ARGV[1])
`;

/** ARGV: ticket, lease ms. 1: renewed; 0: the lease had ended (the ticket may be gone). */
const RENEW = `${COMMON}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
for i = 1, #KEYS do keep(KEYS[i], 2 * lease) end
return 1
`;

/** ARGV: ticket. Leaves every queue (the head's release, or a waiter's withdrawal). */
const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 2, #KEYS do redis.call('LREM', KEYS[i], 1, ARGV[1]) end
return 1
`;

/** KEYS: cooldown keys. Milliseconds left of the longest. */
const COOLDOWN_LEFT = `
local left = 0
for i = 1, #KEYS do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl > left then left = ttl end
end
return left
`;

/** KEYS: cooldown keys; ARGV: ms. */
const START_COOLDOWN = `
for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'PX', ARGV[1]) end
return 1
`;

type Args = Array<string | number>;
interface LockScripts {
  attributesLockEnqueue(numKeys: number, ...args: Args): Promise<number>;
  attributesLockPoll(numKeys: number, ...args: Args): Promise<number>;
  attributesLockRenew(numKeys: number, ...args: Args): Promise<number>;
  attributesLockLeave(numKeys: number, ...args: Args): Promise<number>;
  attributesLockCooldownLeft(numKeys: number, ...args: Args): Promise<number>;
  attributesLockStartCooldown(numKeys: number, ...args: Args): Promise<number>;
}

function withScripts(redis: Redis): Redis & LockScripts {
  const scripts: Record<keyof LockScripts, string> = {
    attributesLockEnqueue: ENQUEUE,
    attributesLockPoll: POLL,
    attributesLockRenew: RENEW,
    attributesLockLeave: LEAVE,
    attributesLockCooldownLeft: COOLDOWN_LEFT,
    attributesLockStartCooldown: START_COOLDOWN,
  };
  // Without numberOfKeys, each call passes its own key count first (sections hold 1 to 51 keys).
  for (const [name, lua] of Object.entries(scripts)) if (!(name in redis)) redis.defineCommand(name, { lua });
  return redis as Redis & LockScripts;
}

/**
 * A fair (FIFO) KeyedLock shared by every process on one Redis, with leases.
 *
 * A section takes a ticket and appends it to every key's queue in one script, so two sections
 * sharing keys are in the same relative order on each of them and can never wait for each other.
 * It runs once its ticket heads every queue (waiters poll with a short backoff), and leaves them
 * when it settles. Every ticket, waiting or holding, has a lease that its process renews while it
 * waits or runs; a head whose lease ended (its process was killed, or cut off from Redis) is
 * dropped by the next poll, so the next section proceeds at most one lease later. Leases and
 * cooldowns use Redis's clock. An abort while waiting withdraws the ticket and rejects with the
 * signal's reason; later sections still wait for the earlier ones.
 *
 * In front of Redis sits an in-process KeyedMutex: sections of one process queue locally first, so
 * a process has at most one ticket per key in Redis. Use one instance per name per process
 * (`redisKeyedLocks` memoizes them).
 *
 * Limits: a holder that stalls longer than its lease (a long GC pause, a partition) may be overtaken
 * while it still runs: nothing can fence a request already sent to a vendor. Redis must not evict
 * these keys (see checkEvictionPolicy).
 */
export class RedisKeyedLock implements KeyedLock {
  private readonly redis: Redis & LockScripts;
  private readonly local = new KeyedMutex();
  private readonly leaseMs: number;
  private readonly base: string;
  private readonly leases: string;
  private readonly held: HeldKeys;

  constructor(
    redis: Redis,
    private readonly options: RedisKeyedLockOptions,
  ) {
    this.redis = withScripts(redis);
    this.leaseMs = options.leaseMs ?? DEFAULT_LOCK_LEASE_MS;
    this.base = `${options.keyPrefix}:lock:{${options.name}}`;
    this.leases = `${this.base}:leases`;
    this.held = {
      cooldownLeft: async (keys) => {
        if (keys.length === 0) return 0;
        try {
          return await this.redis.attributesLockCooldownLeft(keys.length, ...keys.map((key) => this.cooldownKey(key)));
        } catch (error) {
          throw new LockUnavailableError("a cooldown could not be read from Redis", { cause: error });
        }
      },
      startCooldown: async (keys, ms) => {
        if (keys.length === 0) return;
        try {
          await this.redis.attributesLockStartCooldown(
            keys.length,
            ...keys.map((key) => this.cooldownKey(key)),
            Math.max(1, Math.ceil(ms)),
          );
        } catch (error) {
          this.options.onError?.(error, "cooldown");
        }
      },
    };
  }

  /** The Redis list that queues `key`'s tickets. */
  queueKey(key: string): string {
    return `${this.base}:q:${key}`;
  }

  /** The Redis key whose TTL is `key`'s cooldown. */
  cooldownKey(key: string): string {
    return `${this.base}:cool:${key}`;
  }

  /** The sorted set of every live ticket's lease expiry. */
  get leaseKey(): string {
    return this.leases;
  }

  run<T>(keys: readonly string[], section: (held: HeldKeys) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) {
      signal?.throwIfAborted();
      return section(this.held);
    }
    return this.local.run(unique, () => this.shared(unique, section, signal), signal);
  }

  private async shared<T>(keys: readonly string[], section: (held: HeldKeys) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const scriptKeys = [this.leases, ...keys.map((key) => this.queueKey(key))];
    let ticket = randomUUID();
    let lost = false;
    const renewal = setInterval(
      () => {
        this.redis.attributesLockRenew(scriptKeys.length, ...scriptKeys, ticket, this.leaseMs).then(
          (renewed) => {
            // Waiting, the next poll finds out and joins again; holding, nothing can be done but say so.
            if (renewed === 0 && !lost) {
              lost = true;
              this.options.onError?.(new Error(`the lease of lock ${this.options.name} ended before it was renewed`), "renew");
            }
          },
          (error: unknown) => this.options.onError?.(error, "renew"),
        );
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    renewal.unref();
    const leave = (during: "release" | "withdraw"): Promise<void> =>
      this.redis.attributesLockLeave(scriptKeys.length, ...scriptKeys, ticket).then(
        () => undefined,
        (error: unknown) => this.options.onError?.(error, during),
      );

    try {
      let state = await this.redis.attributesLockEnqueue(scriptKeys.length, ...scriptKeys, ticket, this.leaseMs);
      let delay = FIRST_POLL_MS;
      while (state !== 1) {
        if (state === -1) {
          // Our lease ended while we waited (a stall longer than a lease): join again, at the back.
          ticket = randomUUID();
          lost = false;
          state = await this.redis.attributesLockEnqueue(scriptKeys.length, ...scriptKeys, ticket, this.leaseMs);
          continue;
        }
        await sleep(delay, signal);
        delay = Math.min(delay * 2, MAX_POLL_MS);
        state = await this.redis.attributesLockPoll(scriptKeys.length, ...scriptKeys, ticket);
      }
    } catch (error) {
      clearInterval(renewal);
      await leave("withdraw");
      if (signal?.aborted && error === signal.reason) throw error;
      throw new LockUnavailableError(`lock ${this.options.name} could not be taken in Redis`, { cause: error });
    }

    try {
      return await section(this.held);
    } finally {
      clearInterval(renewal);
      await leave("release");
    }
  }
}

/**
 * A lock factory for AdapterDeps.locks in shared mode: one RedisKeyedLock per name, on one commands
 * connection, for the whole process.
 */
export function redisKeyedLocks(redis: Redis, options: Omit<RedisKeyedLockOptions, "name">): (name: string) => KeyedLock {
  const locks = new Map<string, RedisKeyedLock>();
  return (name) => {
    let lock = locks.get(name);
    if (!lock) locks.set(name, (lock = new RedisKeyedLock(redis, { ...options, name })));
    return lock;
  };
}
