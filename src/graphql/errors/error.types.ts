import { Field, Int, InterfaceType, ObjectType, registerEnumType } from "type-graphql";
import { FAILURE_CATEGORIES, type FailureCategory } from "../../domain/failures.js";
import { OPERATION_KINDS, type OperationKind } from "../../domain/operations.js";
import { Vendor } from "../vendor.enum.js";

const ERROR_CODES = [
  ...FAILURE_CATEGORIES,
  "INVALID_INPUT",
  "TOO_MANY_USER_IDS",
  "BULK_JOB_NOT_FOUND",
  "NOT_AUTHORIZED",
  "IDEMPOTENCY_KEY_REUSED",
  "IDEMPOTENCY_STORE_FULL",
  "SHARED_STATE_UNAVAILABLE",
  "IDEMPOTENCY_KEY_IN_PROGRESS",
  "ATTRIBUTE_DELIVERY_NOT_FOUND",
  "BULK_JOB_NOT_FINISHED",
  "NOTHING_TO_RETRY",
] as const;
export type ErrorCodeValue = (typeof ERROR_CODES)[number];
export const ErrorCode = Object.fromEntries(ERROR_CODES.map((code) => [code, code])) as {
  [K in ErrorCodeValue]: K;
};
registerEnumType(ErrorCode, {
  name: "AttributesErrorCode",
  description: "Machine-readable category of an error; every error type carries one.",
});

export const AttributeOperationKind = Object.fromEntries(OPERATION_KINDS.map((k) => [k, k])) as {
  [K in OperationKind]: K;
};
registerEnumType(AttributeOperationKind, {
  name: "AttributeOperationKind",
  description: "What an operation does to one custom attribute.",
  valuesConfig: {
    SET: { description: "Replace the attribute's value." },
    SET_ONCE: { description: "Set the value only if the attribute has none yet." },
    INCREMENT: { description: "Add a number to the attribute's value (a missing value counts as 0 where the vendor says so)." },
    ADD_TO_SET: { description: "Add the value to the attribute's set of values." },
    REMOVE_FROM_SET: { description: "Remove the value from the attribute's set of values." },
    UNSET: { description: "Remove the attribute. Takes no value." },
  },
});

@InterfaceType("AttributesError", { description: "Every error this subgraph returns as data implements AttributesError." })
export abstract class ErrorInterface {
  @Field(() => String, { description: "Human-readable explanation. Never contains credentials." })
  message!: string;

  @Field(() => ErrorCode)
  code!: ErrorCodeValue;
}

@InterfaceType("AttributesVendorError", {
  implements: ErrorInterface,
  description: "A delivery to one vendor failed, or was refused before anything was sent to it.",
})
export abstract class VendorErrorInterface extends ErrorInterface {
  @Field(() => Vendor)
  vendor!: string;

  @Field(() => Int, { nullable: true, description: "HTTP status the vendor answered with, if it answered." })
  httpStatus!: number | null;

  @Field(() => String, { nullable: true, description: "The vendor's own error code, unchanged." })
  vendorCode!: string | null;

  @Field(() => Boolean, {
    description:
      "Whether sending the same request again, unchanged, may succeed. False when a repeat could apply a change twice or cannot help.",
  })
  retryable!: boolean;

  @Field(() => Int, { nullable: true, description: "Seconds to wait before retrying, when known." })
  retryAfterSeconds!: number | null;

  @Field(() => String, { nullable: true, description: "The attribute, profile field or tag the error is about." })
  attribute!: string | null;

  @Field(() => AttributeOperationKind, { nullable: true })
  operation!: OperationKind | null;

  @Field(() => [VendorErrorInterface], {
    description: "Further errors of the same delivery, for example every other rejected attribute.",
  })
  relatedErrors!: VendorErrorInterface[];
}

type VendorErrorClass = new () => VendorErrorInterface;

function vendorErrorType(name: string, description: string): VendorErrorClass {
  @ObjectType(name, { implements: [ErrorInterface, VendorErrorInterface], description })
  class VendorErrorType extends VendorErrorInterface {}
  Object.defineProperty(VendorErrorType, "name", { value: name });
  return VendorErrorType;
}

