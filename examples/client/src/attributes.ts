/**
 * How a frontend reads the subgraph's results: every outcome is a union member, so the code
 * switches on `__typename`, and TypeScript checks the switch is exhaustive. When the schema gains
 * a member (a new error type) and the documents are regenerated, this file stops compiling until
 * the new case is handled: the reason to type them.
 */
import {
  AttributeDeliveryDocument,
  BulkJobDocument,
  RetryBulkJobDocument,
  StartBulkJobDocument,
  UpdateAttributesDocument,
  type BulkJobProgressFragment,
  type DeliveryFragment,
  type AttributesBulkJobRetryInput,
  type RetryBulkJobMutation,
  type TypedDocumentString,
  type AttributesUpdateInput,
  type UpdateAttributesMutation,
} from "./gql/graphql.js";

export { possibleTypes } from "./gql/possible-types.js";

/** Sends one typed operation; GraphQL errors (not typed results) are thrown. */
export async function execute<TResult, TVariables>(
  endpoint: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  token?: string,
): Promise<TResult> {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  const body = (await response.json()) as { data?: TResult; errors?: Array<{ message: string }> };
  if (body.errors?.length || !body.data) throw new Error(body.errors?.map((e) => e.message).join("; ") ?? `HTTP ${response.status}`);
  return body.data;
}

/** What the user sees, and whether an automatic retry makes sense, for one vendor's delivery. */
export interface DeliveryView {
  readonly vendor: string;
  readonly ok: boolean;
  readonly text: string;
  /** Seconds to wait before retrying this vendor, when a retry can help. */
  readonly retryInSeconds?: number;
  /** Queued (delivery: GUARANTEED): follow it with `followDelivery`; do not send the update again. */
  readonly deliveryId?: string;
}

export function viewDelivery(delivery: DeliveryFragment): DeliveryView {
  const vendor = delivery.vendor;
  switch (delivery.__typename) {
    case "AttributesVendorDeliverySuccess":
      return {
        vendor,
        ok: true,
        text: delivery.warnings.length === 0 ? "saved" : `saved (${delivery.warnings.map((w) => w.message).join("; ")})`,
      };
    case "AttributesVendorDeliveryPreview":
      // A dry run (dryRun: true): nothing was written.
      return { vendor, ok: true, text: `would send ${delivery.requests.length} request(s); nothing written` };
    case "AttributesVendorDeliveryQueued":
      // The subgraph retries it; sending the update again would queue a second copy behind it.
      return {
        vendor,
        ok: false,
        text: delivery.lastError ? `queued for a retry (${delivery.lastError.message})` : "queued behind an earlier update",
        deliveryId: delivery.deliveryId,
      };
    case "AttributesRateLimitedError":
    case "AttributesVendorUnavailableError":
      // retryable is false after an ambiguous failure of an update that must not be repeated.
      return delivery.retryable
        ? { vendor, ok: false, text: `temporarily unavailable: ${delivery.message}`, retryInSeconds: delivery.retryAfterSeconds ?? 5 }
        : { vendor, ok: false, text: `may or may not have been saved: ${delivery.message}` };
    case "AttributesValueRejectedError":
    case "AttributeNotDefinedError":
    case "AttributesUnsupportedOperationError":
      return { vendor, ok: false, text: `not saved${delivery.attribute ? ` (${delivery.attribute})` : ""}: ${delivery.message}` };
    case "AttributesVendorUserNotFoundError":
      return { vendor, ok: false, text: "this user does not exist there yet" };
    case "AttributesAuthenticationFailedError":
    case "AttributesPermissionDeniedError":
    case "AttributesVendorNotConfiguredError":
    case "AttributesDeliveryOutcomeUnknownError":
    case "AttributesInternalDeliveryError":
      // Operator problems: the user can do nothing about them.
      return { vendor, ok: false, text: `not saved: ${delivery.message}` };
    default:
      return unreachable(delivery);
  }
}

export type UpdateView =
  | { readonly kind: "done"; readonly deliveries: readonly DeliveryView[]; readonly replayed: boolean }
  | { readonly kind: "invalid"; readonly problems: ReadonlyArray<{ readonly field: string; readonly message: string }> }
  | { readonly kind: "refused"; readonly message: string }
  | { readonly kind: "try-later"; readonly message: string; readonly retryAfterSeconds: number };

