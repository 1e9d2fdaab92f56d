import type { DeliveryRecord } from "./types.js";

/**
 * A delivery record as JSON text and back, losslessly: a queued update is sent hours later exactly
 * as it was validated. Plain JSON would turn its Date values (dateTime attributes, vendor options)
 * into strings a mapper no longer recognizes, and -0 into 0; both are tagged here. So is a string
 * that is not well-formed Unicode (a lone surrogate, which validation lets through in attribute
 * values, and a clipped vendor message may end with): JSON writes it as an escape (`\ud800`) that
 * Redis's Lua JSON reader refuses, and RedisDeliveryStore's scripts read the records of a lane.
 */
export function encodeRecord(record: DeliveryRecord): string {
  return JSON.stringify(record, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = this[key];
    if (original instanceof Date) return { [DATE]: original.toISOString() };
    if (typeof original === "number" && Object.is(original, -0)) return { [NEGATIVE_ZERO]: true };
    if (typeof value === "string" && !value.isWellFormed())
      return { [UTF16]: Array.from({ length: value.length }, (_, i) => value.charCodeAt(i)) };
    return value;
  });
}

export function decodeRecord(text: string): DeliveryRecord {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === DATE) return new Date((value as Record<string, string>)[DATE]!);
      if (keys.length === 1 && keys[0] === NEGATIVE_ZERO) return -0;
      if (keys.length === 1 && keys[0] === UTF16) return fromCodeUnits((value as Record<string, number[]>)[UTF16]!);
    }
    return value;
  }) as DeliveryRecord;
}

/** Keys no validated update can contain: attribute names live in values, never as object keys here. */
const DATE = "$date";
const NEGATIVE_ZERO = "$-0";
const UTF16 = "$utf16";

function fromCodeUnits(units: readonly number[]): string {
  let text = "";
  // In slices: a spread of a long string's units would pass the engine's argument limit.
  for (let at = 0; at < units.length; at += 8_192) text += String.fromCharCode(...units.slice(at, at + 8_192));
  return text;
}
