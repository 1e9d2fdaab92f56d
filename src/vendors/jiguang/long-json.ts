/**
 * JSON with 64-bit integers kept exact. Jiguang's CUID is a Java Long; `JSON.parse` and
 * `JSON.stringify` round anything past 2^53 (9223372036854775807 would become
 * 9223372036854775808), and Node 20 has neither `JSON.rawJSON` nor reviver source access.
 * Parsing is lossless-json's; only the choice of number type is ours.
 */
import { isInteger, parse } from "lossless-json";

/** A decimal Long as text: digits only, no sign, no leading zero (CUIDs are positive). */
export type LongText = string & { readonly __long: true };

const LONG_MAX = 9223372036854775807n;

/** The canonical positive Long, or `undefined` when the text is anything else. */
export function parseLong(text: string): LongText | undefined {
  if (!/^[1-9]\d{0,18}$/.test(text)) return undefined;
  return BigInt(text) <= LONG_MAX ? (text as LongText) : undefined;
}

/**
 * Parses JSON like `JSON.parse`, except that integers outside the safe range come back as
 * `bigint` instead of a rounded number. Throws `SyntaxError` on invalid input.
 */
export function parseJsonKeepingLongs(text: string): unknown {
  return parse(text, null, keepLongs);
}

function keepLongs(digits: string): number | bigint {
  const number = Number(digits);
  return isInteger(digits) && !Number.isSafeInteger(number) ? BigInt(digits) : number;
}

/**
 * `{"cuid":<digits>,"data":{...}}` with the CUID spliced in as a JSON integer, so that no digit
 * passes through a JS number. The CUID type guarantees the splice is a plain integer literal.
 */
export function serializeWithCuid(cuid: LongText, data: unknown): string {
  return `{"cuid":${cuid},"data":${JSON.stringify(data)}}`;
}

/** A JSON value read from a parsed object as a Long, accepting a JSON integer or a digit string. */
export function longFrom(value: unknown): LongText | undefined {
  if (typeof value === "bigint") return parseLong(value.toString());
  if (typeof value === "number") return Number.isSafeInteger(value) ? parseLong(String(value)) : undefined;
  if (typeof value === "string") return parseLong(value);
  return undefined;
}
