import type { UpdateCommand } from "../../domain/command.js";
import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import type { OperationKind } from "../../domain/operations.js";
import { setProfileFields, type ProfileField } from "../../domain/profile.js";
import type { DeliveryWarning } from "../../domain/results.js";
import { characterLength, formatIsoDateTime, type AttributeValue } from "../../domain/values.js";
import { pathSegmentProblem } from "../../http/path.js";
import type { KnownAttribute, UserComConfig, UserComValueType } from "./config.js";

const VENDOR = "usercom";

export const LIMITS = {
  /** Attribute names: "at least 1 character, and cannot be longer than 255" (mass update page). */
  maxAttributeNameLength: 255,
  /** first_name and last_name (update-user page). */
  maxNameLength: 40,
} as const;

/** Neutral profile field → User.com's standard attribute. `locale` has none (see capabilities). */
export const PROFILE_WIRE_FIELDS: Partial<Record<ProfileField, string>> = {
  email: "email",
  firstName: "first_name",
  lastName: "last_name",
  phone: "phone_number",
  city: "city",
  region: "region",
  country: "country",
  timezone: "timezone",
};

/**
 * Top-level keys of the user object that are not custom attributes. A custom attribute under one
 * of these names would overwrite a standard field, or be ignored as read-only (DRF drops unknown
 * read-only keys without a word), so such names are refused.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  // writable standard attributes (update-user page, v1 and v2)
  "assigned_to",
  "city",
  "company_id",
  "company_custom_id",
  "country",
  "custom_id",
  "email",
  "facebook_url",
  "first_name",
  "gender",
  "google_url",
  "gravatar_url",
  "last_name",
  "linkedin_url",
  "notifications",
  "phone_number",
  "region",
  "score",
  "status",
  "timezone",
  "twitter_url",
  "unsubscribed",
  "user_id",
  // the request's own structure and read-only fields of the user object
  "tags",
  "attributes",
  "id",
  "key",
  "name",
  "lists",
  "companies",
  "chat_id",
  "created_at",
  "updated_at",
  "last_seen",
  "first_seen",
  "last_contacted",
  "last_ip",
  "page_views",
  "browser",
  "browser_language",
  "os_type",
  "resolution",
]);

/**
 * An approximation of User.com's `name_std` ("My string attr" → "my_string_attr"), used to match
 * names the way User.com may and to catch collisions; the real rule is not documented.
 */
export function standardName(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "") // "é" → "e", as slug functions do
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "_")
    .replace(/^_+|_+$/g, "");
}

/** The catalog entry for a name, matched exactly or through its `name_std` form. */
export function findKnownAttribute(catalog: readonly KnownAttribute[], name: string): KnownAttribute | undefined {
  const std = standardName(name);
  return catalog.find((entry) => entry.name === name) ?? catalog.find((entry) => standardName(entry.name) === std);
}

export type WireScalar = string | number | boolean;

export interface SentAttribute {
  /** The key sent, which is the caller's attribute name unchanged. */
  readonly key: string;
  readonly value: WireScalar;
  /** The neutral kind, so the echo can be compared by meaning (instants, numbers). */
  readonly kind: AttributeValue["kind"];
}

export interface SentProfileField {
  readonly field: ProfileField;
  readonly key: string;
  readonly value: string;
}

export interface PutStep {
  readonly body: Readonly<Record<string, unknown>>;
  readonly attributes: readonly SentAttribute[];
  readonly profile: readonly SentProfileField[];
  readonly tags: readonly string[];
}

/** What one update needs, in the order it is sent: the PUT, then attribute removals, then tag removals. */
export interface UpdatePlan {
  readonly customId: string;
  readonly put?: PutStep;
  readonly removeAttributes: readonly string[];
  readonly removeTags: readonly string[];
  readonly warnings: readonly DeliveryWarning[];
  /** Wire key → the name the caller used, for failures about one field. */
  readonly origins: ReadonlyMap<string, { readonly name: string; readonly operation?: OperationKind }>;
}

export type Mapped<T> = { ok: true; value: T } | { ok: false; failures: VendorFailure[] };

/** Custom ids that User.com's URL paths cannot carry (see `pathSegmentProblem`). */
export function customIdProblem(customId: string): string | undefined {
  const problem = pathSegmentProblem(customId);
  return problem && `the custom id ${problem} (User.com addresses users as /users-by-id/<custom id>/)`;
}

