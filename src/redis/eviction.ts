import type { Redis } from "ioredis";

export interface EvictionCheck {
  /** Redis's maxmemory-policy, or "unknown" when CONFIG GET is refused (some managed services rename or forbid it). */
  readonly policy: string;
  /** Set when the policy may drop shared state, or cannot be read: for the start-up log. */
  readonly warning?: string;
}

/**
 * Checks at start-up that Redis will not evict shared state. Only `noeviction` is safe: every key
 * shared mode writes carries a TTL (idempotency keys live for their window, lock queues and leases
 * for a few seconds), so the `volatile-*` policies, which evict only keys with a TTL, could drop
 * exactly these — a live idempotency key forgotten inside its window lets its retry apply twice,
 * and a lock queue dropped lets two replicas write one Leanplum user at once. Under `noeviction`
 * a full Redis refuses writes instead, and callers get errors rather than silent double-applies.
 */
export async function checkEvictionPolicy(redis: Redis): Promise<EvictionCheck> {
  let policy: string | undefined;
  try {
    const reply = await redis.config("GET", "maxmemory-policy");
    if (Array.isArray(reply) && typeof reply[1] === "string") policy = reply[1];
  } catch {
    policy = undefined;
  }
  if (policy === undefined) {
    return {
      policy: "unknown",
      warning:
        "could not read Redis's maxmemory-policy (CONFIG GET is refused or renamed): make sure it is noeviction, or Redis may forget live idempotency keys and lock queues when memory runs short",
    };
  }
  if (policy === "noeviction") return { policy };
  return {
    policy,
    warning: `Redis's maxmemory-policy is ${policy}: when memory runs short it may evict live idempotency keys and lock queues (every one of them has a TTL, so volatile-* policies evict them too), letting a retry apply twice or two replicas write one user at once; set maxmemory-policy noeviction`,
  };
}
