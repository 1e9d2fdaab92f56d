import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import type { VendorProfile } from "../../domain/profile-read.js";
import type { ProfileField, ProfileFields } from "../../domain/profile.js";
import type { DeliveryWarning } from "../../domain/results.js";
import type { AttributeValue } from "../../domain/values.js";
import type { UnknownAttributePolicy, UserComConfig } from "./config.js";
import { PROFILE_WIRE_FIELDS, findKnownAttribute, standardName, type PutStep, type SentAttribute } from "./mapper.js";

const VENDOR = "usercom";

/** A user object as User.com returns it from GET/PUT users-by-id: an object with an integer `id`. */
export interface UserComUser {
  readonly id: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export function asUser(json: unknown): UserComUser | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const body = json as Record<string, unknown>;
  return Number.isSafeInteger(body.id) ? { id: body.id as number, body } : undefined;
}

export interface StoredAttribute {
  readonly name: string;
  readonly nameStd?: string;
  readonly value: unknown;
}

/** The `attributes` array (`[{name, name_std, value, id}]`), or undefined when the object has none. */
export function storedAttributes(user: UserComUser): StoredAttribute[] | undefined {
  const raw = user.body.attributes;
  if (!Array.isArray(raw)) return undefined;
  const out: StoredAttribute[] = [];
  for (const item of raw) {
    if (typeof item !== "object" || item === null) continue;
    const { name, name_std: nameStd, value } = item as Record<string, unknown>;
    const display = typeof name === "string" && name.length > 0 ? name : typeof nameStd === "string" ? nameStd : undefined;
    if (display === undefined) continue;
    out.push({ name: display, ...(typeof nameStd === "string" && nameStd.length > 0 ? { nameStd } : {}), value });
  }
  return out;
}

/** Tag names from `tags` (`[{name, id}]` in answers; plain strings tolerated). */
export function storedTags(user: UserComUser): string[] | undefined {
  const raw = user.body.tags;
  if (!Array.isArray(raw)) return undefined;
  return raw.flatMap((tag): string[] => {
    if (typeof tag === "string") return [tag];
    if (typeof tag === "object" && tag !== null && typeof (tag as { name?: unknown }).name === "string")
      return [(tag as { name: string }).name];
    return [];
  });
}

/** The stored attribute a sent key landed in: by `name_std`, by display name, or by the standardized key. */
export function findStored(attributes: readonly StoredAttribute[], key: string): StoredAttribute | undefined {
  const std = standardName(key);
  return attributes.find((a) => a.nameStd === key) ?? attributes.find((a) => a.name === key) ?? attributes.find((a) => a.nameStd === std);
}

/** The name read-back reports: `name_std`, the key writes use, so that a read matches the write. */
export function reportedName(attribute: StoredAttribute): string {
  return attribute.nameStd ?? attribute.name;
}

/** The lists an answer must carry for `verifyPut` to judge it; names what is missing, if anything. */
export function missingLists(step: PutStep, user: UserComUser): string | undefined {
  const missing = [
    ...(step.attributes.length > 0 && storedAttributes(user) === undefined ? ["an `attributes` list"] : []),
    ...(step.tags.length > 0 && storedTags(user) === undefined ? ["a `tags` list"] : []),
  ];
  return missing.length > 0 ? `the user object with ${missing.join(" and ")}` : undefined;
}

/**
 * Compares the PUT's answer with what was sent (once `missingLists` found the lists present).
 * User.com answers 200 with the whole user, so an attribute it ignored (undefined under the v2
 * rule) or a value it changed shows up here instead of passing as success.
 */
export function verifyPut(
  step: PutStep,
  user: UserComUser,
  policy: UnknownAttributePolicy,
  httpStatus: number,
): { failures: VendorFailure[]; warnings: DeliveryWarning[] } {
  const failures: VendorFailure[] = [];
  const warnings: DeliveryWarning[] = [];
  const fail = (category: "VALUE_REJECTED" | "ATTRIBUTE_NOT_DEFINED", message: string, attribute: string, operation?: "SET") =>
    failures.push(
      vendorFailure(category, VENDOR, message, {
        httpStatus,
        attribute,
        ...(operation === undefined ? {} : { operation }),
        retryable: false,
      }),
    );

  const attributes = storedAttributes(user) ?? [];
  for (const sent of step.attributes) {
    const stored = findStored(attributes, sent.key);
    if (!stored) {
      if (policy === "refuse") {
        fail(
          "ATTRIBUTE_NOT_DEFINED",
          `User.com accepted the update but does not hold "${sent.key}" afterwards: the attribute is not defined in the app, and undefined attributes are ignored`,
          sent.key,
          "SET",
        );
      } else {
        fail("VALUE_REJECTED", `User.com accepted the update but does not hold "${sent.key}" afterwards`, sent.key, "SET");
      }
      continue;
    }
    if (!sameValue(sent, stored.value)) {
      fail(
        "VALUE_REJECTED",
        `User.com stored "${sent.key}" as ${JSON.stringify(stored.value)}, not as the ${JSON.stringify(sent.value)} that was sent`,
        sent.key,
        "SET",
      );
      continue;
    }
    if (stored.nameStd !== undefined && stored.nameStd !== sent.key) {
      warnings.push({
        code: "ATTRIBUTE_KEY",
        attribute: sent.key,
        message: `User.com keeps "${sent.key}" under the key "${stored.nameStd}"; reading the profile back reports that name`,
      });
    }
  }

  for (const sent of step.profile) {
    const stored = user.body[sent.key];
    if (stored === undefined) continue; // not echoed: nothing to compare against
    if (stored === null || stored === "") {
      fail("VALUE_REJECTED", `User.com accepted the update but holds no ${sent.key} afterwards`, sent.field);
    } else if (stored !== sent.value) {
      warnings.push({
        code: "STORED_DIFFERENTLY",
        attribute: sent.field,
        message: `User.com stored ${sent.field} as ${JSON.stringify(stored)} (sent ${JSON.stringify(sent.value)})`,
      });
    }
  }

  if (step.tags.length > 0) {
    const tags = storedTags(user) ?? [];
    for (const tag of step.tags.filter((t) => !tags.includes(t))) {
      fail("VALUE_REJECTED", `User.com accepted the update but the user has no tag "${tag}" afterwards`, tag);
    }
  }
  return { failures, warnings };
}

