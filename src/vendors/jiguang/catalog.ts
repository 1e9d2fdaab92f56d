import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";

/**
 * The operator's declaration of the project's user attributes. Jiguang decides what a write does
 * from each attribute's definition in its Data Center and has no API to list those definitions,
 * so the adapter can only honour an operation's meaning (SET vs SET_ONCE vs INCREMENT vs
 * ADD_TO_SET) when it is told each attribute's type and processing rule.
 *
 * File format (JSON or YAML; YAML 1.2 is a superset of JSON, so one parser reads both):
 *
 *     attributes:
 *       nickname: { type: STRING, rule: overwrite }
 *       points:   { type: NUMBER, rule: accumulate }
 */

export const ATTRIBUTE_TYPES = ["NUMBER", "STRING", "BOOL", "DATETIME", "LIST"] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/** Jiguang's processing rules: once only (first value sticks), overwrite, accumulate (numeric add), append (to a list). */
export const PROCESSING_RULES = ["once", "overwrite", "accumulate", "append"] as const;
export type ProcessingRule = (typeof PROCESSING_RULES)[number];

export interface AttributeDefinition {
  readonly type: AttributeType;
  readonly rule: ProcessingRule;
}

export interface AttributeCatalog {
  /** Where it came from, for messages: a file path or the variable that held it. */
  readonly source: string;
  readonly attributes: ReadonlyMap<string, AttributeDefinition>;
}

/** The plain-data form of a catalog, as written in a file. */
export interface CatalogDocument {
  readonly attributes: Readonly<
    Record<string, { readonly type: AttributeType; readonly rule: ProcessingRule; readonly description?: string }>
  >;
}

/** Jiguang's naming rule for attributes (metadata management): lowercase letters, digits, "_", starting with a letter. */
export const ATTRIBUTE_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
export const ATTRIBUTE_NAME_RULE = 'lowercase letters, digits and "_", starting with a letter';

/**
 * Which rules each type can carry. Accumulate is a numeric add and append adds to a list, so
 * they only make sense on NUMBER and LIST; the others take once or overwrite. (Inferred from the
 * rule descriptions: Jiguang does not publish this table.)
 */
export const RULES_BY_TYPE: Readonly<Record<AttributeType, readonly ProcessingRule[]>> = {
  NUMBER: ["once", "overwrite", "accumulate"],
  STRING: ["once", "overwrite"],
  BOOL: ["once", "overwrite"],
  DATETIME: ["once", "overwrite"],
  LIST: ["once", "overwrite", "append"],
};

export type CatalogResult = { ok: true; catalog: AttributeCatalog } | { ok: false; problems: string[] };

/** Reads and validates a catalog file; every problem names the file and, where there is one, the entry. */
export function loadCatalogFile(path: string): CatalogResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    return { ok: false, problems: [`cannot read the attribute catalog "${path}" (${code})`] };
  }
  return parseCatalog(text, `attribute catalog "${path}"`);
}

/** Parses catalog text (JSON or YAML). `source` prefixes every message. */
export function parseCatalog(text: string, source: string): CatalogResult {
  const lines = new LineCounter();
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        return `${source}: not valid JSON or YAML at line ${at.line}, column ${at.col}: ${e.message}`;
      }),
    };
  }
  let root: unknown;
  try {
    root = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, problems: [`${source}: ${(error as Error).message}`] };
  }
  return validateCatalog(root, source);
}

export function validateCatalog(root: unknown, source: string): CatalogResult {
  const problems: string[] = [];
  if (!isPlainObject(root)) {
    return { ok: false, problems: [`${source}: expected an object with an "attributes" map at the top level`] };
  }
  for (const key of Object.keys(root)) {
    if (key !== "attributes") problems.push(`${source}: unknown top-level key "${key}" (only "attributes" is allowed)`);
  }
  const entries = root.attributes;
  if (!isPlainObject(entries)) {
    problems.push(`${source}: "attributes" must map attribute names to {type, rule}`);
    return { ok: false, problems };
  }
  if (Object.keys(entries).length === 0) {
    problems.push(`${source}: "attributes" is empty; declare the project's attributes or unset the catalog variable`);
  }
  const attributes = new Map<string, AttributeDefinition>();
  for (const [name, raw] of Object.entries(entries)) {
    const at = `${source}: attribute "${name}"`;
    const before = problems.length;
    if (!ATTRIBUTE_NAME_PATTERN.test(name)) problems.push(`${at}: Jiguang attribute names use ${ATTRIBUTE_NAME_RULE}`);
    if (!isPlainObject(raw)) {
      problems.push(`${at}: expected {type, rule}`);
      continue;
    }
    for (const key of Object.keys(raw)) {
      if (key !== "type" && key !== "rule" && key !== "description") {
        problems.push(`${at}: unknown key "${key}" (allowed: type, rule, description)`);
      }
    }
    const type = typeof raw.type === "string" ? raw.type.toUpperCase() : undefined;
    const rule = typeof raw.rule === "string" ? raw.rule.toLowerCase() : undefined;
    if (!isOneOf(ATTRIBUTE_TYPES, type)) {
      problems.push(`${at}: type must be one of ${ATTRIBUTE_TYPES.join(", ")}; got ${describe(raw.type)}`);
    }
    if (!isOneOf(PROCESSING_RULES, rule)) {
      problems.push(`${at}: rule must be one of ${PROCESSING_RULES.join(", ")}; got ${describe(raw.rule)}`);
    }
    if (raw.description !== undefined && typeof raw.description !== "string") {
      problems.push(`${at}: description must be a string`);
    }
    if (isOneOf(ATTRIBUTE_TYPES, type) && isOneOf(PROCESSING_RULES, rule) && !RULES_BY_TYPE[type].includes(rule)) {
      problems.push(`${at}: a ${type} attribute cannot have the ${rule} rule (allowed: ${RULES_BY_TYPE[type].join(", ")})`);
    }
    if (problems.length === before && isOneOf(ATTRIBUTE_TYPES, type) && isOneOf(PROCESSING_RULES, rule)) {
      attributes.set(name, { type, rule });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, catalog: { source, attributes } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Map);
}

function isOneOf<T extends string>(values: readonly T[], value: string | undefined): value is T {
  return value !== undefined && (values as readonly string[]).includes(value);
}

function describe(value: unknown): string {
  return value === undefined ? "nothing" : (JSON.stringify(value) ?? `a ${typeof value}`);
}
