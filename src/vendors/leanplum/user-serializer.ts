import { sleep } from "../../util/sleep.js";
import { inProcessLocks, type KeyedLock } from "../../reliability/keyed-lock.js";

/** devMode traffic may reach Leanplum at most once per second per user. */
export const DEV_MODE_INTERVAL_MS = 1_000;

/**
 * Everything that must hold per Leanplum user: one request in flight at a time (Leanplum answers
 * concurrent ones with 429) and, for devMode requests, one per second. Both hold wherever the lock
 * does: in the process (KeyedMutex), or across every replica and worker (RedisKeyedLock), where
 * the last devMode answer's cooldown is kept in Redis under the lock.
 */
export class UserSerializer {
  constructor(readonly lock: KeyedLock) {}

  /**
   * Runs `send` while holding every user in `users`; for devMode requests first waits until a
   * second has passed since the user's previous devMode answer. Waiting ends early, by
   * rejecting with the signal's reason, when the signal aborts.
   */
  run<T>(users: readonly string[], devModeUsers: readonly string[], send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.lock.run(
      users,
      async (held) => {
        if (devModeUsers.length === 0) return send();
        const wait = await held.cooldownLeft(devModeUsers);
        if (wait > 0) await sleep(wait, signal);
        try {
          return await send();
        } finally {
          // Counted from the answer, not the send: Leanplum admitted the request somewhere in
          // between, so the next one is then at least a second after that admission.
          await held.startCooldown(devModeUsers, DEV_MODE_INTERVAL_MS);
        }
      },
      signal,
    );
  }
}

/**
 * The serializer for one Leanplum app (`apiUrl` + `appId`): its lock comes from `locks` under one
 * name per app, so every adapter and client of the app locks the same users. The default factory
 * shares one in-process lock per app; in shared mode a Redis factory spans processes.
 */
export function userSerializerFor(apiUrl: string, appId: string, locks: (name: string) => KeyedLock = inProcessLocks): UserSerializer {
  return new UserSerializer(locks(`leanplum:${appId}:${apiUrl}`));
}
