import type { InputProblem as DomainInputProblem } from "../../domain/command.js";
import type { VendorFailure } from "../../domain/failures.js";
import { isQueued, type QueuedDelivery, type UpdateOutcome } from "../../delivery/types.js";
import type { PreviewedRequest } from "../../domain/vendor.js";
import {
  DeliveryWarning,
  HttpHeader,
  PreviewedRequestObject,
  VendorDeliveryQueued,
  VendorDeliverySuccess,
  type VendorDeliveryPreview,
} from "../results/vendor-delivery.result.js";
import { InputProblem, InvalidInputError, VENDOR_ERROR_TYPES, type VendorErrorInterface } from "./error.types.js";

/** The only place where domain failures become GraphQL objects (union members resolve by class). */
export function toVendorError(failure: VendorFailure): VendorErrorInterface {
  const error = new VENDOR_ERROR_TYPES[failure.category]();
  error.message = failure.message;
  error.code = failure.category;
  error.vendor = failure.vendor;
  error.httpStatus = failure.httpStatus ?? null;
  error.vendorCode = failure.vendorCode ?? null;
  error.retryable = failure.retryable;
  error.retryAfterSeconds = failure.retryAfterSeconds ?? null;
  error.attribute = failure.attribute ?? null;
  error.operation = failure.operation ?? null;
  error.relatedErrors = failure.related.map(toVendorError);
  return error;
}

export type DeliveryResultObject = VendorDeliverySuccess | VendorDeliveryQueued | VendorDeliveryPreview | VendorErrorInterface;

export function toDeliveryResult(outcome: UpdateOutcome): DeliveryResultObject {
  if (isQueued(outcome)) return toQueued(outcome);
  if (!outcome.ok) return toVendorError(outcome.failure);
  const success = new VendorDeliverySuccess();
  success.vendor = outcome.vendor;
  success.httpStatus = outcome.httpStatus ?? null;
  success.warnings = outcome.warnings.map((w) => Object.assign(new DeliveryWarning(), { ...w, attribute: w.attribute ?? null }));
  return success;
}

function toQueued(queued: QueuedDelivery): VendorDeliveryQueued {
  return Object.assign(new VendorDeliveryQueued(), {
    vendor: queued.vendor,
    deliveryId: queued.deliveryId,
    reason: queued.reason,
    attempts: queued.attempts,
    nextAttemptAt: queued.nextAttemptAt === undefined ? null : new Date(queued.nextAttemptAt),
    expiresAt: new Date(queued.expiresAt),
    lastError: queued.lastError ? toVendorError(queued.lastError) : null,
    queuedBehind: queued.behind ?? null,
    durable: queued.durable,
  });
}

export function toInvalidInput(problems: readonly DomainInputProblem[]): InvalidInputError {
  const [first] = problems;
  const error = new InvalidInputError();
  error.code = "INVALID_INPUT";
  error.path = [...(first?.path ?? [])];
  error.message =
    problems.length === 1
      ? `${first!.path.join(".")}: ${first!.message}`
      : `${problems.length} problems in the request; first: ${first!.path.join(".")}: ${first!.message}`;
  error.problems = problems.map((p) => Object.assign(new InputProblem(), { path: [...p.path], message: p.message }));
  return error;
}

/** One previewed request for GraphQL, every configured secret scrubbed from it (the Authorization header is already redacted). */
export function toPreviewedRequest(request: PreviewedRequest, scrub: (text: string) => string): PreviewedRequestObject {
  return Object.assign(new PreviewedRequestObject(), {
    method: request.method,
    url: scrub(request.url),
    headers: Object.entries(request.headers).map(([name, value]) => Object.assign(new HttpHeader(), { name, value: scrub(value) })),
    body: request.body === undefined ? null : scrub(request.body),
    lookup: request.lookup,
  });
}
