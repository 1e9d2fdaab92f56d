import { unsupportedParts } from "../../domain/check.js";
import type { UpdateCommand } from "../../domain/command.js";
import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import { isRepeatSafe, type AttributeOperation } from "../../domain/operations.js";
import type { VendorProfile } from "../../domain/profile-read.js";
import type { ProfileField, ProfileFields } from "../../domain/profile.js";
import type { DeliveryWarning } from "../../domain/results.js";
import { formatIsoDateTime, type AttributeValue } from "../../domain/values.js";
import { leanplumCapabilities } from "./capabilities.js";
import { idProblem, nameProblem } from "./names.js";
import type { LeanplumEventAggregate, LeanplumOptions, LeanplumStateAggregate } from "./options.js";

export const VENDOR = "leanplum";

export type LeanplumScalar = string | number | boolean;
/** What one entry of `userAttributes` holds on the wire; `null` clears the attribute. */
export type LeanplumAttributeValue = LeanplumScalar | string[] | null;

export interface LeanplumAggregateWire {
  count?: number;
  countIncrement?: number;
  value?: number;
  valueIncrement?: number;
  /** Seconds since the UNIX epoch. */
  firstTime?: number;
  lastTime?: number;
}

export type CreateDisposition = "CreateIfNeeded" | "CreateNever";

/** The arguments of one setUserAttributes action, without credentials (the client adds them). */
export interface SetUserAttributesArgs {
  userId: string;
  deviceId?: string;
  createDisposition?: CreateDisposition;
  userAttributes?: Record<string, LeanplumAttributeValue>;
  userAttributeValuesToAdd?: Record<string, string>;
  userAttributeValuesToRemove?: Record<string, string>;
  userAttributeValuesToIncrement?: Record<string, number>;
  locale?: string;
  country?: string;
  region?: string;
  city?: string;
  timezone?: string;
  unsubscribeCategoriesToAdd?: string[];
  unsubscribeCategoriesToRemove?: string[];
  unsubscribeChannelsToAdd?: string;
  unsubscribeChannelsToRemove?: string;
  newUserId?: string;
  events?: Record<string, LeanplumAggregateWire>;
  states?: Record<string, LeanplumAggregateWire>;
  devMode?: boolean;
}

/** One setUserAttributes action, ready for a single call or for a `multi` batch. */
export interface LeanplumAction {
  readonly action: "setUserAttributes";
  readonly args: SetUserAttributesArgs;
  /** False when sending it twice differs from once (increments, re-identification): ambiguous failures are then not retryable. */
  readonly repeatSafe: boolean;
  /** Attribute names the action carries, to attribute Leanplum's messages to one of them. */
  readonly attributes: readonly string[];
}

export type BuildResult =
  { readonly ok: true; readonly action: LeanplumAction } | { readonly ok: false; readonly failures: VendorFailure[] };

/** Profile fields and their setUserAttributes argument (same names in Leanplum). */
export const PROFILE_ARGUMENTS = ["locale", "country", "region", "city", "timezone"] as const satisfies readonly ProfileField[];

/**
 * Maps the neutral command to one setUserAttributes action, or explains every part Leanplum
 * would refuse or lose. Nothing is sent when any part fails.
 */