/**
 * Maps a command to User.com's calls, or explains every part User.com would refuse or lose. Only
 * rules that hold for any user are checked here (see `customIdProblem` for the user's id), so a
 * bulk job can ask once for all of its users.
 */
export function buildUpdatePlan(command: UpdateCommand, config: UserComConfig): Mapped<UpdatePlan> {
  const failures: VendorFailure[] = [];
  const warnings: DeliveryWarning[] = [];
  const origins = new Map<string, { name: string; operation?: OperationKind }>();

  const body: Record<string, unknown> = {};
  const profile: SentProfileField[] = [];
  // In the neutral field order, so the body does not depend on the order the caller wrote.
  for (const field of setProfileFields(command.profile)) {
    const value = command.profile[field]!;
    const key = PROFILE_WIRE_FIELDS[field];
    if (key === undefined) {
      // The capability check refuses these first; kept so the mapper never drops a field.
      failures.push(vendorFailure("UNSUPPORTED_OPERATION", VENDOR, `User.com has no profile field for ${field}`, { attribute: field }));
      continue;
    }
    if ((key === "first_name" || key === "last_name") && characterLength(value) > LIMITS.maxNameLength) {
      failures.push(
        vendorFailure(
          "VALUE_REJECTED",
          VENDOR,
          `User.com allows at most ${LIMITS.maxNameLength} characters in ${key}; ${field} has ${characterLength(value)}`,
          { attribute: field },
        ),
      );
      continue;
    }
    body[key] = value;
    profile.push({ field, key, value });
    origins.set(key, { name: field });
  }

  const attributes: SentAttribute[] = [];
  const removeAttributes: string[] = [];
  const byStandardName = new Map<string, string>();
  for (const operation of command.operations) {
    const name = operation.attribute;
    const nameFailure = attributeNameProblem(name, operation.kind);
    if (nameFailure) {
      failures.push(nameFailure);
      continue;
    }
    const std = standardName(name);
    const clash = byStandardName.get(std);
    if (clash !== undefined) {
      failures.push(
        reject(`"${name}" and "${clash}" may be the same User.com attribute ("${std}"); send one of them`, name, operation.kind),
      );
      continue;
    }
    byStandardName.set(std, name);
    if (operation.kind === "UNSET") {
      const unknown = unknownAttributeFailure(name, config, "UNSET");
      if (unknown) failures.push(unknown);
      else removeAttributes.push(name);
      origins.set(name, { name, operation: "UNSET" });
      continue;
    }
    if (operation.kind !== "SET") {
      // The capability check refuses these first; kept so the mapper never drops an operation.
      failures.push(
        vendorFailure("UNSUPPORTED_OPERATION", VENDOR, `User.com does not support ${operation.kind}`, {
          attribute: name,
          operation: operation.kind,
        }),
      );
      continue;
    }
    const mapped = mapCustomValue(name, operation.value, config);
    if (!mapped.ok) {
      failures.push(...mapped.failures);
      continue;
    }
    warnings.push(...mapped.value.warnings);
    body[name] = mapped.value.value;
    attributes.push({ key: name, value: mapped.value.value, kind: operation.value.kind });
    origins.set(name, { name, operation: "SET" });
  }

  const tags = [...command.tags.add];
  if (tags.length > 0) {
    body.tags = tags;
    origins.set("tags", { name: "tags" });
  }

  if (failures.length > 0) return { ok: false, failures };
  const put = Object.keys(body).length > 0 ? { put: { body, attributes, profile, tags } } : {};
  return {
    ok: true,
    value: { customId: command.userId, ...put, removeAttributes, removeTags: [...command.tags.remove], warnings, origins },
  };
}

/** Name rules for custom attributes, shared by single updates and mass updates. */
export function attributeNameProblem(name: string, operation: OperationKind): VendorFailure | undefined {
  const length = characterLength(name);
  if (length < 1 || length > LIMITS.maxAttributeNameLength) {
    const shown = length > 40 ? `${Array.from(name).slice(0, 40).join("")}…` : name;
    return reject(
      `User.com attribute names have 1 to ${LIMITS.maxAttributeNameLength} characters; "${shown}" has ${length}`,
      name,
      operation,
    );
  }
  const std = standardName(name);
  if (RESERVED_KEYS.has(name) || RESERVED_KEYS.has(std)) {
    return reject(
      `"${name}" is a standard field of User.com's user object; as a custom attribute it would overwrite or be confused with that field (use the profile input for standard fields)`,
      name,
      operation,
    );
  }
  return undefined;
}

