import { z } from "zod";

/**
 * Environment variables as one declarative schema: each variable has its documentation and a zod
 * schema that reads the raw text (or its absence) into a typed value, or fails with a message that
 * names what is wrong. The application's variables (app-config.ts) and the vendors' (their
 * config.ts) use the same readers, every problem of every variable is reported at once, and the
 * tables of docs/configuration.md are checked against these declarations (test/docs).
 *
 * zod rather than envalid: the values are more than env scalars (ranges, id lists, fault specs,
 * URL rules), and zod's transforms type each one while keeping the project's exact messages.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads one variable's raw text (undefined when unset). A failure's messages follow the variable's name. */
export type VariableSchema<T> = z.ZodType<T, string | undefined>;

/** What a variable is besides its value: documentation, and how the secret checks treat it. */
export interface VariableOptions {
  /** The default as documented, when the reader's own is not it: "(prose)" for a default that is no literal value. */
  readonly default?: string;
  /** Never logged or returned; the secret-leak checks look for its value (vendor variables: src/runtime.ts). */
  readonly secret?: boolean;
  /** One of the variables that together make a vendor configured (named when none is, in production). */
  readonly credential?: boolean;
  /**
   * For a secret sent as an HTTP Basic password: the variable holding its user (absent: an empty
   * user), so that the base64 `user:password` pair a vendor may echo is scrubbed too.
   */
  readonly basicAuth?: { readonly userVariable?: string };
}

export interface Variable<T = unknown> extends VariableOptions {
  /** One line for docs/configuration.md (markdown). */
  readonly description: string;
  /**
   * The default as docs/configuration.md states it: a literal value (shown as code), a "(prose)"
   * phrase, or undefined when unset has no default.
   */
  readonly default?: string;
  readonly schema: VariableSchema<T>;
}

export type VariableSpec = Readonly<Record<string, Variable>>;

export type ValuesOf<S extends VariableSpec> = { -readonly [K in keyof S]: z.output<S[K]["schema"]> };

/**
 * A documented variable. Its documented default is the reader's unless `options` gives one (a
 * string is the documented default alone).
 */
export function variable<T>(description: string, schema: Documented<T>, options: string | VariableOptions = {}): Variable<T> {
  const { default: documentedDefault, ...flags } = typeof options === "string" ? { default: options } : options;
  const shown = documentedDefault ?? schema.documentedDefault;
  return { description, ...(shown === undefined ? {} : { default: shown }), ...flags, schema };
}

/**
 * Reads every variable of `spec` from `env`: typed values, and one problem per thing wrong,
 * "<NAME> <what is wrong>". A wrong value reads as unset, except where its reader keeps the text
 * as written (URLs, checked text), so that rules between variables still see it set.
 */
export function readVariables<S extends VariableSpec>(spec: S, env: Env, problems: string[]): ValuesOf<S> {
  const values: Record<string, unknown> = {};
  for (const [name, { schema }] of Object.entries(spec)) values[name] = readVariable(env, name, schema, problems);
  return values as ValuesOf<S>;
}

/** One variable, read as readVariables reads each. */
export function readVariable<T>(env: Env, name: string, schema: VariableSchema<T>, problems: string[]): T {
  const text = env[name];
  const parsed = schema.safeParse(text);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const whole = "params" in issue && (issue.params as { whole?: boolean } | undefined)?.whole === true;
    // "<NAME> must …", or "<NAME>: entry …" for a message that starts with a colon.
    const message = whole ? issue.message : issue.message.startsWith(":") ? `${name}${issue.message}` : `${name} ${issue.message}`;
    problems.push(hideCredentials(message, text));
  }
  const { whenInvalid } = schema as Documented<T>;
  if (whenInvalid) return whenInvalid(text?.trim() || undefined);
  const fallback = schema.safeParse(undefined);
  if (!fallback.success) throw new Error(`${name}: its schema accepts no unset value`);
  return fallback.data;
}