/** One GraphQL type per failure category: the closed vocabulary clients switch on. */
export const VENDOR_ERROR_TYPES: Record<FailureCategory, VendorErrorClass> = {
  AUTHENTICATION_FAILED: vendorErrorType("AttributesAuthenticationFailedError", "The vendor rejected this subgraph's credentials."),
  PERMISSION_DENIED: vendorErrorType(
    "AttributesPermissionDeniedError",
    "The credentials are valid but may not perform this call, or the user is blocked.",
  ),
  USER_NOT_FOUND: vendorErrorType("AttributesVendorUserNotFoundError", "The vendor has no such user and this call does not create one."),
  ATTRIBUTE_NOT_DEFINED: vendorErrorType(
    "AttributeNotDefinedError",
    "The vendor requires attributes to be defined before use, and this one is not.",
  ),
  VALUE_REJECTED: vendorErrorType(
    "AttributesValueRejectedError",
    "A value, name or combination the vendor would refuse, truncate or discard. Nothing was changed for it.",
  ),
  UNSUPPORTED_OPERATION: vendorErrorType(
    "AttributesUnsupportedOperationError",
    "The vendor cannot perform this operation or value type. Nothing was sent to it.",
  ),
  RATE_LIMITED: vendorErrorType("AttributesRateLimitedError", "The vendor asked us to slow down; nothing was applied."),
  VENDOR_UNAVAILABLE: vendorErrorType("AttributesVendorUnavailableError", "The vendor failed, timed out or could not be reached."),
  VENDOR_NOT_CONFIGURED: vendorErrorType("AttributesVendorNotConfiguredError", "This deployment has no credentials for the vendor."),
  OUTCOME_UNKNOWN: vendorErrorType(
    "AttributesDeliveryOutcomeUnknownError",
    "The request may or may not have been applied (the vendor's answer was lost, or the process sending it stopped while it was in flight), and sending it again is not safe (an INCREMENT, for example), so it was not resent: check the user at the vendor before repeating it.",
  ),
  INTERNAL: vendorErrorType(
    "AttributesInternalDeliveryError",
    "The integration failed unexpectedly; whether the change was applied is unknown. The incident is logged.",
  ),
};

@ObjectType("AttributesInputProblem", { description: "One problem in the request, addressed by its field path." })
export class InputProblem {
  @Field(() => [String], { description: 'Path into the request, for example ["input", "operations", "2", "value"].' })
  path!: string[];

  @Field(() => String)
  message!: string;
}

@ObjectType("AttributesInvalidInputError", {
  implements: ErrorInterface,
  description: "The request is invalid; nothing was sent to any vendor.",
})
export class InvalidInputError extends ErrorInterface {
  @Field(() => [String], { description: "Path of the first problem." })
  path!: string[];

  @Field(() => [InputProblem], { description: "Every problem found, in request order." })
  problems!: InputProblem[];
}

@ObjectType("AttributesNotAuthorizedError", {
  implements: ErrorInterface,
  description:
    "The caller may not do this: no valid token, another user's attributes without the attributes:write:any scope, or bulk work without attributes:bulk. Nothing was sent.",
})
export class NotAuthorizedError extends ErrorInterface {
  @Field(() => String, { nullable: true, description: "The scope that would allow it, when one would." })
  requiredScope!: string | null;
}

@ObjectType("AttributesIdempotencyKeyReusedError", {
  implements: ErrorInterface,
  description: "This idempotency key was used with a different input within the window. Nothing was sent.",
})
export class IdempotencyKeyReusedError extends ErrorInterface {
  @Field(() => String)
  idempotencyKey!: string;
}

@ObjectType("AttributesSharedStateUnavailableError", {
  implements: ErrorInterface,
  description:
    "Shared mode: the state this subgraph shares between its replicas (Redis) cannot be reached right now. Nothing was done; try again after retryAfterSeconds.",
})
export class SharedStateUnavailableError extends ErrorInterface {
  @Field(() => Int, { description: "Seconds after which trying again may succeed." })
  retryAfterSeconds!: number;
}

/** Redis (shared mode) is unreachable: nothing was done. */
export function sharedStateUnavailable(): SharedStateUnavailableError {
  return Object.assign(new SharedStateUnavailableError(), {
    code: "SHARED_STATE_UNAVAILABLE" as const,
    message: "the state this subgraph shares between its replicas (Redis) cannot be reached right now; nothing was done, try again shortly",
    retryAfterSeconds: 1,
  });
}

@ObjectType("AttributesIdempotencyStoreFullError", {
  implements: ErrorInterface,
  description:
    "The subgraph holds as many idempotency keys as it may (IDEMPOTENCY_MAX_KEYS), and it forgets none before its window ends, so this new key is refused. Nothing was sent; try again after retryAfterSeconds, or send without a key.",
})
export class IdempotencyStoreFullError extends ErrorInterface {
  @Field(() => Int, { description: "Seconds until the oldest key's window ends and a key is free." })
  retryAfterSeconds!: number;
}

@ObjectType("AttributesIdempotencyKeyInProgressError", {
  implements: ErrorInterface,
  description:
    "Another call with this idempotency key and input holds the key (shared mode: on another replica). Nothing was sent. Either it is still running (outcomeUnknown false: ask again after retryAfterSeconds for its outcome), or it stopped without recording one (outcomeUnknown true).",
})
export class IdempotencyKeyInProgressError extends ErrorInterface {
  @Field(() => String)
  idempotencyKey!: string;

  @Field(() => Boolean, {
    description:
      "True when the call holding the key stopped renewing its claim without recording an outcome (its replica was killed or cut off): what it sent is unknown, so nothing is sent again under this key, and this answer repeats until the key's window ends. Read the attributes back, and use a new key to send again.",
  })
  outcomeUnknown!: boolean;

  @Field(() => Int, {
    description:
      "Seconds to wait: for the running call's outcome (outcomeUnknown false), or until the key's window ends and it is forgotten (true).",
  })
  retryAfterSeconds!: number;
}

export function notAuthorized(message: string, requiredScope: string | null = null): NotAuthorizedError {
  return Object.assign(new NotAuthorizedError(), { code: "NOT_AUTHORIZED" as const, message, requiredScope });
}
