import type { UpdateCommand } from "../../domain/command.js";
import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import type { DeliveryWarning } from "../../domain/results.js";
import {
  characterLength,
  elements,
  formatIsoDateTime,
  isListValue,
  type AttributeValue,
  type ScalarKind,
  type ScalarValue,
} from "../../domain/values.js";

/** Carnival's documented limits (users endpoint). */
export const LIMITS = {
  maxStringLength: 255,
  maxArrayLength: 50,
  maxKeyLength: 255,
  maxAttributesPerDevice: 50,
  /** The documented range is symmetric: −2,147,483,647 … 2,147,483,647. */
  maxInteger: 2_147_483_647,
  maxFloat: 3.4028234663852886e38,
} as const;

export type CarnivalType = "integer" | "float" | "string" | "date" | "boolean";
export type CarnivalScalar = number | string | boolean;
export interface CarnivalAttribute {
  readonly type: CarnivalType;
  readonly value: CarnivalScalar | CarnivalScalar[];
}
export interface CarnivalUserBody {
  readonly user: { readonly custom: Record<string, CarnivalAttribute> };
}

export interface CarnivalRequest {
  readonly userId: string;
  readonly body: CarnivalUserBody;
  /** Sent key → the attribute name the caller used. */
  readonly keyOrigins: ReadonlyMap<string, string>;
  readonly warnings: readonly DeliveryWarning[];
}

const TYPE_OF: Record<ScalarKind, CarnivalType> = {
  int: "integer",
  float: "float",
  string: "string",
  dateTime: "date",
  boolean: "boolean",
};

const VENDOR = "carnival";

/**
 * Carnival's key rules, applied by us so that the caller learns the key Carnival will store:
 * surrounding spaces dropped (the doc's example drops the trailing one too), spaces and dots
 * become "_", any other character outside letters, digits, "_" and "-" is removed.
 * Truncation and silent discarding are not applied: such keys are rejected instead.
 */
export function normalizeKey(key: string): string {
  return key
    .replace(/^ +| +$/g, "")
    .replace(/[ .]/g, "_")
    .replace(/[^A-Za-z0-9_-]/g, "");
}

/** Maps the command to Carnival's wire request, or explains every part Carnival would lose. */
export function buildRequest(command: UpdateCommand): { ok: true; request: CarnivalRequest } | { ok: false; failures: VendorFailure[] } {
  const failures: VendorFailure[] = [];
  const warnings: DeliveryWarning[] = [];
  const custom: Record<string, CarnivalAttribute> = {};
  const keyOrigins = new Map<string, string>();

  if (command.operations.length > LIMITS.maxAttributesPerDevice) {
    failures.push(
      reject(
        `Carnival keeps at most ${LIMITS.maxAttributesPerDevice} custom attributes per device and discards new ones beyond that; this update sets ${command.operations.length}`,
      ),
    );
  }

  for (const operation of command.operations) {
    if (operation.kind !== "SET") continue; // the capability check has already refused the rest
    const name = operation.attribute;
    const key = normalizeKey(name);
    if (key.length === 0) {
      failures.push(reject(`Carnival would discard the key "${name}": it has no letter, digit, "_" or "-"`, name));
      continue;
    }
    if (key.length > LIMITS.maxKeyLength) {
      failures.push(
        reject(`Carnival truncates keys to ${LIMITS.maxKeyLength} characters; "${name}" has ${key.length} after normalization`, name),
      );
      continue;
    }
    const clash = keyOrigins.get(key);
    if (clash !== undefined) {
      failures.push(reject(`"${name}" and "${clash}" both become the Carnival key "${key}"; one would overwrite the other`, name));
      continue;
    }
    const mapped = mapValue(name, operation.value, warnings);
    if ("failure" in mapped) {
      failures.push(mapped.failure);
      continue;
    }
    if (key !== name) {
      warnings.push({
        code: "KEY_NORMALIZED",
        attribute: name,
        message: `Carnival keys allow only letters, digits, "_" and "-": "${name}" was sent as "${key}"`,
      });
    }
    keyOrigins.set(key, name);
    custom[key] = mapped.attribute;
  }

  if (failures.length > 0) return { ok: false, failures };
  return { ok: true, request: { userId: command.userId, body: { user: { custom } }, keyOrigins, warnings } };
}

function mapValue(
  name: string,
  value: AttributeValue,
  warnings: DeliveryWarning[],
): { attribute: CarnivalAttribute } | { failure: VendorFailure } {
  const items = elements(value);
  const list = isListValue(value);
  if (list && items.length > LIMITS.maxArrayLength) {
    return { failure: reject(`Carnival truncates arrays to ${LIMITS.maxArrayLength} elements; got ${items.length}`, name) };
  }
  const type = TYPE_OF[elementKindOf(value)];
  if (list && type === "boolean") {
    return { failure: reject("Carnival does not accept boolean arrays", name) };
  }
  const out: CarnivalScalar[] = [];
  for (const item of items) {
    const result = mapScalar(name, item, warnings);
    if ("failure" in result) return result;
    out.push(result.value);
  }
  return { attribute: { type, value: list ? out : out[0]! } };
}

/** The kind of a scalar, or of a list's elements. */
function elementKindOf(value: AttributeValue): ScalarKind {
  return value.kind.replace(/List$/, "") as ScalarKind;
}

function mapScalar(name: string, item: ScalarValue, warnings: DeliveryWarning[]): { value: CarnivalScalar } | { failure: VendorFailure } {
  switch (item.kind) {
    case "string": {
      const length = characterLength(item.value);
      if (length > LIMITS.maxStringLength) {
        return { failure: reject(`Carnival truncates strings to ${LIMITS.maxStringLength} characters; got ${length}`, name) };
      }
      return { value: item.value };
    }
    case "int":
      if (Math.abs(item.value) > LIMITS.maxInteger) {
        return {
          failure: reject(`Carnival discards integers outside −${LIMITS.maxInteger} … ${LIMITS.maxInteger}; got ${item.value}`, name),
        };
      }
      return { value: item.value };
    case "float": {
      const single = Math.fround(item.value);
      if (!Number.isFinite(single) || Math.abs(item.value) > LIMITS.maxFloat) {
        return { failure: reject(`Carnival stores single-precision floats; ${item.value} is out of their range`, name) };
      }
      if (single === 0 && item.value !== 0) {
        return { failure: reject(`Carnival stores single-precision floats; ${item.value} would become 0`, name) };
      }
      if (Number(single.toPrecision(7)) !== item.value && !warnings.some((w) => w.attribute === name && w.code === "FLOAT_PRECISION")) {
        warnings.push({
          code: "FLOAT_PRECISION",
          attribute: name,
          message: `Carnival stores single-precision floats: ${item.value} is kept as about ${single.toPrecision(7)}`,
        });
      }
      return { value: item.value };
    }
    case "boolean":
      return { value: item.value };
    case "dateTime":
      return { value: formatIsoDateTime(item.value) };
  }
}

function reject(message: string, attribute?: string): VendorFailure {
  return vendorFailure("VALUE_REJECTED", VENDOR, message, {
    ...(attribute === undefined ? {} : { attribute, operation: "SET" as const }),
  });
}