/** A reader with what the docs and readVariable need besides the schema. */
export type Documented<T> = VariableSchema<T> & {
  readonly documentedDefault?: string;
  /** The value of a text its reader refuses (trimmed; undefined when unset); absent: the unset value. */
  readonly whenInvalid?: (text: string | undefined) => T;
};

function documented<T>(
  schema: VariableSchema<T>,
  documentedDefault: string | undefined,
  whenInvalid?: (text: string | undefined) => T,
): Documented<T> {
  return Object.assign(schema, {
    ...(documentedDefault === undefined ? {} : { documentedDefault }),
    ...(whenInvalid === undefined ? {} : { whenInvalid }),
  });
}

const raw = z.string().optional();

interface Context {
  addIssue(issue: { code: "custom"; message: string }): void;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function fail(context: Context, message: string): never {
  context.addIssue({ code: "custom", message });
  return z.NEVER;
}

/** A rule on a text value, and what a value breaking it is told (after the variable's name). */
export interface TextRule {
  readonly accepts: RegExp | ((value: string) => boolean);
  readonly message: string;
}

/**
 * The text, trimmed; `fallback` when unset or blank. With a rule, a text breaking it is a problem
 * (and is kept as written, so that rules between variables still see it set).
 */
export function text(fallback: string, rule?: TextRule): Documented<string>;
export function text(fallback?: undefined, rule?: TextRule): Documented<string | undefined>;
export function text(fallback?: string, rule?: TextRule): Documented<string | undefined> {
  return documented(
    raw.transform((value, context) => {
      const trimmed = value?.trim() || fallback;
      if (trimmed === undefined || !rule) return trimmed;
      const accepted = typeof rule.accepts === "function" ? rule.accepts(trimmed) : rule.accepts.test(trimmed);
      return accepted ? trimmed : fail(context, rule.message);
    }),
    fallback,
    rule ? (value) => value ?? fallback : undefined,
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
      return fail(context, `must be an integer from ${min} to ${max}; got "${trimmed}"`);
    }),
    fallback === undefined ? undefined : String(fallback),
  );
}

/** A number above 0 (a rate, say); with `whole`, one without a fraction, told apart from a non-positive one. */
export function positiveNumber(fallback: number, options?: { readonly whole?: boolean }): Documented<number>;
/** Unset stays undefined (unpaced, say, or a default that depends on other variables). */
export function positiveNumber(fallback?: undefined, options?: { readonly whole?: boolean }): Documented<number | undefined>;
export function positiveNumber(fallback?: number, options: { readonly whole?: boolean } = {}): Documented<number | undefined> {
  return positive(fallback, (number) => Number.isFinite(number) && number > 0, "a positive number", options.whole === true);
}

/** A whole number of at least 1 (a concurrency, a chunk size). */
export function positiveInteger(fallback: number): Documented<number>;
/** Unset stays undefined (the default depends on other variables). */
export function positiveInteger(fallback?: undefined): Documented<number | undefined>;
export function positiveInteger(fallback?: number): Documented<number | undefined> {
  return positive(fallback, (number) => Number.isSafeInteger(number) && number >= 1, "a positive integer", false);
}

function positive(
  fallback: number | undefined,
  accepts: (number: number) => boolean,
  what: string,
  whole: boolean,
): Documented<number | undefined> {
  return documented(
    raw.transform((value, context) => {
      if (value === undefined || value.trim() === "") return fallback;
      const number = Number(value);
      if (!accepts(number)) return fail(context, `must be ${what}; got "${value}"`);
      if (whole && !Number.isInteger(number)) return fail(context, `must be a whole number; got "${value}"`);
      return number;
    }),
    fallback === undefined ? undefined : String(fallback),
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
      return fail(context, `must be true or false; got "${value}"`);
    }),
    fallback === undefined ? undefined : String(fallback),
  );
}