/** Under the "refuse" policy with a declared catalog, an undeclared name fails before anything is sent. */
export function unknownAttributeFailure(name: string, config: UserComConfig, operation: OperationKind): VendorFailure | undefined {
  if (config.unknownAttributes !== "refuse" || config.knownAttributes.length === 0) return undefined;
  if (findKnownAttribute(config.knownAttributes, name)) return undefined;
  return vendorFailure(
    "ATTRIBUTE_NOT_DEFINED",
    VENDOR,
    `"${name}" is not among the custom attributes declared for this User.com app (USERCOM_KNOWN_ATTRIBUTES); User.com only accepts values for attributes that exist`,
    { attribute: name, operation, retryable: false },
  );
}

/**
 * One value as User.com takes it: JSON boolean, number or string; date-times as ISO 8601 in UTC.
 * With a declared type, the value must fit it (a `date` attribute takes a midnight-UTC date-time,
 * sent as YYYY-MM-DD, since sending a time would either be refused or lose the time).
 */
export function mapCustomValue(
  name: string,
  value: AttributeValue,
  config: UserComConfig,
): Mapped<{ value: WireScalar; warnings: DeliveryWarning[] }> {
  const unknown = unknownAttributeFailure(name, config, "SET");
  if (unknown) return { ok: false, failures: [unknown] };
  const known = findKnownAttribute(config.knownAttributes, name);
  const type = known?.type;
  const warnings: DeliveryWarning[] = [];
  const mismatch = (expected: string): Mapped<never> => ({
    ok: false,
    failures: [reject(`User.com's attribute "${known?.name ?? name}" is of type ${type}; ${expected}, got ${value.kind}`, name, "SET")],
  });
  switch (value.kind) {
    case "string":
      if (type !== undefined && type !== "string") return mismatch(`it takes ${describeType(type)}`);
      return { ok: true, value: { value: value.value, warnings } };
    case "boolean":
      if (type !== undefined && type !== "boolean") return mismatch(`it takes ${describeType(type)}`);
      return { ok: true, value: { value: value.value, warnings } };
    case "int":
      if (type !== undefined && type !== "integer" && type !== "float" && type !== "fixed")
        return mismatch(`it takes ${describeType(type)}`);
      return { ok: true, value: { value: value.value, warnings } };
    case "float":
      if (type !== undefined && type !== "float" && type !== "fixed") return mismatch(`it takes ${describeType(type)}`);
      if (Number.isInteger(value.value) && type === undefined && config.unknownAttributes === "create") {
        warnings.push({
          code: "INTEGRAL_FLOAT",
          attribute: name,
          message: `JSON has one number type: ${value.value} goes out as ${JSON.stringify(value.value)}, so if User.com creates "${name}" now it may create it as an integer attribute`,
        });
      }
      return { ok: true, value: { value: value.value, warnings } };
    case "dateTime": {
      if (type === "date") {
        const iso = formatIsoDateTime(value.value);
        if (!iso.endsWith("T00:00:00Z")) {
          return {
            ok: false,
            failures: [
              reject(
                `User.com's attribute "${known?.name ?? name}" is a date without time; ${iso} has a time of day that would be lost (send midnight UTC)`,
                name,
                "SET",
              ),
            ],
          };
        }
        return { ok: true, value: { value: iso.slice(0, 10), warnings } };
      }
      if (type !== undefined && type !== "datetime") return mismatch(`it takes ${describeType(type)}`);
      return { ok: true, value: { value: formatIsoDateTime(value.value), warnings } };
    }
    default:
      return {
        ok: false,
        failures: [
          vendorFailure("UNSUPPORTED_OPERATION", VENDOR, `User.com custom attributes have no list type; got ${value.kind}`, {
            attribute: name,
            operation: "SET",
          }),
        ],
      };
  }
}

function describeType(type: UserComValueType): string {
  switch (type) {
    case "boolean":
      return "a boolean";
    case "integer":
      return "an int";
    case "float":
    case "fixed":
      return "an int or float";
    case "string":
      return "a string";
    case "date":
      return "a dateTime at midnight UTC";
    case "datetime":
      return "a dateTime";
    case "json":
      return "JSON, which the neutral model cannot express";
  }
}

function reject(message: string, attribute: string, operation?: OperationKind): VendorFailure {
  return vendorFailure("VALUE_REJECTED", VENDOR, message, { attribute, ...(operation ? { operation } : {}) });
}
