import { OPERATION_KINDS, type AttributeOperation, type OperationKind } from "./operations.js";
import { PROFILE_FIELDS, type ProfileFields, type TagChanges } from "./profile.js";
import { VALUE_KINDS, characterLength, type AttributeValue, type ValueKind } from "./values.js";

/** One user's update, validated and vendor-neutral. */
export interface UpdateCommand {
  readonly userId: string;
  readonly operations: readonly AttributeOperation[];
  readonly profile: ProfileFields;
  readonly tags: TagChanges;
  /** `undefined` leaves the decision to each vendor's default. */
  readonly createIfMissing?: boolean;
  /** Vendor-specific options, keyed by vendor id, already validated by that vendor. */
  readonly vendorOptions: Readonly<Record<string, unknown>>;
}

/** A field path into the request, as GraphQL clients address it. */
export type InputPath = readonly string[];

export interface InputProblem {
  readonly path: InputPath;
  readonly message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: InputProblem[] };

/** Bounds on one request, so that no input can exhaust memory or a vendor's patience. */
export interface InputLimits {
  readonly maxOperations: number;
  readonly maxTags: number;
  readonly maxNameLength: number;
  readonly maxStringLength: number;
  readonly maxListLength: number;
  readonly maxUserIdLength: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxOperations: 200,
  maxTags: 100,
  maxNameLength: 1_000,
  maxStringLength: 10_000,
  maxListLength: 1_000,
  maxUserIdLength: 1_000,
};

/** The untyped shape the GraphQL layer hands over: one optional field per value kind. */
export type RawValueChoice = { readonly [K in ValueKind]?: unknown };

export interface RawOperation {
  readonly op: OperationKind;
  readonly attribute: string;
  readonly value?: RawValueChoice | null;
}

export interface RawUpdate {
  readonly userId: string;
  readonly operations?: readonly RawOperation[] | null;
  readonly profile?: Readonly<Record<string, string | null | undefined>> | null;
  readonly tags?: { readonly add?: readonly string[] | null; readonly remove?: readonly string[] | null } | null;
  readonly createIfMissing?: boolean | null;
  /** Vendor options can be the whole update (for example a Leanplum unsubscribe). */
  readonly hasVendorOptions?: boolean;
}

/**
 * Exactly one field of a value choice must be set. `@oneOf` would say so in the schema, but it
 * does not survive Apollo's subgraph printing or the gateway, so the rule lives here.
 */
export function parseValueChoice(
  choice: RawValueChoice,
  path: InputPath,
  limits: InputLimits = DEFAULT_INPUT_LIMITS,
): Validated<AttributeValue> {
  const present = VALUE_KINDS.filter((kind) => choice[kind] !== undefined && choice[kind] !== null);
  if (present.length !== 1) {
    const message =
      present.length === 0
        ? `exactly one of ${VALUE_KINDS.join(", ")} must be set; none is`
        : `exactly one of ${VALUE_KINDS.join(", ")} must be set; got ${present.join(" and ")}`;
    return { ok: false, problems: [{ path, message }] };
  }
  const kind = present[0]!;
  const raw = choice[kind];
  const problems: InputProblem[] = [];
  const at = [...path, kind];
  const checkScalar = (v: unknown, p: InputPath): void => {
    const problem = scalarProblem(kind, v, limits);
    if (problem) problems.push({ path: p, message: problem });
  };
  if (kind.endsWith("List")) {
    if (!Array.isArray(raw)) return { ok: false, problems: [{ path: at, message: "must be a list" }] };
    if (raw.length > limits.maxListLength) {
      problems.push({ path: at, message: `at most ${limits.maxListLength} elements; got ${raw.length}` });
    }
    raw.forEach((v, i) => checkScalar(v, [...at, String(i)]));
  } else {
    checkScalar(raw, at);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { kind, value: raw } as AttributeValue };
}

function scalarProblem(kind: ValueKind, value: unknown, limits: InputLimits): string | undefined {
  const base = kind.replace(/List$/, "");
  switch (base) {
    case "string":
      if (typeof value !== "string") return "must be a string";
      if (!value.isWellFormed()) return LONE_SURROGATE;
      if (characterLength(value) > limits.maxStringLength) {
        return `at most ${limits.maxStringLength} characters`;
      }
      return undefined;
    case "int":
      return Number.isSafeInteger(value) ? undefined : "must be an integer";
    case "float":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "must be a finite number";
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be a boolean";
    case "dateTime":
      return value instanceof Date && !Number.isNaN(value.getTime()) ? undefined : "must be a date-time";
    default:
      return `unknown value kind ${kind}`;
  }
}

/**
 * What is wrong with a user id, if anything. Ids reach vendors as UTF-8 (URL paths, JSON bodies),
 * which cannot carry a lone surrogate: encodeURIComponent throws on one, and a vendor's JSON parser
 * would refuse it or turn it into U+FFFD, which is another user's id.
 */
/**
 * Every text that reaches a vendor (ids, names, values, profile fields, tags) goes out as UTF-8, which
 * has no encoding for a lone surrogate: a vendor would refuse it or store U+FFFD instead.
 */
const LONE_SURROGATE = "must be well-formed Unicode: a lone surrogate (an unpaired \\uD800 to \\uDFFF) has no UTF-8 encoding";

