import type { AttributeValue } from "./values.js";

/** What an operation does to one custom attribute. */
export const OPERATION_KINDS = ["SET", "SET_ONCE", "INCREMENT", "ADD_TO_SET", "REMOVE_FROM_SET", "UNSET"] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export type ValuedOperationKind = Exclude<OperationKind, "UNSET">;

export type AttributeOperation =
  | { readonly kind: ValuedOperationKind; readonly attribute: string; readonly value: AttributeValue }
  | { readonly kind: "UNSET"; readonly attribute: string };

/**
 * Whether sending the operation twice leaves the same state as sending it once.
 * Decides whether an ambiguous failure (timeout, lost response) may be retried.
 */
export function isRepeatSafe(operation: AttributeOperation): boolean {
  return operation.kind !== "INCREMENT" && operation.kind !== "ADD_TO_SET";
}
