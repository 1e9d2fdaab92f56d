/**
 * What a section holding its keys may keep beside the lock: per-key cooldowns, on the lock's own
 * clock (the process's for KeyedMutex, Redis's for RedisKeyedLock), so that a rule such as "one
 * request per second per user" holds wherever the lock does. Use them only for keys the section holds.
 */
export interface HeldKeys {
  /** Milliseconds left of the longest cooldown on any of `keys` (0 when none). */
  cooldownLeft(keys: readonly string[]): Promise<number>;
  /**
   * Starts a cooldown of `ms` on each of `keys`, from now, replacing any earlier one. Never
   * rejects: it is called after the work it follows is done, whose outcome must not be lost to it.
   */
  startCooldown(keys: readonly string[], ms: number): Promise<void>;
}

/**
 * First-come-first-served exclusive sections per key. A section may hold several keys; it joins
 * every key's queue at once, so two sections get the same relative order on every key they share
 * and can never wait for each other (no deadlock).
 */
export interface KeyedLock {
  /**
   * Runs `section` once every earlier section on any of `keys` has finished, holding them until it
   * settles. An abort of `signal` while waiting rejects with the signal's own reason (nothing ran;
   * see isCancellation), and no later section overtakes the earlier ones. A lock that cannot be
   * taken for another reason (shared mode: Redis unreachable) rejects with LockUnavailableError
   * without running the section.
   */
  run<T>(keys: readonly string[], section: (held: HeldKeys) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * The `vendorCode` of a VENDOR_UNAVAILABLE failure an adapter answers when its lock could not be
 * taken: nothing was sent (retryable), and it says nothing about the vendor (the circuit breaker
 * does not count it).
 */
export const LOCK_UNAVAILABLE = "LOCK_UNAVAILABLE";

/** The lock could not be taken (its shared store is unreachable): the section did not run. */
export class LockUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LockUnavailableError";
  }
}

/**
 * The in-process KeyedLock. A section enqueues on every key synchronously, so the global arrival
 * order is the order on every key. Nothing is kept per key once its sections are done (cooldowns
 * are kept until they end, and swept when many have ended).
 */
export class KeyedMutex implements KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly cooldowns = new Map<string, number>();
  private readonly held: HeldKeys;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.held = {
      cooldownLeft: (keys) => {
        const at = this.now();
        return Promise.resolve(Math.max(0, ...keys.map((key) => (this.cooldowns.get(key) ?? -Infinity) - at)));
      },
      startCooldown: (keys, ms) => {
        const at = this.now();
        for (const key of keys) this.cooldowns.set(key, at + ms);
        this.sweepCooldowns(at);
        return Promise.resolve();
      },
    };
  }

  /**
   * An abort while waiting rejects without running the section (nothing is sent); its place is
   * then passed on only after the sections before it finish, so no later one overtakes them.
   */
  async run<T>(keys: readonly string[], section: (held: HeldKeys) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const unique = [...new Set(keys)];
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const previous: Promise<void>[] = [];
    for (const key of unique) {
      const tail = this.tails.get(key);
      if (tail) previous.push(tail);
      this.tails.set(key, done);
    }
    const predecessors = Promise.all(previous).then(() => undefined);
    try {
      if (previous.length > 0) await abortable(predecessors, signal);
      else signal?.throwIfAborted();
      return await section(this.held);
    } finally {
      void predecessors.then(() => {
        release();
        for (const key of unique) if (this.tails.get(key) === done) this.tails.delete(key);
      });
    }
  }

  /** Keys with a section running or waiting (0 when idle: nothing is kept per key afterwards). */
  get activeKeys(): number {
    return this.tails.size;
  }

  private sweepCooldowns(now: number): void {
    if (this.cooldowns.size < 1_000) return;
    for (const [key, until] of this.cooldowns) if (until <= now) this.cooldowns.delete(key);
  }
}

const inProcess = new Map<string, KeyedMutex>();

/**
 * The default lock factory: one KeyedMutex per name for the whole process, so that every adapter
 * and client locking under one name (one vendor app) shares it.
 */
export function inProcessLocks(name: string): KeyedLock {
  let lock = inProcess.get(name);
  if (!lock) inProcess.set(name, (lock = new KeyedMutex()));
  return lock;
}

/** Waits for `promise`, or rejects with the signal's own reason when it aborts first. */
export function abortable(promise: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    // The signal's own reason, as throwIfAborted gives it: cancellation is recognised by that identity.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's own reason, kept for isCancellation
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
