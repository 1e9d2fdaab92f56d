/**
 * Typed attribute values, independent of GraphQL and of any vendor's wire format.
 * Every vendor mapping starts from these and must either represent a value exactly,
 * report a documented normalization as a warning, or reject it: never alter it silently.
 */
export const SCALAR_KINDS = ["string", "int", "float", "boolean", "dateTime"] as const;
export const LIST_KINDS = ["stringList", "intList", "floatList", "booleanList", "dateTimeList"] as const;
export const VALUE_KINDS = [...SCALAR_KINDS, ...LIST_KINDS] as const;

export type ScalarKind = (typeof SCALAR_KINDS)[number];
export type ListKind = (typeof LIST_KINDS)[number];
export type ValueKind = (typeof VALUE_KINDS)[number];

export type AttributeValue =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "boolean"; readonly value: boolean }
  | { readonly kind: "dateTime"; readonly value: Date }
  | { readonly kind: "stringList"; readonly value: readonly string[] }
  | { readonly kind: "intList"; readonly value: readonly number[] }
  | { readonly kind: "floatList"; readonly value: readonly number[] }
  | { readonly kind: "booleanList"; readonly value: readonly boolean[] }
  | { readonly kind: "dateTimeList"; readonly value: readonly Date[] };

export type ScalarValue = Extract<AttributeValue, { kind: ScalarKind }>;
export type ListValue = Extract<AttributeValue, { kind: ListKind }>;

const ELEMENT_KIND: Record<ListKind, ScalarKind> = {
  stringList: "string",
  intList: "int",
  floatList: "float",
  booleanList: "boolean",
  dateTimeList: "dateTime",
};

export function isListValue(value: AttributeValue): value is ListValue {
  return value.kind in ELEMENT_KIND;
}

/** The scalar values of a list, or the value itself as a one-element list. */
export function elements(value: AttributeValue): ScalarValue[] {
  if (!isListValue(value)) return [value];
  const kind = ELEMENT_KIND[value.kind];
  return (value.value as readonly unknown[]).map((v) => ({ kind, value: v }) as ScalarValue);
}

/**
 * ISO 8601 in UTC, without a fractional part when the instant has none, so that
 * `2012-04-23T18:25:00Z` goes out exactly as written in vendor documentation.
 */
export function formatIsoDateTime(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** Length in Unicode code points: vendors count characters, not UTF-16 units or bytes. */
export function characterLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
