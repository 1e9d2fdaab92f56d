import { describe, expect, it } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { APP_ENV } from "../../src/config/app-config.js";
import type { Variable, VariableSpec } from "../../src/config/variables.js";
import { vendorModules } from "../../src/vendors/index.js";

/**
 * docs/configuration.md's tables against the schema that reads the variables (APP_ENV and every
 * registered vendor's spec): every row, name, default and description, so that they cannot drift.
 * A failure shows the row as the schema has it; paste it over the documented one (or change the
 * declaration, when the docs are right).
 */
const DOC = fileURLToPath(new URL("../../docs/configuration.md", import.meta.url));
const text = await readFile(DOC, "utf8");

const HEADER = "| variable | default | meaning |";
const SEPARATOR = "|---|---|---|";
const ROW = /^\| `([A-Z][A-Z0-9_]*)` \| .* \|$/;

/** The row a variable has in the docs: a literal default as code, a "(prose)" one as prose, none as "unset". */
function row(name: string, variable: Variable): string {
  const shown = variable.default;
  const defaultCell = shown === undefined ? "unset" : /^\(.*\)$/s.test(shown) ? shown.slice(1, -1) : `\`${shown}\``;
  return `| \`${name}\` | ${defaultCell} | ${variable.description}${variable.secret ? " **Secret.**" : ""} |`;
}

/** Every table of the file: runs of lines starting with "|", with the line each starts on. */
function tables(): { line: number; rows: string[] }[] {
  const found: { line: number; rows: string[] }[] = [];
  text.split("\n").forEach((line, index) => {
    if (!line.startsWith("|")) return;
    const last = found.at(-1);
    if (last && last.line + last.rows.length === index) last.rows.push(line);
    else found.push({ line: index, rows: [line] });
  });
  return found;
}

/** The variable rows of the table that follows `heading` (a bold line such as **Carnival**). */
function tableAfter(heading: string): string[] {
  const start = text.indexOf(`\n${heading}`);
  if (start < 0) return [];
  const table = tables().find(({ line }) => line > text.slice(0, start).split("\n").length);
  return (table?.rows ?? []).filter((line) => ROW.test(line));
}

const documented = tables()
  .flatMap(({ rows }) => rows)
  .filter((line) => ROW.test(line))
  .map((line) => ({ name: ROW.exec(line)![1]!, line }));

const declared: { name: string; variable: Variable; owner: string }[] = [
  ...Object.entries(APP_ENV as VariableSpec).map(([name, variable]) => ({ name, variable, owner: "application" })),
  ...vendorModules.flatMap((module) =>
    Object.entries(module.env).map(([name, variable]) => ({ name, variable, owner: module.displayName })),
  ),
];

describe("docs/configuration.md", () => {
  it("has well-formed tables: a header, its separator, then one row per variable", () => {
    const malformed = tables()
      .filter(({ rows }) => rows[0] !== HEADER || rows[1] !== SEPARATOR || rows.slice(2).some((line) => !ROW.test(line)))
      .map(({ line, rows }) => ({ line: line + 1, first: rows[0] }));
    expect(malformed).toEqual([]);
  });

  it("documents every variable the code reads exactly once, and none it does not read", () => {
    const names = documented.map(({ name }) => name);
    expect(declared.filter(({ name }) => !names.includes(name)).map(({ name, owner }) => `${owner}: ${name}`)).toEqual([]);
    expect(names.filter((name) => !declared.some((d) => d.name === name))).toEqual([]);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  it("states every variable's default and meaning as its declaration does", () => {
    const drifted = declared
      .map(({ name, variable }) => ({ name, docs: documented.find((d) => d.name === name)?.line, schema: row(name, variable) }))
      .filter(({ docs, schema }) => docs !== undefined && docs !== schema);
    expect(drifted).toEqual([]);
  });

  it("lists each vendor's variables in its own table, in the order its spec declares them", () => {
    for (const module of vendorModules) {
      expect({ vendor: module.id, rows: tableAfter(`**${module.displayName}**`) }).toEqual({
        vendor: module.id,
        rows: Object.entries(module.env).map(([name, variable]) => row(name, variable)),
      });
    }
  });

  it("keeps the application's variables above the vendors'", () => {
    const vendors = text.indexOf("\n**Vendors**");
    expect(vendors).toBeGreaterThan(0);
    expect(Object.keys(APP_ENV).filter((name) => text.indexOf(`| \`${name}\` |`) > vendors)).toEqual([]);
  });
});
