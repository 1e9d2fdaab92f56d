import type { InputProblem, Validated } from "../../domain/command.js";
import type { OptionField, VendorOptionsSpec } from "../../domain/options.js";
import { characterLength } from "../../domain/values.js";
import { idProblem, nameProblem } from "./names.js";

/** Lifetime aggregate changes for one event (times are instants; they go out as epoch seconds). */
export interface LeanplumEventAggregate {
  readonly name: string;
  readonly count?: number;
  readonly countIncrement?: number;
  readonly value?: number;
  readonly valueIncrement?: number;
  readonly firstTime?: Date;
  readonly lastTime?: Date;
}

/** Lifetime aggregate changes for one state: as events, without a value. */
export type LeanplumStateAggregate = Omit<LeanplumEventAggregate, "value" | "valueIncrement">;

/** The parsed `AttributesLeanplumOptionsInput`, as the adapter receives it in `command.vendorOptions.leanplum`. */
export interface LeanplumOptions {
  readonly deviceId?: string;
  readonly unsubscribeCategoriesToAdd?: readonly string[];
  readonly unsubscribeCategoriesToRemove?: readonly string[];
  readonly unsubscribeChannelToAdd?: string;
  readonly unsubscribeChannelToRemove?: string;
  readonly newUserId?: string;
  readonly events?: readonly LeanplumEventAggregate[];
  readonly states?: readonly LeanplumStateAggregate[];
  readonly devMode?: boolean;
}

/** Bounds on the lists, so one request cannot grow without limit (Leanplum publishes none). */
export const OPTION_LIMITS = {
  maxListLength: 100,
  maxTextLength: 1_000,
} as const;

const TIME_FIELDS = {
  firstTime: {
    type: "dateTime",
    description: "When it first occurred for this user; sent to Leanplum as seconds since the UNIX epoch.",
  },
  lastTime: {
    type: "dateTime",
    description: "When it last occurred for this user; sent to Leanplum as seconds since the UNIX epoch.",
  },
} as const satisfies Record<string, OptionField>;

const COUNT_FIELDS = {
  count: { type: "int", description: "New lifetime count (replaces the stored one). Not with countIncrement." },
  countIncrement: {
    type: "int",
    description: "Added to the lifetime count. Not with count. Not safe to repeat: a retried request adds it twice.",
  },
} as const satisfies Record<string, OptionField>;

const NAME_FIELD = {
  type: "string",
  description:
    'Name as Leanplum knows it: 1–139 characters, no leading . or -, no trailing /, none of , | " { or control characters, not a number.',
} as const satisfies OptionField;

const EVENT_FIELDS: Record<string, OptionField> = {
  name: NAME_FIELD,
  ...COUNT_FIELDS,
  value: { type: "float", description: "New lifetime value (replaces the stored one). Not with valueIncrement." },
  valueIncrement: {
    type: "float",
    description: "Added to the lifetime value. Not with value. Not safe to repeat: a retried request adds it twice.",
  },
  ...TIME_FIELDS,
};

const STATE_FIELDS: Record<string, OptionField> = { name: NAME_FIELD, ...COUNT_FIELDS, ...TIME_FIELDS };

export const LEANPLUM_OPTION_FIELDS: Record<string, OptionField> = {
  deviceId: {
    type: "string",
    description: "Leanplum deviceId sent with the userId, to address (and attach) one of the user's devices. At most 400 characters.",
  },
  unsubscribeCategoriesToAdd: {
    type: "string",
    list: true,
    description: "Email category ids to unsubscribe the user from.",
  },
  unsubscribeCategoriesToRemove: {
    type: "string",
    list: true,
    description: "Email category ids to subscribe the user to again.",
  },
  unsubscribeChannelToAdd: {
    type: "string",
    description:
      'A messaging channel to unsubscribe the user from entirely, for example "Email" (Leanplum\'s unsubscribeChannelsToAdd; one channel per request).',
  },
  unsubscribeChannelToRemove: {
    type: "string",
    description:
      "A messaging channel to subscribe the user to again; category-level unsubscribes stay (Leanplum's unsubscribeChannelsToRemove; one channel per request).",
  },
  newUserId: {
    type: "string",
    description: [
      "Switches the session of the user addressed by userId (and deviceId) to newUserId, which Leanplum creates if needed:",
      "the addressed profile is neither merged nor renamed. Every request addresses its user by userId, so this is Leanplum's Switch;",
      "its Login and Register cases apply only to a request without a userId.",
      "Not reversible and not safe to repeat. At most 400 characters; must differ from userId.",
    ].join(" "),
  },
  events: {
    type: "object",
    name: "AttributesLeanplumEventAggregateInput",
    list: true,
    fields: EVENT_FIELDS,
    description:
      "Overwrites or increments lifetime aggregates of events, one entry per event name; each entry sets at least one field besides name.",
  },
  states: {
    type: "object",
    name: "AttributesLeanplumStateAggregateInput",
    list: true,
    fields: STATE_FIELDS,
    description:
      "Overwrites or increments lifetime aggregates of states, one entry per state name; each entry sets at least one field besides name.",
  },
  devMode: {
    type: "boolean",
    description:
      "Marks the request as a developer's (kept out of reporting). Leanplum then allows 1 request per second per user; the adapter spaces such requests for one user accordingly.",
  },
};

