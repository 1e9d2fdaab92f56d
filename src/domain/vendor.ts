import type { VendorCapabilities } from "./capabilities.js";
import type { UpdateCommand } from "./command.js";
import type { VendorFailure } from "./failures.js";
import type { VendorOptionsSpec } from "./options.js";
import type { ProfileReadOutcome } from "./profile-read.js";
import type { DeliveryOutcome } from "./results.js";
import type { RequestScope } from "./scope.js";
import type { AttributeValue } from "./values.js";
import { isRepeatSafe } from "./operations.js";

/** Who waits for a vendor's rate budget, and how long it may. */
export interface Waiter {
  /**
   * Cancels waiting (pacing, queues, backoff), never a request already sent: an aborted request
   * might have been applied, and its user would then be counted wrongly.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * No caller is waiting for this call (bulk work): it waits for the vendor's rate as long as the
   * vendor asks, and its retries are its own (one budget per user, not nested automatic retries).
   * Interactive calls (false) are refused at once when their wait would outlast their deadline.
   */
  readonly background?: boolean | undefined;
  /**
   * Gives way to interactive callers of the same rate budget (bulk chunks, queued deliveries): it
   * takes a slot only when the budget is booked less than lowPriorityHorizonMs ahead (pacing/budget.ts),
   * so a live request never queues behind more than that of such work. It is background work: it waits
   * as long as it takes, whatever `background` says.
   */
  readonly lowPriority?: boolean | undefined;
}

export interface CallContext extends Waiter {
  /** Correlates the vendor calls of one GraphQL operation in logs. */
  readonly requestId: string;
  /** Per-operation memo for request-scoped loaders (see RequestScope). */
  readonly scope: RequestScope;
  /**
   * Sandbox mode only: a fault the caller asks the sandbox vendors to answer with (the client's
   * x-sandbox-fault header, passed on), so that GraphiQL can show a vendor outage.
   */
  readonly sandboxFault?: string;
  /**
   * A dry run: every check and mapping runs, but no write is sent; each request the vendor would
   * receive is recorded here instead. Read-only look-ups a write needs (an id resolved, say) are
   * sent, and recorded as look-ups.
   */
  readonly dryRun?: DryRunRecorder;
}

/** Where a dry run's requests go, in the order they would be sent. */
export interface DryRunRecorder {
  record(request: PreviewedRequest): void;
}

/** One request as the vendor would receive it, credentials redacted. */
export interface PreviewedRequest {
  readonly vendor: string;
  readonly method: string;
  /** The full URL, query included. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as sent (JSON text), if any. */
  readonly body: string | undefined;
  /** A read-only look-up the write needs: it was sent, even in the dry run. */
  readonly lookup: boolean;
}

/**
 * Whether `error` is the caller's cancellation itself: pacing and queue waits reject with the
 * signal's reason, so nothing was sent. Any other throw after a cancel is still a failure.
 */
export function isCancellation(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && error === signal.reason;
}

/**
 * An interactive call would have to wait `waitMs` for a slot in the vendor's rate budget, longer
 * than its deadline allows (a vendor's long Retry-After, a deep backlog). Thrown before anything is
 * sent; the dispatcher answers it as a retryable RATE_LIMITED failure with the wait as its delay.
 */
export class RateLimitWaitTooLong extends Error {
  constructor(
    readonly waitMs: number,
    /** The budget itself could not be asked (shared mode's store unreachable), rather than full. */
    readonly unreachable = false,
  ) {
    super(
      unreachable ? "the vendor's shared rate budget is unreachable" : `the vendor's rate budget has no slot for ${Math.ceil(waitMs)} ms`,
    );
    this.name = "RateLimitWaitTooLong";
  }
}

/**
 * Whether a throw from an adapter means the call sent nothing and says nothing about the vendor:
 * the caller's own cancellation, or a rate-budget wait refused for its deadline.
 */
export function endedBeforeSending(error: unknown, signal: AbortSignal | undefined): boolean {
  return isCancellation(error, signal) || error instanceof RateLimitWaitTooLong;
}

/** What the domain needs from a vendor integration; vendor folders implement it. */
export interface VendorAdapter {
  /**
   * Applies the command. Failures are returned as values, never thrown: a throw means a bug.
   * The command has already passed the capability check.
   */
  update(command: UpdateCommand, context: CallContext): Promise<DeliveryOutcome>;

  /**
   * Reads several users' profiles in as few vendor calls as the vendor allows. Returns one
   * outcome per requested id (a missing user is a USER_NOT_FOUND failure). Present only when
   * the capabilities declare `readProfile`. Called through a per-request DataLoader.
   */
  readProfiles?(userIds: readonly string[], context: CallContext): Promise<ReadonlyMap<string, ProfileReadOutcome>>;

  /**
   * Everything the vendor would refuse in this command regardless of the user, found without
   * sending (the mapper's checks). Lets a bulk job refuse a value once instead of per user.
   */
  check?(command: UpdateCommand): readonly VendorFailure[];

  /**
   * The vendor's native bulk path: sets one attribute for a chunk of users (at most
   * `capabilities.bulk.chunkSize`), returning one outcome per id. When `context.signal` aborts, it
   * sends nothing new, waits for what it already sent, and returns the outcomes it has: users left
   * out were not sent and count as cancelled. (Throwing the signal's reason before sending anything
   * means the same for the whole chunk.) Vendors without one are driven user by user through
   * `update`, paced by their shared pacer.
   */
  setForMany?(userIds: readonly string[], change: BulkChange, context: CallContext): Promise<ReadonlyMap<string, DeliveryOutcome>>;

  /**
   * Whether sending this command twice leaves the same state as sending it once, at this vendor.
   * Absent: the domain's rule for every operation (isRepeatSafe). A vendor whose semantics depend
   * on its configuration (an attribute's accumulate rule) answers for itself. Decides whether a
   * bulk chunk a dead worker left may be sent again.
   */
  isRepeatSafe?(command: UpdateCommand): boolean;

  /**
   * How a bulk job of `userCount` users would go to this vendor: the path, the write and look-up
   * calls it takes, and the rate that paces them (a bulk dry run's plan). Counts follow the
   * vendor's own chunking and configuration.
   */
  planBulk?(userCount: number): BulkCallPlan;
}

export interface BulkCallPlan {
  /** The path, as the vendor's documentation names it (for example "multi, 50 users per call"). */
  readonly path: string;
  readonly writes: number;
  /** Read-only look-up calls the writes need (ids resolved). */
  readonly lookups: number;
  /** Calls per second the vendor's rate budget allows; undefined when the vendor is not paced. */
  readonly ratePerSecond: number | undefined;
}

/** Whether `command` may be sent again to this vendor after an outcome was lost. */
export function repeatSafeAt(adapter: VendorAdapter, command: UpdateCommand): boolean {
  return adapter.isRepeatSafe ? adapter.isRepeatSafe(command) : command.operations.every(isRepeatSafe);
}

/** One custom attribute value for many users. */
export interface BulkChange {
  readonly attribute: string;
  readonly value: AttributeValue;
}

export type VendorMode = "live" | "sandbox" | "not-configured";

/** What the GraphQL schema declares of a registered vendor: its enum value and its options input. */
export type VendorDeclaration = Pick<Vendor, "id" | "options">;

/** A vendor as the running subgraph sees it: its declaration plus, when configured, an adapter. */
export interface Vendor {
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: VendorCapabilities;
  readonly options?: VendorOptionsSpec;
  readonly mode: VendorMode;
  readonly adapter?: VendorAdapter;
}