function sameValue(sent: SentAttribute, stored: unknown): boolean {
  if (stored === sent.value) return true;
  if (typeof sent.value === "number") {
    // "fixed" attributes may come back as decimal text ("12.50").
    return (typeof stored === "number" || (typeof stored === "string" && stored.trim() !== "")) && Number(stored) === sent.value;
  }
  if (sent.kind === "dateTime" && typeof sent.value === "string" && typeof stored === "string") {
    if (/^\d{4}-\d{2}-\d{2}$/.test(sent.value)) {
      return stored === sent.value || Date.parse(stored) === Date.parse(`${sent.value}T00:00:00Z`);
    }
    const at = Date.parse(stored);
    return !Number.isNaN(at) && at === Date.parse(sent.value);
  }
  return false;
}

const PROFILE_FROM_WIRE = Object.entries(PROFILE_WIRE_FIELDS) as Array<[ProfileField, string]>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Maps a user object to the neutral profile; every normalization is listed in `notes`. */
export function toVendorProfile(customId: string, user: UserComUser, config: UserComConfig): VendorProfile {
  const notes: DeliveryWarning[] = [];
  const profile: ProfileFields = {};
  for (const [field, key] of PROFILE_FROM_WIRE) {
    const raw = user.body[key];
    if (raw === undefined || raw === null || raw === "") continue;
    if (typeof raw === "string") {
      profile[field] = raw;
    } else if (typeof raw === "number" || typeof raw === "boolean") {
      profile[field] = String(raw);
      notes.push({
        code: "FIELD_AS_TEXT",
        attribute: field,
        message: `User.com holds ${key} as ${typeof raw} ${String(raw)}; reported as text`,
      });
    } else {
      notes.push({
        code: "UNREADABLE_FIELD",
        attribute: field,
        message: `User.com holds ${key} as a structure, which a profile field cannot carry; left out`,
      });
    }
  }

  const attributes: Array<{ name: string; value: AttributeValue | null }> = [];
  for (const stored of storedAttributes(user) ?? []) {
    const name = reportedName(stored);
    const type = findKnownAttribute(config.knownAttributes, name)?.type ?? findKnownAttribute(config.knownAttributes, stored.name)?.type;
    const read = readValue(name, stored.value, type, notes);
    attributes.push({ name, value: read });
  }

  return { vendor: VENDOR, userId: customId, attributes, profile, tags: storedTags(user) ?? [], notes };
}

/**
 * User.com's JSON gives numbers, booleans and strings; dates and date-times come back as text.
 * A declared type (USERCOM_KNOWN_ATTRIBUTES) turns such text back into the neutral type.
 */
function readValue(name: string, raw: unknown, type: string | undefined, notes: DeliveryWarning[]): AttributeValue | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "boolean") return { kind: "boolean", value: raw };
  if (typeof raw === "number") {
    if (type === "float" || type === "fixed" || !Number.isSafeInteger(raw)) return { kind: "float", value: raw };
    return { kind: "int", value: raw };
  }
  if (typeof raw === "string") {
    if (type === "datetime" && ISO_DATE_TIME.test(raw) && !Number.isNaN(Date.parse(raw))) {
      return { kind: "dateTime", value: new Date(Date.parse(raw)) };
    }
    if (type === "date" && ISO_DATE.test(raw) && !Number.isNaN(Date.parse(raw))) {
      notes.push({
        code: "DATE_AS_MIDNIGHT",
        attribute: name,
        message: `User.com holds "${name}" as the date ${raw}; reported as midnight UTC`,
      });
      return { kind: "dateTime", value: new Date(`${raw}T00:00:00Z`) };
    }
    if ((type === "integer" || type === "float" || type === "fixed") && raw.trim() !== "" && Number.isFinite(Number(raw))) {
      const value = Number(raw);
      notes.push({
        code: "NUMBER_AS_TEXT",
        attribute: name,
        message: `User.com returned "${name}" as the text ${JSON.stringify(raw)}; reported as a number`,
      });
      return type === "integer" && Number.isSafeInteger(value) ? { kind: "int", value } : { kind: "float", value };
    }
    if (type === undefined && (ISO_DATE.test(raw) || ISO_DATE_TIME.test(raw))) {
      notes.push({
        code: "DATE_AS_STRING",
        attribute: name,
        message: `User.com returns dates as text and "${name}" has no declared type (USERCOM_KNOWN_ATTRIBUTES); reported as the string ${JSON.stringify(raw)}`,
      });
    }
    return { kind: "string", value: raw };
  }
  notes.push({
    code: "JSON_AS_STRING",
    attribute: name,
    message: `User.com holds "${name}" as a JSON structure, which the neutral model has no type for; reported as its JSON text`,
  });
  return { kind: "string", value: JSON.stringify(raw) };
}