export function buildAction(command: UpdateCommand): BuildResult {
  // The dispatcher checks capabilities first; repeated here so that direct callers (bulk) get the same answer.
  const failures: VendorFailure[] = unsupportedParts(command, VENDOR, leanplumCapabilities);
  const args: SetUserAttributesArgs = { userId: command.userId };
  const userIdProblem = idProblem(command.userId);
  if (userIdProblem) failures.push(reject(`userId ${userIdProblem}`));

  const options = (command.vendorOptions[VENDOR] ?? {}) as LeanplumOptions;

  if (command.createIfMissing !== undefined) {
    args.createDisposition = command.createIfMissing ? "CreateIfNeeded" : "CreateNever";
  }

  for (const operation of command.operations) {
    const problem = nameProblem(operation.attribute);
    if (problem) {
      failures.push(reject(`Leanplum attribute name "${operation.attribute}" ${problem}`, operation));
      continue;
    }
    if (supported(operation)) mapOperation(operation, args);
  }

  for (const field of PROFILE_ARGUMENTS) {
    const value = command.profile[field];
    if (value !== undefined) args[field] = value;
  }

  if (options.deviceId !== undefined) args.deviceId = options.deviceId;
  if (options.unsubscribeCategoriesToAdd) args.unsubscribeCategoriesToAdd = [...options.unsubscribeCategoriesToAdd];
  if (options.unsubscribeCategoriesToRemove) args.unsubscribeCategoriesToRemove = [...options.unsubscribeCategoriesToRemove];
  if (options.unsubscribeChannelToAdd !== undefined) args.unsubscribeChannelsToAdd = options.unsubscribeChannelToAdd;
  if (options.unsubscribeChannelToRemove !== undefined) args.unsubscribeChannelsToRemove = options.unsubscribeChannelToRemove;
  if (options.newUserId !== undefined) {
    if (options.newUserId === command.userId) {
      failures.push(reject("newUserId is the same as userId; omit it, or give the id the user should take"));
    }
    args.newUserId = options.newUserId;
  }
  if (options.events) args.events = aggregatesWire(options.events);
  if (options.states) args.states = aggregatesWire(options.states);
  if (options.devMode !== undefined) args.devMode = options.devMode;

  if (failures.length > 0) return { ok: false, failures };
  return {
    ok: true,
    action: {
      action: "setUserAttributes",
      args,
      repeatSafe: isActionRepeatSafe(command.operations, options),
      attributes: command.operations.map((op) => op.attribute),
    },
  };
}

function supported(operation: AttributeOperation): boolean {
  const accepted = leanplumCapabilities.operations[operation.kind];
  return accepted !== undefined && (operation.kind === "UNSET" || accepted.includes(operation.value.kind));
}

function mapOperation(operation: AttributeOperation, args: SetUserAttributesArgs): void {
  const name = operation.attribute;
  switch (operation.kind) {
    case "SET":
      (args.userAttributes ??= {})[name] = wireValue(operation.value);
      return;
    case "UNSET":
      (args.userAttributes ??= {})[name] = null;
      return;
    case "INCREMENT":
      // Capabilities admit int only: Leanplum skips non-integer increments.
      (args.userAttributeValuesToIncrement ??= {})[name] = operation.value.value as number;
      return;
    case "ADD_TO_SET":
      (args.userAttributeValuesToAdd ??= {})[name] = operation.value.value as string;
      return;
    case "REMOVE_FROM_SET":
      (args.userAttributeValuesToRemove ??= {})[name] = operation.value.value as string;
      return;
    case "SET_ONCE":
      return; // never supported: refused by unsupportedParts above
  }
}

/** A SET value on the wire. Dates go out as ISO-8601 strings, which Leanplum recognizes as dates. */
export function wireValue(value: AttributeValue): LeanplumAttributeValue {
  switch (value.kind) {
    case "string":
    case "int":
    case "float":
    case "boolean":
      return value.value;
    case "dateTime":
      return formatIsoDateTime(value.value);
    case "stringList":
      return [...value.value];
    default:
      // `supported` keeps the other lists away from here; reaching this is a bug.
      throw new Error(`Leanplum mapping has no wire form for ${value.kind}`);
  }
}

function aggregatesWire(list: readonly (LeanplumEventAggregate | LeanplumStateAggregate)[]): Record<string, LeanplumAggregateWire> {
  const out: Record<string, LeanplumAggregateWire> = {};
  for (const entry of list) {
    const wire: LeanplumAggregateWire = {};
    if (entry.count !== undefined) wire.count = entry.count;
    if (entry.countIncrement !== undefined) wire.countIncrement = entry.countIncrement;
    if ("value" in entry && entry.value !== undefined) wire.value = entry.value;
    if ("valueIncrement" in entry && entry.valueIncrement !== undefined) wire.valueIncrement = entry.valueIncrement;
    if (entry.firstTime) wire.firstTime = epochSeconds(entry.firstTime);
    if (entry.lastTime) wire.lastTime = epochSeconds(entry.lastTime);
    out[entry.name] = wire;
  }
  return out;
}

/** Seconds since the epoch; milliseconds survive as a fraction (Leanplum's times are floats). */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function isActionRepeatSafe(operations: readonly AttributeOperation[], options: LeanplumOptions): boolean {
  if (!operations.every(isRepeatSafe)) return false;
  // Re-identification merges or renames profiles; increments add again.
  if (options.newUserId !== undefined) return false;
  const increments = (list: readonly (LeanplumEventAggregate | LeanplumStateAggregate)[] | undefined): boolean =>
    (list ?? []).some((e) => e.countIncrement !== undefined || ("valueIncrement" in e && e.valueIncrement !== undefined));
  return !increments(options.events) && !increments(options.states);
}

