import type { UpdateCommand } from "../domain/command.js";
import type { VendorFailure } from "../domain/failures.js";
import type { DeliveryOutcome } from "../domain/results.js";

/** SYNC: each vendor is tried once and answers. GUARANTEED: a retryable failure is queued and retried. */
export type DeliveryMode = "SYNC" | "GUARANTEED";

export const DELIVERY_STATUSES = ["QUEUED", "DELIVERED", "FAILED", "EXPIRED", "CANCELLED"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const QUEUE_REASONS = ["RETRYABLE_FAILURE", "BEHIND_EARLIER_DELIVERY"] as const;
/**
 * Why an update was queued instead of answered: its vendor failed in a way a retry can fix
 * (GUARANTEED only), or an earlier update of the same user at the same vendor is still queued, and
 * this one must not overtake it (both modes).
 */
export type QueueReason = (typeof QUEUE_REASONS)[number];

/** One user's updates at one vendor go through one lane, in order. */
export interface Lane {
  readonly vendor: string;
  readonly userId: string;
}

export interface DeliveryAttempt {
  /** Epoch ms when the attempt started. */
  readonly startedAt: number;
  readonly durationMs: number;
  /**
   * delivered; failed (with the failure); or lost: the process sending it stopped before its
   * outcome was recorded, so whether it reached the vendor is unknown.
   */
  readonly result: "delivered" | "failed" | "lost";
  readonly failure?: VendorFailure;
}

/** A queued delivery of one update to one vendor, and its history. Plain data (see codec.ts). */
export interface DeliveryRecord {
  readonly id: string;
  readonly vendor: string;
  readonly userId: string;
  /** The caller that queued it (its JWT subject); none when authorization is off. */
  readonly owner?: string;
  /** The update, with only this vendor's options. */
  readonly command: UpdateCommand;
  /** Whether sending it twice leaves what sending it once does (decided once, by the vendor's rules). */
  readonly repeatSafe: boolean;
  readonly status: DeliveryStatus;
  readonly reason: QueueReason;
  readonly createdAt: number;
  /** The end of its retry window: not attempted after this. */
  readonly expiresAt: number;
  /** When it may be attempted next (once it heads its lane). */
  readonly nextAttemptAt: number;
  readonly attempts: readonly DeliveryAttempt[];
  /** Set while an attempt is in flight: seen by a later run, that attempt was lost with its process. */
  readonly inFlightSince?: number;
  /** Once settled: the final outcome (DELIVERED: the vendor's answer; FAILED/EXPIRED: the last failure). */
  readonly outcome?: DeliveryOutcome;
  readonly finishedAt?: number;
  /** Why it settled without delivery, in words (expired, cancelled, lost, never attempted). */
  readonly note?: string;
}

/** What updateAttributes answers for a vendor whose update was queued. */
export interface QueuedDelivery {
  readonly queued: true;
  readonly vendor: string;
  readonly deliveryId: string;
  readonly reason: QueueReason;
  readonly attempts: number;
  /** Epoch ms; absent when it waits behind an earlier delivery (it goes right after it). */
  readonly nextAttemptAt?: number;
  readonly expiresAt: number;
  readonly lastError?: VendorFailure;
  /** The delivery it waits behind, for BEHIND_EARLIER_DELIVERY. */
  readonly behind?: string;
  /** False when the queue is this process's memory: a restart loses it. */
  readonly durable: boolean;
}

/** One vendor's answer to an update: an outcome, or queued. */
export type UpdateOutcome = DeliveryOutcome | QueuedDelivery;

export function isQueued(outcome: UpdateOutcome): outcome is QueuedDelivery {
  return "queued" in outcome;
}

export interface DeliverySettings {
  /** How long a queued delivery is retried, from its creation (DELIVERY_RETRY_WINDOW_SECONDS). */
  readonly windowMs: number;
  /** Attempts at most, the first one included (DELIVERY_MAX_ATTEMPTS). */
  readonly maxAttempts: number;
  /** First retry delay; each next one doubles, jittered (DELIVERY_RETRY_BASE_DELAY_MS). */
  readonly baseDelayMs: number;
  /** Longest delay between two attempts, unless the vendor's Retry-After asks for more (DELIVERY_RETRY_MAX_DELAY_MS). */
  readonly maxDelayMs: number;
  /** Deliveries queued at once, across vendors (DELIVERY_MAX_QUEUED): a new one is refused beyond it. */
  readonly maxQueued: number;
  /** How long a settled delivery stays readable (DELIVERY_RETENTION_SECONDS). */
  readonly retentionMs: number;
  /** Lanes one process works on at once (DELIVERY_WORKER_CONCURRENCY). */
  readonly workerConcurrency: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  windowMs: 4 * 3_600_000,
  maxAttempts: 100,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  maxQueued: 100_000,
  retentionMs: 7 * 86_400_000,
  workerConcurrency: 16,
};

/**
 * The delay before attempt `attempt + 1` (`attempt` ≥ 1 made so far): exponential from `baseDelayMs`,
 * capped at `maxDelayMs`, with "equal jitter" (uniform between half the bound and the bound), so that
 * deliveries queued by one outage do not all come back at the same instant, and none comes back at
 * once; never shorter than the vendor's Retry-After.
 */
export function retryDelayMs(
  attempt: number,
  settings: Pick<DeliverySettings, "baseDelayMs" | "maxDelayMs">,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number {
  const bound = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.min(30, attempt - 1));
  const jittered = Math.round(bound / 2 + random() * (bound / 2));
  return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
}