export const leanplumOptions: VendorOptionsSpec<LeanplumOptions> = {
  name: "AttributesLeanplumOptionsInput",
  description:
    "Leanplum-specific parts of a setUserAttributes call. They travel in the same request as the attributes, so they succeed or fail with them.",
  fields: LEANPLUM_OPTION_FIELDS,
  parse: parseLeanplumOptions,
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function parseLeanplumOptions(raw: Readonly<Record<string, unknown>>): Validated<LeanplumOptions> {
  const problems: InputProblem[] = [];
  const out: Mutable<LeanplumOptions> = {};
  for (const key of Object.keys(raw)) {
    if (!(key in LEANPLUM_OPTION_FIELDS)) problems.push({ path: [key], message: "unknown Leanplum option" });
  }
  const present = (key: string): boolean => raw[key] !== undefined && raw[key] !== null;

  for (const key of ["deviceId", "newUserId"] as const) {
    if (!present(key)) continue;
    const value = raw[key];
    if (typeof value !== "string") {
      problems.push({ path: [key], message: "must be a string" });
      continue;
    }
    const problem = idProblem(value);
    if (problem) problems.push({ path: [key], message: problem });
    else out[key] = value;
  }

  for (const key of ["unsubscribeCategoriesToAdd", "unsubscribeCategoriesToRemove"] as const) {
    if (!present(key)) continue;
    const list = stringList(raw[key], [key], problems);
    if (list) out[key] = list;
  }
  const overlap = (out.unsubscribeCategoriesToAdd ?? []).filter((c) => out.unsubscribeCategoriesToRemove?.includes(c));
  for (const category of overlap) {
    problems.push({
      path: ["unsubscribeCategoriesToRemove"],
      message: `category "${category}" is also in unsubscribeCategoriesToAdd; one request cannot do both`,
    });
  }

  for (const key of ["unsubscribeChannelToAdd", "unsubscribeChannelToRemove"] as const) {
    if (!present(key)) continue;
    const value = text(raw[key], [key], problems);
    if (value !== undefined) out[key] = value;
  }
  if (out.unsubscribeChannelToAdd !== undefined && out.unsubscribeChannelToAdd === out.unsubscribeChannelToRemove) {
    problems.push({ path: ["unsubscribeChannelToRemove"], message: "is the same channel as unsubscribeChannelToAdd" });
  }

  if (present("events")) {
    const events = aggregates(raw.events, ["events"], true, problems);
    if (events) out.events = events;
  }
  if (present("states")) {
    const states = aggregates(raw.states, ["states"], false, problems);
    if (states) out.states = states;
  }

  if (present("devMode")) {
    if (typeof raw.devMode !== "boolean") problems.push({ path: ["devMode"], message: "must be a boolean" });
    else out.devMode = raw.devMode;
  }

  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
}

function text(value: unknown, path: string[], problems: InputProblem[]): string | undefined {
  if (typeof value !== "string") {
    problems.push({ path, message: "must be a string" });
    return undefined;
  }
  if (value.trim().length === 0) {
    problems.push({ path, message: "must not be blank" });
    return undefined;
  }
  if (characterLength(value) > OPTION_LIMITS.maxTextLength) {
    problems.push({ path, message: `at most ${OPTION_LIMITS.maxTextLength} characters` });
    return undefined;
  }
  return value;
}

function stringList(value: unknown, path: string[], problems: InputProblem[]): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push({ path, message: "must be a list of strings" });
    return undefined;
  }
  if (value.length === 0) {
    problems.push({ path, message: "must not be empty; omit the field instead" });
    return undefined;
  }
  if (value.length > OPTION_LIMITS.maxListLength) {
    problems.push({ path, message: `at most ${OPTION_LIMITS.maxListLength} elements; got ${value.length}` });
    return undefined;
  }
  const before = problems.length;
  const seen = new Set<string>();
  const out: string[] = [];
  value.forEach((item: unknown, index) => {
    const itemPath = [...path, String(index)];
    const parsed = text(item, itemPath, problems);
    if (parsed === undefined) return;
    if (seen.has(parsed)) problems.push({ path: itemPath, message: `"${parsed}" is listed more than once` });
    seen.add(parsed);
    out.push(parsed);
  });
  return problems.length === before ? out : undefined;
}