export function viewUpdate(result: UpdateAttributesMutation["updateAttributes"]): UpdateView {
  switch (result.__typename) {
    case "AttributesUpdateSuccess":
      return { kind: "done", deliveries: result.deliveries.map(viewDelivery), replayed: result.replayed };
    case "AttributesInvalidInputError":
      return { kind: "invalid", problems: result.problems.map((p) => ({ field: p.path.join("."), message: p.message })) };
    case "AttributesNotAuthorizedError":
    case "AttributesIdempotencyKeyReusedError":
      return { kind: "refused", message: result.message };
    case "AttributesIdempotencyStoreFullError":
    case "AttributesSharedStateUnavailableError":
      return { kind: "try-later", message: result.message, retryAfterSeconds: result.retryAfterSeconds };
    case "AttributesIdempotencyKeyInProgressError":
      // Running elsewhere: ask again later for its outcome. Lost: what it sent is unknown, and this
      // key will never send again; read the attributes back before sending with a new key.
      return result.outcomeUnknown
        ? { kind: "refused", message: result.message }
        : { kind: "try-later", message: result.message, retryAfterSeconds: result.retryAfterSeconds };
    default:
      return unreachable(result);
  }
}

export async function updateAttributes(endpoint: string, input: AttributesUpdateInput, token?: string): Promise<UpdateView> {
  const data = await execute(endpoint, UpdateAttributesDocument, { input }, token);
  return viewUpdate(data.updateAttributes);
}

/** Polls a queued delivery until it settles; returns the vendor's final answer as a view. */
export async function followDelivery(
  endpoint: string,
  id: string,
  options: { token?: string; pollMs?: number } = {},
): Promise<DeliveryView> {
  for (;;) {
    const result = (await execute(endpoint, AttributeDeliveryDocument, { id }, options.token)).attributeDelivery;
    if (result.__typename !== "AttributeDelivery") throw new Error(`${result.__typename}: ${result.message}`);
    if (result.status !== "QUEUED") {
      if (result.outcome) return viewDelivery(result.outcome);
      return { vendor: result.vendor, ok: false, text: `${result.status.toLowerCase()}: ${result.note ?? "not delivered"}` };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

/** Starts a bulk job and polls it until it ends; returns its final progress. */
export async function setForMany(
  endpoint: string,
  input: { userIds: string[]; attribute: string; value: { string: string } },
  options: { token?: string; pollMs?: number } = {},
): Promise<BulkJobProgressFragment> {
  const started = await execute(endpoint, StartBulkJobDocument, { input }, options.token);
  const result = started.bulkSetCustomAttribute;
  // Without dryRun the answer is a job or a typed error, never a plan.
  if (result.__typename !== "AttributesBulkJob")
    throw new Error(`${result.__typename}: ${"message" in result ? result.message : "no job"}`);
  for (;;) {
    const polled = (await execute(endpoint, BulkJobDocument, { id: result.id }, options.token)).attributeBulkJob;
    if (polled.__typename !== "AttributesBulkJob") throw new Error(`${polled.__typename}: ${polled.message}`);
    if (polled.status !== "QUEUED" && polled.status !== "RUNNING") return polled;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

export type RetryView =
  /** A new job resends the failed users: follow it by its id. */
  | { readonly kind: "started"; readonly job: BulkJobProgressFragment; readonly retryOf: string }
  /** Nothing to resend, or not now (the job still runs): say why. */
  | { readonly kind: "nothing"; readonly message: string }
  | { readonly kind: "refused"; readonly message: string }
  | { readonly kind: "try-later"; readonly message: string; readonly retryAfterSeconds: number };

export function viewRetry(result: RetryBulkJobMutation["retryAttributeBulkJob"]): RetryView {
  switch (result.__typename) {
    case "AttributesBulkJob": {
      const { retryOf, ...job } = result;
      return { kind: "started", job, retryOf: retryOf ?? "" };
    }
    case "AttributesNothingToRetryError":
    case "AttributesBulkJobNotFinishedError":
      return { kind: "nothing", message: result.message };
    case "AttributesBulkJobNotFoundError":
    case "AttributesInvalidInputError":
    case "AttributesTooManyUserIdsError":
    case "AttributesNotAuthorizedError":
      return { kind: "refused", message: result.message };
    case "AttributesSharedStateUnavailableError":
      return { kind: "try-later", message: result.message, retryAfterSeconds: result.retryAfterSeconds };
    default:
      return unreachable(result);
  }
}

/** Resends a finished job's failed users (by default the retryable failures) as a new job. */
export async function retryFailures(endpoint: string, id: string, input?: AttributesBulkJobRetryInput, token?: string): Promise<RetryView> {
  const data = await execute(endpoint, RetryBulkJobDocument, { id, ...(input ? { input } : {}) }, token);
  return viewRetry(data.retryAttributeBulkJob);
}

function unreachable(value: never): never {
  throw new Error(`unexpected result ${JSON.stringify(value)}`);
}
