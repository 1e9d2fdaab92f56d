import { z } from "zod";

/**
 * Environment variables as one declarative schema: each variable has its documentation and a zod
 * schema that reads the raw text (or its absence) into a typed value, or fails with a message that
 * names what is wrong. The application's variables (app-config.ts) and the vendors' (their
 * config.ts) use the same readers, and every problem of every variable is reported at once.
 *
 * zod rather than envalid: the values are more than env scalars (ranges, id lists, fault specs,
 * URL rules), and zod's transforms type each one while keeping the project's exact messages.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads one variable's raw text (undefined when unset). A failure's messages follow the variable's name. */
export type VariableSchema<T> = z.ZodType<T, string | undefined>;

export interface Variable<T = unknown> {
  readonly description: string;
  /** The default as documented (docs/configuration.md tables); for plain values, the reader's own default. */
  readonly default: string;
  readonly schema: VariableSchema<T>;
}

export type ValuesOf<S extends Readonly<Record<string, Variable>>> = { -readonly [K in keyof S]: z.output<S[K]["schema"]> };

/** A documented variable; its documented default is the reader's unless given. */
export function variable<T>(
  description: string,
  schema: VariableSchema<T> & { readonly documentedDefault?: string },
  documentedDefault?: string,
): Variable<T> {
  return { description, default: documentedDefault ?? schema.documentedDefault ?? "(unset)", schema };
}

/**
 * Reads every variable of `spec` from `env`: typed values, with the unset default wherever a value
 * is wrong, and one problem per wrong value, "<NAME> <what is wrong>".
 */
export function readVariables<S extends Readonly<Record<string, Variable>>>(spec: S, env: Env, problems: string[]): ValuesOf<S> {
  const values: Record<string, unknown> = {};
  for (const [name, { schema }] of Object.entries(spec)) values[name] = readVariable(env, name, schema, problems);
  return values as ValuesOf<S>;
}

/** One variable, read as readVariables reads each. */
export function readVariable<T>(env: Env, name: string, schema: VariableSchema<T>, problems: string[]): T {
  const parsed = schema.safeParse(env[name]);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const whole = "params" in issue && (issue.params as { whole?: boolean } | undefined)?.whole === true;
    problems.push(whole ? issue.message : `${name} ${issue.message}`);
  }
  const fallback = schema.safeParse(undefined);
  if (!fallback.success) throw new Error(`${name}: its schema accepts no unset value`);
  return fallback.data;
}

type Documented<T> = VariableSchema<T> & { readonly documentedDefault?: string };

function documented<T>(schema: VariableSchema<T>, documentedDefault: string | undefined): Documented<T> {
  return documentedDefault === undefined ? schema : Object.assign(schema, { documentedDefault });
}

const raw = z.string().optional();

/** The text, trimmed; `fallback` when unset or blank. */
export function text(fallback: string): Documented<string>;
export function text(): Documented<string | undefined>;
export function text(fallback?: string): Documented<string | undefined> {
  return documented(
    raw.transform((value) => value?.trim() || fallback),
    fallback,
  );
}

/** An integer from `min` to `max`. */
export function integer(fallback: number, min: number, max: number): Documented<number>;
export function integer(fallback: undefined, min: number, max: number): Documented<number | undefined>;
export function integer(fallback: number | undefined, min: number, max: number): Documented<number | undefined> {
  return documented(
    raw.transform((value, context) => {
      const trimmed = value?.trim();
      if (!trimmed) return fallback;
      const number = Number(trimmed);
      if (Number.isInteger(number) && number >= min && number <= max) return number;
      context.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}; got "${trimmed}"` });
      return z.NEVER;
    }),
    fallback === undefined ? undefined : String(fallback),
  );
}

/** A number above 0 (a rate, say). */
export function positiveNumber(fallback: number): Documented<number> {
  return positive(fallback, (number) => Number.isFinite(number) && number > 0, "a positive number");
}

/** A whole number of at least 1 (a concurrency, a chunk size). */
export function positiveInteger(fallback: number): Documented<number> {
  return positive(fallback, (number) => Number.isSafeInteger(number) && number >= 1, "a positive integer");
}

function positive(fallback: number, accepts: (number: number) => boolean, what: string): Documented<number> {
  return documented(
    raw.transform((value, context) => {
      if (value === undefined || value.trim() === "") return fallback;
      const number = Number(value);
      if (accepts(number)) return number;
      context.addIssue({ code: "custom", message: `must be ${what}; got "${value}"` });
      return z.NEVER;
    }),
    String(fallback),
  );
}

/** true/1 or false/0, any case. */
export function flag(fallback: boolean): Documented<boolean>;
/** Unset stays undefined (the default depends on other variables). */
export function flag(): Documented<boolean | undefined>;
export function flag(fallback?: boolean): Documented<boolean | undefined> {
  return documented(
    raw.transform((value, context) => {
      const word = value?.trim().toLowerCase();
      if (!word) return fallback;
      if (word === "true" || word === "1") return true;
      if (word === "false" || word === "0") return false;
      context.addIssue({ code: "custom", message: `must be true or false; got "${value}"` });
      return z.NEVER;
    }),
    fallback === undefined ? undefined : String(fallback),
  );
}

/** One of `choices`, compared trimmed (and lower-cased with `ignoreCase`). */
export function oneOf<const C extends string>(choices: readonly C[], fallback: C, options: { ignoreCase?: boolean } = {}): Documented<C> {
  return documented(
    raw.transform((value, context) => {
      const trimmed = value?.trim();
      const word = options.ignoreCase ? trimmed?.toLowerCase() : trimmed;
      if (!word) return fallback;
      const choice = choices.find((c) => c === word);
      if (choice) return choice;
      context.addIssue({ code: "custom", message: `must be one of ${choices.join(", ")}; got "${options.ignoreCase ? value : trimmed}"` });
      return z.NEVER;
    }),
    fallback,
  );
}

/** An http(s) URL without credentials in it, trailing slashes removed. */
export function httpUrl(fallback: string): Documented<string>;
export function httpUrl(): Documented<string | undefined>;
export function httpUrl(fallback?: string): Documented<string | undefined> {
  return documented(
    raw.transform((value, context) => {
      const text = value?.trim() || fallback;
      if (text === undefined) return undefined;
      let url: URL | undefined;
      try {
        url = new URL(text);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
        context.addIssue({ code: "custom", message: `must be an http(s) URL; got "${text}"` });
        return z.NEVER;
      }
      if (url.username || url.password) {
        context.addIssue({ code: "custom", message: "must not contain credentials; use the vendor's key variables" });
        return z.NEVER;
      }
      return text.replace(/\/+$/, "");
    }),
    fallback,
  );
}

/**
 * A value read by a parser of its own that reports its problems as whole sentences (each naming the
 * variable already): they are kept as they are.
 */
export function parsedBy<T>(
  parse: (text: string) => { value: T; problems: readonly string[] },
  fallbackText: string,
  documentedDefault?: string,
): Documented<T> {
  return documented(
    raw.transform((value, context) => {
      const { value: parsed, problems } = parse(value ?? fallbackText);
      for (const problem of problems) context.addIssue({ code: "custom", message: problem, params: { whole: true } });
      return problems.length > 0 ? z.NEVER : parsed;
    }),
    documentedDefault,
  );
}