const AGGREGATE_KEYS = ["count", "countIncrement", "value", "valueIncrement", "firstTime", "lastTime"] as const;

function aggregates(value: unknown, path: string[], withValue: boolean, problems: InputProblem[]): LeanplumEventAggregate[] | undefined {
  const kind = withValue ? "event" : "state";
  if (!Array.isArray(value)) {
    problems.push({ path, message: `must be a list of ${kind} aggregates` });
    return undefined;
  }
  if (value.length === 0) {
    problems.push({ path, message: "must not be empty; omit the field instead" });
    return undefined;
  }
  if (value.length > OPTION_LIMITS.maxListLength) {
    problems.push({ path, message: `at most ${OPTION_LIMITS.maxListLength} ${kind}s per request; got ${value.length}` });
    return undefined;
  }
  const before = problems.length;
  const allowed = new Set<string>(["name", ...AGGREGATE_KEYS.filter((k) => withValue || !k.startsWith("value"))]);
  const seen = new Map<string, number>();
  const out: LeanplumEventAggregate[] = [];
  value.forEach((entry: unknown, index) => {
    const at = [...path, String(index)];
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      problems.push({ path: at, message: "must be an object" });
      return;
    }
    const record = entry as Record<string, unknown>;
    const has = (key: string): boolean => record[key] !== undefined && record[key] !== null;
    for (const key of Object.keys(record)) {
      if (!allowed.has(key) && has(key)) problems.push({ path: [...at, key], message: `not a field of a ${kind} aggregate` });
    }
    const aggregate: Mutable<LeanplumEventAggregate> = { name: "" };
    if (typeof record.name !== "string") {
      problems.push({ path: [...at, "name"], message: "must be a string" });
    } else {
      const problem = nameProblem(record.name);
      if (problem) problems.push({ path: [...at, "name"], message: `${kind} name "${record.name}" ${problem}` });
      const earlier = seen.get(record.name);
      if (earlier !== undefined) {
        problems.push({ path: [...at, "name"], message: `${kind} "${record.name}" is already at ${path.join(".")}.${earlier}` });
      }
      seen.set(record.name, index);
      aggregate.name = record.name;
    }
    for (const key of ["count", "countIncrement"] as const) {
      if (!has(key)) continue;
      const n = record[key];
      if (!Number.isSafeInteger(n)) problems.push({ path: [...at, key], message: "must be an integer" });
      else if (key === "count" && (n as number) < 0) problems.push({ path: [...at, key], message: "must not be negative" });
      else aggregate[key] = n as number;
    }
    if (withValue) {
      for (const key of ["value", "valueIncrement"] as const) {
        if (!has(key)) continue;
        const n = record[key];
        if (typeof n !== "number" || !Number.isFinite(n)) problems.push({ path: [...at, key], message: "must be a finite number" });
        else aggregate[key] = n;
      }
    }
    for (const key of ["firstTime", "lastTime"] as const) {
      if (!has(key)) continue;
      const d = record[key];
      if (!(d instanceof Date) || Number.isNaN(d.getTime())) problems.push({ path: [...at, key], message: "must be a date-time" });
      else if (d.getTime() < 0) problems.push({ path: [...at, key], message: "must not be before 1970-01-01T00:00:00Z" });
      else aggregate[key] = d;
    }
    if (has("count") && has("countIncrement")) {
      problems.push({ path: [...at, "countIncrement"], message: "give count or countIncrement, not both" });
    }
    if (withValue && has("value") && has("valueIncrement")) {
      problems.push({ path: [...at, "valueIncrement"], message: "give value or valueIncrement, not both" });
    }
    if (!AGGREGATE_KEYS.some((key) => allowed.has(key) && has(key))) {
      problems.push({ path: at, message: `set at least one of ${[...allowed].filter((k) => k !== "name").join(", ")}` });
    }
    if (aggregate.firstTime && aggregate.lastTime && aggregate.firstTime > aggregate.lastTime) {
      problems.push({ path: [...at, "lastTime"], message: "must not be before firstTime" });
    }
    out.push(aggregate);
  });
  return problems.length === before ? out : undefined;
}