export interface OneOfOptions {
  /** Compare without regard to case; the value is the choice as declared. */
  readonly ignoreCase?: boolean;
  /** Name the choices in double quotes in the message. */
  readonly quoted?: boolean;
}

/**
 * One of `choices` (strings, or numbers written in digits), compared trimmed; `fallback` when
 * unset or blank (undefined: the default depends on other variables).
 */
export function oneOf<const C extends string | number>(choices: readonly C[], fallback: C, options?: OneOfOptions): Documented<C>;
export function oneOf<const C extends string | number>(
  choices: readonly C[],
  fallback: undefined,
  options?: OneOfOptions,
): Documented<C | undefined>;
export function oneOf<const C extends string | number>(
  choices: readonly C[],
  fallback: C | undefined,
  options: OneOfOptions = {},
): Documented<C | undefined> {
  const fold = (word: string) => (options.ignoreCase ? word.toLowerCase() : word);
  const named = choices.map((c) => (options.quoted ? `"${c}"` : String(c)));
  const listed = named.length === 2 ? `${named[0]} or ${named[1]}` : `one of ${named.join(", ")}`;
  return documented(
    raw.transform((value, context) => {
      const trimmed = value?.trim();
      if (!trimmed) return fallback;
      const choice = choices.find((c) => fold(String(c)) === fold(trimmed));
      return choice ?? fail(context, `must be ${listed}; got "${options.ignoreCase ? value : trimmed}"`);
    }),
    fallback === undefined ? undefined : String(fallback),
  );
}

export interface HttpUrlOptions {
  readonly default?: string;
  /** Unset is a problem, told this (after the variable's name). */
  readonly required?: string;
  /** A URL named in the "must be an http(s) URL" message, "such as …". */
  readonly example?: string;
  /** Where credentials go instead of the URL, named when the URL carries some. */
  readonly credentialsIn?: string;
  /** Refuse a query or fragment; the reason is told (absent: the value is quoted). */
  readonly noQuery?: true | string;
}

/**
 * An http(s) URL without credentials in it, trailing slashes removed. Every problem of a URL is
 * reported at once, and a refused URL is kept as written.
 */
export function httpUrl(options: HttpUrlOptions & ({ readonly default: string } | { readonly required: string })): Documented<string>;
export function httpUrl(options?: HttpUrlOptions): Documented<string | undefined>;
export function httpUrl(options: HttpUrlOptions = {}): Documented<string | undefined> {
  return documented(
    raw.transform((value, context) => {
      const text = value?.trim() || options.default;
      if (text === undefined) return options.required === undefined ? undefined : fail(context, options.required);
      const url = parseUrl(text);
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
        return fail(context, `must be an http(s) URL${options.example ? ` such as ${options.example}` : ""}; got "${text}"`);
      }
      const problems: string[] = [];
      if (url.username || url.password) {
        problems.push(`must not contain credentials${options.credentialsIn ? `; use ${options.credentialsIn}` : ""}`);
      }
      if (options.noQuery !== undefined && /[?#]/.test(text)) {
        problems.push(`must not contain a query or fragment; ${options.noQuery === true ? `got "${text}"` : options.noQuery}`);
      }
      for (const problem of problems) context.addIssue({ code: "custom", message: problem });
      return problems.length > 0 ? z.NEVER : text.replace(/\/+$/, "");
    }),
    options.default,
    (text) => text ?? options.default ?? "",
  );
}

/**
 * A URL as a problem may quote it (readVariable applies it to every problem, so readers quote values
 * as written): everything from "://" to its last "@" is hidden. A password
 * may hold "/", "#", "@" or a space (written unencoded, by mistake or not), so the cut is the
 * last "@" rather than the end of the authority; hiding a host along with it is the safe error.
 */
function withoutCredentials(text: string): string {
  return text.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)[\s\S]*@/i, "$1***@");
}

