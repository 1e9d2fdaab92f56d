import type { UpdateCommand } from "../../domain/command.js";
import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import type { AttributeOperation, OperationKind } from "../../domain/operations.js";
import type { DeliveryWarning } from "../../domain/results.js";
import { formatIsoDateTime, type AttributeValue, type ValueKind } from "../../domain/values.js";
import {
  ATTRIBUTE_NAME_PATTERN,
  ATTRIBUTE_NAME_RULE,
  type AttributeCatalog,
  type AttributeDefinition,
  type AttributeType,
  type ProcessingRule,
} from "./catalog.js";
import { formatJiguangDateTime } from "./datetime.js";

/** A value as Jiguang takes it: NUMBER a JSON number, BOOL 0/1, DATETIME and STRING text, LIST strings. */
export type JiguangValue = number | string | readonly string[];

export interface MappingSettings {
  readonly catalog?: AttributeCatalog;
  readonly timeZone: string;
}

export interface JiguangWrite {
  /** attribute name → wire value, in operation order. */
  readonly data: Readonly<Record<string, JiguangValue>>;
  readonly warnings: readonly DeliveryWarning[];
}

const VENDOR = "jiguang";

/** The processing rule an operation needs, so that Jiguang does what the caller asked. */
export const RULE_FOR_OPERATION: Partial<Record<OperationKind, ProcessingRule>> = {
  SET: "overwrite",
  SET_ONCE: "once",
  INCREMENT: "accumulate",
  ADD_TO_SET: "append",
};

/** The operation that does what each rule does, for messages. */
const OPERATION_FOR_RULE: Record<ProcessingRule, OperationKind> = {
  overwrite: "SET",
  once: "SET_ONCE",
  accumulate: "INCREMENT",
  append: "ADD_TO_SET",
};

/** Value kinds each attribute type takes. A single string may be appended to a LIST (it becomes one element). */
const KINDS_FOR_TYPE: Record<AttributeType, readonly ValueKind[]> = {
  NUMBER: ["int", "float"],
  STRING: ["string"],
  BOOL: ["boolean"],
  DATETIME: ["dateTime"],
  LIST: ["stringList"],
};

/**
 * Maps one command to Jiguang's `data` object, or explains every operation Jiguang would not
 * apply as asked. Every check happens here, before any request (CUID look-up included) is made.
 */
export function buildWrite(
  command: UpdateCommand,
  settings: MappingSettings,
): { ok: true; write: JiguangWrite } | { ok: false; failures: VendorFailure[] } {
  const failures: VendorFailure[] = [];
  const warnings: DeliveryWarning[] = [];
  const data: Record<string, JiguangValue> = {};

  for (const operation of command.operations) {
    const { attribute, kind } = operation;
    const rule = RULE_FOR_OPERATION[kind];
    if (operation.kind === "UNSET" || rule === undefined) {
      // The capability check refuses these first; kept so the mapping is total.
      failures.push(vendorFailure("UNSUPPORTED_OPERATION", VENDOR, `Jiguang has no ${kind} operation`, { attribute, operation: kind }));
      continue;
    }
    if (!ATTRIBUTE_NAME_PATTERN.test(attribute)) {
      failures.push(
        vendorFailure(
          "ATTRIBUTE_NOT_DEFINED",
          VENDOR,
          `Jiguang attribute names use ${ATTRIBUTE_NAME_RULE}, so no attribute "${attribute}" can exist`,
          { attribute, operation: kind },
        ),
      );
      continue;
    }
    const definition = settings.catalog?.attributes.get(attribute);
    if (settings.catalog && !definition) {
      failures.push(
        vendorFailure(
          "ATTRIBUTE_NOT_DEFINED",
          VENDOR,
          `"${attribute}" is not declared in the Jiguang ${settings.catalog.source}; Jiguang only writes attributes created in its Data Center`,
          { attribute, operation: kind },
        ),
      );
      continue;
    }
    if (definition) {
      const problem = catalogProblem(operation, rule, definition);
      if (problem) {
        failures.push(problem);
        continue;
      }
    } else {
      warnings.push({
        code: "RULE_NOT_VERIFIED",
        attribute,
        message: `no Jiguang attribute catalog is configured: Jiguang applied "${attribute}"'s own processing rule, which may not be the ${rule} rule that ${kind} means`,
      });
    }
    const encoded = encodeValue(operation, settings.timeZone, warnings);
    if ("failure" in encoded) {
      failures.push(encoded.failure);
      continue;
    }
    if (kind === "ADD_TO_SET") {
      warnings.push({
        code: "APPEND_NOT_DEDUPLICATED",
        attribute,
        message: "Jiguang appends to the list; whether it skips values the list already holds is not documented",
      });
    }
    data[attribute] = encoded.value;
  }

  if (failures.length > 0) return { ok: false, failures };
  return { ok: true, write: { data, warnings } };
}