/** The set operation for one attribute across many users (the bulk path), as a command. */
export function setCommand(userId: string, attribute: string, value: AttributeValue, createIfMissing?: boolean): UpdateCommand {
  return {
    userId,
    operations: [{ kind: "SET", attribute, value }],
    profile: {},
    tags: { add: [], remove: [] },
    vendorOptions: {},
    ...(createIfMissing === undefined ? {} : { createIfMissing }),
  };
}

function reject(message: string, operation?: AttributeOperation): VendorFailure {
  return vendorFailure("VALUE_REJECTED", VENDOR, message, {
    ...(operation ? { attribute: operation.attribute, operation: operation.kind } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Read-back: exportUser's element → the neutral profile.

const INT32 = { min: -2_147_483_648, max: 2_147_483_647 } as const;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export const READ_NOTES = {
  booleanFromString: "BOOLEAN_FROM_STRING",
  numberKindInferred: "NUMBER_KIND_INFERRED",
  dateAsString: "DATE_READ_AS_STRING",
  valueAsJson: "VALUE_READ_AS_JSON",
} as const;

/**
 * Maps exportUser's `userAttributes` and location fields. Leanplum returns no types, so kinds are
 * inferred and every inference that could differ from what was written is reported as a note.
 */
export function profileFromExport(userId: string, element: Readonly<Record<string, unknown>>): VendorProfile {
  const notes: DeliveryWarning[] = [];
  const attributes: Array<{ name: string; value: AttributeValue | null }> = [];
  const ints: string[] = [];
  const floats: string[] = [];
  const raw = element.userAttributes;
  const entries = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? Object.entries(raw) : [];
  for (const [name, value] of entries) {
    attributes.push({ name, value: readValue(name, value, notes, ints, floats) });
  }
  if (ints.length + floats.length > 0) {
    notes.push({
      code: READ_NOTES.numberKindInferred,
      message: `Leanplum keeps no int/float distinction: whole numbers within the 32-bit range are read as int${ints.length ? ` (${ints.join(", ")})` : ""}, other numbers as float${floats.length ? ` (${floats.join(", ")})` : ""}`,
    });
  }
  const profile: ProfileFields = {};
  for (const field of PROFILE_ARGUMENTS) {
    const value = element[field];
    if (typeof value === "string" && value !== "") profile[field] = value;
  }
  return { vendor: VENDOR, userId, attributes, profile, tags: [], notes };
}

function readValue(name: string, value: unknown, notes: DeliveryWarning[], ints: string[], floats: string[]): AttributeValue | null {
  if (value === null) return null;
  if (typeof value === "boolean") return { kind: "boolean", value };
  if (typeof value === "string") {
    if (value === "True" || value === "False") {
      notes.push({
        code: READ_NOTES.booleanFromString,
        attribute: name,
        message: `Leanplum returns booleans as the strings "True"/"False": "${value}" was read as ${value === "True"}`,
      });
      return { kind: "boolean", value: value === "True" };
    }
    if (ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))) {
      notes.push({
        code: READ_NOTES.dateAsString,
        attribute: name,
        message: "Leanplum returns dates as ISO-8601 strings with no type: read as a string",
      });
    }
    return { kind: "string", value };
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    if (isInt32(value)) {
      ints.push(name);
      return { kind: "int", value };
    }
    floats.push(name);
    return { kind: "float", value };
  }
  if (Array.isArray(value)) {
    if (value.every((v): v is string => typeof v === "string")) return { kind: "stringList", value };
    if (value.every((v): v is boolean => typeof v === "boolean")) return { kind: "booleanList", value };
    if (value.every((v): v is number => typeof v === "number" && Number.isFinite(v))) {
      if (value.every(isInt32)) {
        ints.push(name);
        return { kind: "intList", value };
      }
      floats.push(name);
      return { kind: "floatList", value };
    }
  }
  // Mixed lists, objects: no neutral kind holds them; keep every byte as JSON text rather than drop them.
  notes.push({
    code: READ_NOTES.valueAsJson,
    attribute: name,
    message: "Leanplum holds a value with no matching attribute kind: returned as its JSON text",
  });
  return { kind: "string", value: JSON.stringify(value) };
}

function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= INT32.min && n <= INT32.max;
}