/**
 * A problem as it may be logged: wherever it quotes the variable's value (as written or trimmed),
 * the value's credentials are hidden; and any other URL it quotes (an entry of a list) is cut at
 * its last "@" within the quotes. Whatever a reader quotes, a URL's credentials never reach the log.
 */
function hideCredentials(message: string, text: string | undefined): string {
  let hidden = message;
  if (text?.includes("@")) {
    for (const form of [text, text.trim()]) if (form) hidden = hidden.split(form).join(withoutCredentials(form));
  }
  return hidden.replace(/([a-z][a-z0-9+.-]*:\/\/)[^"\n]*@/gi, "$1***@");
}

/**
 * An https URL, or plain http on the loopback interface (127.0.0.1, localhost) only: where keys
 * are fetched from. A refused URL is kept as written.
 */
export function httpsUrl(): Documented<string | undefined> {
  return documented(
    raw.transform((value, context) => {
      const text = value?.trim();
      if (!text) return undefined;
      const url = parseUrl(text);
      if (!url) return fail(context, `must be a URL; got "${text}"`);
      if (url.protocol !== "https:" && !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(text)) {
        return fail(context, "must use https (plain http only on loopback)");
      }
      // Keys are public (RFC 7517): a URL with a password in it would only put that password in logs.
      if (url.username || url.password) return fail(context, "must not contain credentials");
      return text;
    }),
    undefined,
    (text) => text,
  );
}

/**
 * A URL of one of `schemes` (written without "://"), as written. The text is not quoted in
 * messages: such URLs carry passwords. A refused URL is kept as written.
 */
export function schemeUrl(schemes: readonly string[]): Documented<string | undefined> {
  const listed = schemes.map((scheme) => `${scheme}://`).join(" or ");
  return documented(
    raw.transform((value, context) => {
      const text = value?.trim();
      if (!text) return undefined;
      const url = parseUrl(text);
      if (!url) return fail(context, `must be a ${listed} URL`);
      if (!schemes.some((scheme) => url.protocol === `${scheme}:`)) return fail(context, `must start with ${listed}`);
      return text;
    }),
    undefined,
    (text) => text,
  );
}

/** An IANA time zone (any case), as Intl names it canonically. */
export function timeZone(fallback: string): Documented<string> {
  return documented(
    raw.transform((value, context) => {
      const trimmed = value?.trim();
      if (!trimmed) return fallback;
      return canonicalTimeZone(trimmed) ?? fail(context, `must be an IANA time zone such as ${fallback}; got "${trimmed}"`);
    }),
    fallback,
  );
}

/** The zone's canonical name as Intl knows it, or `undefined` when Intl does not know it. */
function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * What one entry of a list reads as: its values (none, one, or several, as a range gives), or
 * what is wrong with it, after the variable's name (`whole`: a message that names the variable).
 */
export type ListEntry<T> = readonly T[] | { readonly problem: string; readonly whole?: boolean };

/**
 * A comma-separated list, entries trimmed and blank ones skipped, each read by `entry`; every bad
 * entry is reported. Unset reads `defaultText` (blank is an empty list).
 */
export function list<T>(entry: (text: string) => ListEntry<T>, defaultText = ""): Documented<T[]> {
  return documented(
    raw.transform((value, context) => {
      const values: T[] = [];
      let bad = false;
      for (const part of (value ?? defaultText)
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const read = entry(part);
        if ("problem" in read) {
          bad = true;
          context.addIssue({ code: "custom", message: read.problem, ...(read.whole ? { params: { whole: true } } : {}) });
        } else {
          values.push(...read);
        }
      }
      return bad ? z.NEVER : values;
    }),
    defaultText === "" ? undefined : defaultText,
  );
}

/**
 * A value read by a parser of its own that reports its problems as whole sentences (each naming the
 * variable already): they are kept as they are. Unset reads `fallbackText`.
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