function catalogProblem(
  operation: Extract<AttributeOperation, { value: AttributeValue }>,
  rule: ProcessingRule,
  definition: AttributeDefinition,
): VendorFailure | undefined {
  const { attribute, kind, value } = operation;
  if (definition.rule !== rule) {
    return vendorFailure(
      "UNSUPPORTED_OPERATION",
      VENDOR,
      `"${attribute}" has the ${definition.rule} rule in Jiguang, so a write ${ruleEffect(definition.rule)}; ${kind} needs an attribute with the ${rule} rule (use ${OPERATION_FOR_RULE[definition.rule]} for this one)`,
      { attribute, operation: kind },
    );
  }
  const accepted =
    definition.type === "LIST" && kind === "ADD_TO_SET" ? ["string", ...KINDS_FOR_TYPE.LIST] : KINDS_FOR_TYPE[definition.type];
  if (!accepted.includes(value.kind)) {
    return vendorFailure(
      "VALUE_REJECTED",
      VENDOR,
      `"${attribute}" is a ${definition.type} attribute in Jiguang; it takes ${accepted.join(" or ")} values, not ${value.kind}`,
      { attribute, operation: kind },
    );
  }
  return undefined;
}

function ruleEffect(rule: ProcessingRule): string {
  switch (rule) {
    case "once":
      return "only takes effect while it has no value";
    case "overwrite":
      return "replaces its value";
    case "accumulate":
      return "adds to its value";
    case "append":
      return "appends to its list";
  }
}

function encodeValue(
  operation: Extract<AttributeOperation, { value: AttributeValue }>,
  timeZone: string,
  warnings: DeliveryWarning[],
): { value: JiguangValue } | { failure: VendorFailure } {
  const { attribute, kind, value } = operation;
  switch (value.kind) {
    case "int":
    case "float":
      return { value: value.value };
    case "string":
      // Appending one string adds one element to the list.
      return { value: kind === "ADD_TO_SET" ? [value.value] : value.value };
    case "boolean":
      // Jiguang's BOOL takes only the integers 0 and 1.
      return { value: value.value ? 1 : 0 };
    case "dateTime": {
      const zoned = formatJiguangDateTime(value.value, timeZone);
      if (!zoned.ok) {
        return {
          failure: vendorFailure("VALUE_REJECTED", VENDOR, `${formatIsoDateTime(value.value)}: ${zoned.reason}`, {
            attribute,
            operation: kind,
          }),
        };
      }
      if (zoned.truncatedMs) {
        warnings.push({
          code: "DATETIME_PRECISION",
          attribute,
          message: `Jiguang date-times have whole seconds: ${formatIsoDateTime(value.value)} was sent as ${zoned.text} (${timeZone})`,
        });
      }
      if (zoned.ambiguous) {
        warnings.push({
          code: "DATETIME_AMBIGUOUS",
          attribute,
          message: `${formatIsoDateTime(value.value)} was sent as ${zoned.text}, a wall-clock time that occurs twice in ${timeZone}; Jiguang's format has no offset to tell which`,
        });
      }
      return { value: zoned.text };
    }
    case "stringList": {
      if (kind !== "ADD_TO_SET") return { value: value.value };
      const unique = [...new Set(value.value)];
      if (unique.length !== value.value.length) {
        warnings.push({
          code: "DUPLICATES_REMOVED",
          attribute,
          message: `ADD_TO_SET adds each value once: ${value.value.length - unique.length} repeated value(s) were left out of the request`,
        });
      }
      return { value: unique };
    }
    case "intList":
    case "floatList":
    case "booleanList":
    case "dateTimeList":
      return {
        failure: vendorFailure(
          "VALUE_REJECTED",
          VENDOR,
          `Jiguang LIST attributes hold strings; send a stringList instead of ${value.kind} (no conversion is made on your behalf)`,
          { attribute, operation: kind },
        ),
      };
  }
}