export function userIdProblem(userId: string, limits: InputLimits): string | undefined {
  if (userId.length === 0) return "must not be empty";
  if (userId.length > limits.maxUserIdLength) return `at most ${limits.maxUserIdLength} characters`;
  if (!userId.isWellFormed()) return LONE_SURROGATE;
  return undefined;
}

export function validateUpdate(
  raw: RawUpdate,
  limits: InputLimits = DEFAULT_INPUT_LIMITS,
  root: InputPath = ["input"],
): Validated<Omit<UpdateCommand, "vendorOptions">> {
  const problems: InputProblem[] = [];
  const userIdRefusal = userIdProblem(raw.userId, limits);
  if (userIdRefusal) problems.push({ path: [...root, "userId"], message: userIdRefusal });

  const operations: AttributeOperation[] = [];
  const rawOperations = raw.operations ?? [];
  if (rawOperations.length > limits.maxOperations) {
    problems.push({
      path: [...root, "operations"],
      message: `at most ${limits.maxOperations} operations per call; got ${rawOperations.length}`,
    });
  }
  const seenAttributes = new Map<string, number>();
  rawOperations.forEach((op, index) => {
    const path = [...root, "operations", String(index)];
    const before = problems.length;
    if (!OPERATION_KINDS.includes(op.op)) problems.push({ path: [...path, "op"], message: "unknown operation" });
    if (op.attribute.length === 0) {
      problems.push({ path: [...path, "attribute"], message: "must not be empty" });
    } else if (op.attribute.length > limits.maxNameLength) {
      problems.push({ path: [...path, "attribute"], message: `at most ${limits.maxNameLength} characters` });
    } else if (!op.attribute.isWellFormed()) {
      problems.push({ path: [...path, "attribute"], message: LONE_SURROGATE });
    }
    const earlier = seenAttributes.get(op.attribute);
    if (earlier !== undefined) {
      // Vendors key their payloads by attribute name: a second operation would overwrite the first.
      problems.push({
        path: [...path, "attribute"],
        message: `attribute "${op.attribute}" already has an operation at operations.${earlier}; send one operation per attribute`,
      });
    } else {
      seenAttributes.set(op.attribute, index);
    }
    if (op.op === "UNSET") {
      if (op.value !== undefined && op.value !== null) {
        problems.push({ path: [...path, "value"], message: "UNSET takes no value" });
      }
      if (problems.length === before) operations.push({ kind: "UNSET", attribute: op.attribute });
      return;
    }
    if (op.value === undefined || op.value === null) {
      problems.push({ path: [...path, "value"], message: `${op.op} needs a value` });
      return;
    }
    const value = parseValueChoice(op.value, [...path, "value"], limits);
    if (!value.ok) {
      problems.push(...value.problems);
      return;
    }
    if (op.op === "INCREMENT" && value.value.kind !== "int" && value.value.kind !== "float") {
      problems.push({ path: [...path, "value"], message: "INCREMENT needs an int or float value" });
      return;
    }
    if (problems.length === before) {
      operations.push({ kind: op.op, attribute: op.attribute, value: value.value });
    }
  });

  const profile: Record<string, string> = {};
  for (const [field, value] of Object.entries(raw.profile ?? {})) {
    const path = [...root, "profile", field];
    if (value === undefined) continue;
    if (!(PROFILE_FIELDS as readonly string[]).includes(field)) {
      problems.push({ path, message: "unknown profile field" });
    } else if (value === null) {
      problems.push({ path, message: "profile fields cannot be cleared; omit the field to leave it unchanged" });
    } else if (value.trim().length === 0) {
      problems.push({ path, message: "must not be blank; omit the field to leave it unchanged" });
    } else if (!value.isWellFormed()) {
      problems.push({ path, message: LONE_SURROGATE });
    } else if (characterLength(value) > limits.maxStringLength) {
      problems.push({ path, message: `at most ${limits.maxStringLength} characters` });
    } else {
      profile[field] = value;
    }
  }

  const add = raw.tags?.add ?? [];
  const remove = raw.tags?.remove ?? [];
  if (add.length + remove.length > limits.maxTags) {
    problems.push({ path: [...root, "tags"], message: `at most ${limits.maxTags} tag changes per call` });
  }
  const seenTags = new Set<string>();
  for (const [list, tags] of [
    ["add", add],
    ["remove", remove],
  ] as const) {
    tags.forEach((tag, index) => {
      const path = [...root, "tags", list, String(index)];
      if (tag.trim().length === 0) problems.push({ path, message: "must not be blank" });
      else if (tag.length > limits.maxNameLength) problems.push({ path, message: `at most ${limits.maxNameLength} characters` });
      else if (!tag.isWellFormed()) problems.push({ path, message: LONE_SURROGATE });
      else if (seenTags.has(tag)) problems.push({ path, message: `tag "${tag}" is listed more than once` });
      seenTags.add(tag);
    });
  }

  const profileGiven = Object.values(raw.profile ?? {}).some((v) => v !== undefined);
  if (rawOperations.length === 0 && !profileGiven && add.length + remove.length === 0 && !raw.hasVendorOptions) {
    problems.push({ path: root, message: "nothing to update: give operations, profile fields, tags or vendor options" });
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      userId: raw.userId,
      operations,
      profile,
      tags: { add, remove },
      ...(raw.createIfMissing === null || raw.createIfMissing === undefined ? {} : { createIfMissing: raw.createIfMissing }),
    },
  };
}
