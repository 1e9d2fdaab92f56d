import { sleep } from "../../pacing/pacer.js";

/**
 * First-come-first-served exclusive sections per key. A section may hold several keys (a `multi`
 * batch holds all its users): it enqueues on every key at once, synchronously, so the global
 * arrival order is the order on every key and two sections can never wait for each other.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `section` once every earlier section on these keys has finished. An abort while waiting
   * rejects without running it (nothing is sent); its place is then passed on only after the
   * sections before it finish, so no later one overtakes them.
   */
  async run<T>(keys: readonly string[], section: () => Promise<T>, signal?: AbortSignal): Promise<T> {
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
      return await section();
    } finally {
      void predecessors.then(() => {
        release();
        for (const key of unique) if (this.tails.get(key) === done) this.tails.delete(key);
      });
    }
  }

  /** Keys with a section running or waiting (0 when idle: nothing is kept per user afterwards). */
  get activeKeys(): number {
    return this.tails.size;
  }
}

function abortable(promise: Promise<void>, signal?: AbortSignal): Promise<void> {
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

/** devMode traffic may reach Leanplum at most once per second per user. */
export const DEV_MODE_INTERVAL_MS = 1_000;

/**
 * Everything that must hold per Leanplum user in this process: one request in flight at a time
 * (Leanplum answers concurrent ones with 429) and, for devMode requests, one per second.
 */
export class UserSerializer {
  readonly mutex = new KeyedMutex();
  private readonly lastDevModeSend = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Runs `send` while holding every user in `users`; for devMode requests first waits until a
   * second has passed since the user's previous devMode answer. Waiting ends early, by
   * rejecting, when the signal aborts.
   */
  run<T>(users: readonly string[], devModeUsers: readonly string[], send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.mutex.run(
      users,
      async () => {
        if (devModeUsers.length > 0) {
          const wait = Math.max(
            0,
            ...devModeUsers.map((u) => (this.lastDevModeSend.get(u) ?? -Infinity) + DEV_MODE_INTERVAL_MS - this.now()),
          );
          if (wait > 0) await sleep(wait, signal);
          try {
            return await send();
          } finally {
            // Counted from the answer, not the send: Leanplum admitted the request somewhere in
            // between, so the next one is then at least a second after that admission.
            const answeredAt = this.now();
            for (const user of devModeUsers) this.lastDevModeSend.set(user, answeredAt);
            this.forgetOldDevModeSends(answeredAt);
          }
        }
        return send();
      },
      signal,
    );
  }

  private forgetOldDevModeSends(now: number): void {
    if (this.lastDevModeSend.size < 1_000) return;
    for (const [user, at] of this.lastDevModeSend) {
      if (at + DEV_MODE_INTERVAL_MS <= now) this.lastDevModeSend.delete(user);
    }
  }
}

const serializers = new Map<string, UserSerializer>();

/**
 * The serializer for one Leanplum app, shared by every adapter and client in the process: the
 * rule is Leanplum's per user, so two adapters for the same app must not race each other either.
 */
export function userSerializerFor(apiUrl: string, appId: string): UserSerializer {
  const key = `${apiUrl}\n${appId}`;
  let serializer = serializers.get(key);
  if (!serializer) {
    serializer = new UserSerializer();
    serializers.set(key, serializer);
  }
  return serializer;
}
