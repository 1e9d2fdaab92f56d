import { characterLength } from "../../domain/values.js";

/** Leanplum's naming rules for attributes, events and states (api-limits page). */
export const NAME_RULES = {
  minLength: 1,
  /** "must be less than 140 characters" */
  maxLength: 139,
  forbiddenCharacters: [",", "|", '"', "{"],
} as const;

/** Leanplum's limit for userId and deviceId. */
export const MAX_ID_LENGTH = 400;

// C0 controls and DEL: the page names tab, newline and carriage return; the other controls are
// invisible in Leanplum's dashboard too, so they are refused with them (README.md "Naming rules").
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * Why Leanplum would refuse `name` as an attribute, event or state name, or `undefined` when it
 * is acceptable. The reason is phrased to follow the quoted name.
 */
export function nameProblem(name: string): string | undefined {
  const length = characterLength(name);
  if (length < NAME_RULES.minLength) return "must not be empty";
  if (length > NAME_RULES.maxLength) return `must be at most ${NAME_RULES.maxLength} characters; it has ${length}`;
  if (name.startsWith(".") || name.startsWith("-")) return 'must not start with "." or "-"';
  if (name.endsWith("/")) return 'must not end with "/"';
  const forbidden = NAME_RULES.forbiddenCharacters.find((c) => name.includes(c));
  if (forbidden !== undefined) return `must not contain ${JSON.stringify(forbidden)}`;
  if (CONTROL.test(name)) return "must not contain tabs, line breaks or other control characters";
  if (NUMERIC.test(name)) return "must not be a number";
  return undefined;
}

/** Why Leanplum would refuse `id` as a userId, deviceId or newUserId. */
export function idProblem(id: string): string | undefined {
  if (id.trim().length === 0) return "must not be blank";
  const length = characterLength(id);
  if (length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters; it has ${length}`;
  return undefined;
}
