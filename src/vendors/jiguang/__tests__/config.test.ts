import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { parseCatalog } from "../catalog.js";
import { readJiguangConfig, SANDBOX_CATALOG } from "../config.js";
import { jiguang } from "../index.js";

const dir = mkdtempSync(join(tmpdir(), "jiguang-catalog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const CREDENTIALS = { JIGUANG_PROJECT_ID: "project-1", JIGUANG_PROJECT_SECRET: "secret-1" };

describe("attribute catalog", () => {
  it.each([
    [
      "JSON",
      "catalog.json",
      '{"attributes": {"points": {"type": "NUMBER", "rule": "accumulate"}, "tags": {"type": "LIST", "rule": "append", "description": "interests"}}}',
    ],
    [
      "YAML",
      "catalog.yaml",
      "attributes:\n  points: { type: NUMBER, rule: accumulate }\n  tags:\n    type: LIST\n    rule: append\n    description: interests\n",
    ],
    [
      "YAML, any case for type and rule",
      "catalog-case.yml",
      "attributes:\n  points: { type: number, rule: ACCUMULATE }\n  tags: { type: List, rule: Append }\n",
    ],
  ])("reads %s", (_format, name, text) => {
    const result = readJiguangConfig({ ...CREDENTIALS, JIGUANG_ATTRIBUTES_FILE: file(name, text) });
    expect(result.status).toBe("configured");
    if (result.status !== "configured") return;
    expect([...result.config.catalog!.attributes]).toEqual([
      ["points", { type: "NUMBER", rule: "accumulate" }],
      ["tags", { type: "LIST", rule: "append" }],
    ]);
    expect(result.config.catalog!.source).toBe(`attribute catalog "${join(dir, name)}"`);
  });

  it.each<[string, string, string[]]>([
    ["not JSON or YAML", '{"attributes": {', ["not valid JSON or YAML at line 1, column 17: Flow map must end with a }"]],
    [
      "a duplicate attribute",
      "attributes:\n  points: { type: NUMBER, rule: accumulate }\n  points: { type: NUMBER, rule: overwrite }\n",
      ["not valid JSON or YAML at line 3, column 3: Map keys must be unique"],
    ],
    ["a list at the top", "- points", ['expected an object with an "attributes" map at the top level']],
    ["no attributes map", "attrs: {}", ['unknown top-level key "attrs"', '"attributes" must map attribute names to {type, rule}']],
    ["an empty map", "attributes: {}", ['"attributes" is empty']],
    [
      "a name Jiguang cannot have",
      "attributes:\n  Points: { type: NUMBER, rule: accumulate }",
      ['attribute "Points": Jiguang attribute names use lowercase letters, digits and "_", starting with a letter'],
    ],
    [
      "an unknown type",
      "attributes:\n  points: { type: INTEGER, rule: accumulate }",
      ['attribute "points": type must be one of NUMBER, STRING, BOOL, DATETIME, LIST; got "INTEGER"'],
    ],
    [
      "a missing rule",
      "attributes:\n  points: { type: NUMBER }",
      ['attribute "points": rule must be one of once, overwrite, accumulate, append; got nothing'],
    ],
    [
      "a rule the type cannot have",
      "attributes:\n  name: { type: STRING, rule: accumulate }",
      ['attribute "name": a STRING attribute cannot have the accumulate rule (allowed: once, overwrite)'],
    ],
    [
      "append on a NUMBER",
      "attributes:\n  n: { type: NUMBER, rule: append }",
      ['attribute "n": a NUMBER attribute cannot have the append rule'],
    ],
    [
      "a misspelt key",
      "attributes:\n  points: { type: NUMBER, rules: accumulate }",
      ['attribute "points": unknown key "rules"', 'attribute "points": rule must be one of'],
    ],
    ["an entry that is not an object", "attributes:\n  points: NUMBER", ['attribute "points": expected {type, rule}']],
  ])("rejects %s, naming the file and the entry", (_case, text, expected) => {
    const path = file(`bad-${expected.length}-${Math.random().toString(36).slice(2)}.yaml`, text);
    const result = readJiguangConfig({ ...CREDENTIALS, JIGUANG_ATTRIBUTES_FILE: path });
    expect(result.status).toBe("invalid");
    if (result.status !== "invalid") return;
    for (const fragment of expected) {
      expect(result.problems).toContainEqual(expect.stringContaining(fragment));
    }
    for (const problem of result.problems) expect(problem).toContain(`attribute catalog "${path}"`);
  });

  it("reports a file that cannot be read", () => {
    const result = readJiguangConfig({ ...CREDENTIALS, JIGUANG_ATTRIBUTES_FILE: join(dir, "missing.yaml") });
    expect(result).toEqual({ status: "invalid", problems: [`cannot read the attribute catalog "${join(dir, "missing.yaml")}" (ENOENT)`] });
  });

  it("accepts the catalog inline (JIGUANG_ATTRIBUTES), as JSON or YAML, but not together with a file", () => {
    const inline = readJiguangConfig({ ...CREDENTIALS, JIGUANG_ATTRIBUTES: "attributes:\n  plan: { type: STRING, rule: overwrite }" });
    expect(inline.status === "configured" && inline.config.catalog!.source).toBe("attribute catalog in JIGUANG_ATTRIBUTES");
    const both = readJiguangConfig({ ...CREDENTIALS, JIGUANG_ATTRIBUTES: "{}", JIGUANG_ATTRIBUTES_FILE: "/x.yaml" });
    expect(both).toEqual({ status: "invalid", problems: ["set JIGUANG_ATTRIBUTES_FILE or JIGUANG_ATTRIBUTES, not both"] });
  });

  it("the sandbox catalog is valid and covers every type and rule", () => {
    const result = parseCatalog(JSON.stringify(SANDBOX_CATALOG), "sandbox");
    expect(result.ok).toBe(true);
    const definitions = result.ok ? [...result.catalog.attributes.values()] : [];
    expect(new Set(definitions.map((d) => d.type))).toEqual(new Set(["NUMBER", "STRING", "BOOL", "DATETIME", "LIST"]));
    expect(new Set(definitions.map((d) => d.rule))).toEqual(new Set(["once", "overwrite", "accumulate", "append"]));
  });
});

describe("Jiguang configuration", () => {
  it("is absent without project id and secret, whatever else is set", () => {
    expect(readJiguangConfig({ JIGUANG_ATTRIBUTES_FILE: "/nowhere.yaml", JIGUANG_TIMEZONE: "Mars/Base" })).toEqual({ status: "absent" });
  });

  it.each([
    [{ JIGUANG_PROJECT_ID: "p" }, "JIGUANG_PROJECT_ID is set but JIGUANG_PROJECT_SECRET is not; set both or neither"],
    [{ JIGUANG_PROJECT_SECRET: "s" }, "JIGUANG_PROJECT_SECRET is set but JIGUANG_PROJECT_ID is not; set both or neither"],
    [{ ...CREDENTIALS, JIGUANG_PROJECT_ID: "a:b" }, 'JIGUANG_PROJECT_ID must not contain ":"'],
    [{ ...CREDENTIALS, JIGUANG_TIMEZONE: "Beijing" }, 'JIGUANG_TIMEZONE must be an IANA time zone such as Asia/Shanghai; got "Beijing"'],
    [{ ...CREDENTIALS, JIGUANG_RATE_LIMIT: "0" }, 'JIGUANG_RATE_LIMIT must be a positive number; got "0"'],
    [{ ...CREDENTIALS, JIGUANG_API_URL: "ftp://x" }, 'JIGUANG_API_URL must be an http(s) URL; got "ftp://x"'],
  ])("is invalid with %j", (env, problem) => {
    expect(readJiguangConfig(env)).toEqual({ status: "invalid", problems: [problem] });
  });

  it("reports every bad variable at once, with the rules between them", () => {
    expect(
      readJiguangConfig({
        JIGUANG_PROJECT_ID: "a:b",
        JIGUANG_API_URL: "https://user:pw@growth.jiguang.test",
        JIGUANG_TIMEZONE: "Beijing",
        JIGUANG_RATE_LIMIT: "0",
        JIGUANG_TIMEOUT_MS: "-5",
      }),
    ).toEqual({
      status: "invalid",
      problems: [
        "JIGUANG_API_URL must not contain credentials; use JIGUANG_PROJECT_ID and JIGUANG_PROJECT_SECRET",
        'JIGUANG_PROJECT_ID must not contain ":"',
        'JIGUANG_TIMEZONE must be an IANA time zone such as Asia/Shanghai; got "Beijing"',
        'JIGUANG_RATE_LIMIT must be a positive number; got "0"',
        'JIGUANG_TIMEOUT_MS must be a positive number; got "-5"',
        "JIGUANG_PROJECT_ID is set but JIGUANG_PROJECT_SECRET is not; set both or neither",
      ],
    });
  });

  it("has documented defaults", () => {
    expect(readJiguangConfig(CREDENTIALS)).toEqual({
      status: "configured",
      config: {
        baseUrl: "https://growth.jiguang.cn",
        projectId: "project-1",
        projectSecret: "secret-1",
        timeZone: "Asia/Shanghai",
        ratePerSecond: 100,
        timeoutMs: 10_000,
      },
    });
    for (const name of ["JIGUANG_API_URL", "JIGUANG_TIMEZONE", "JIGUANG_RATE_LIMIT", "JIGUANG_TIMEOUT_MS"]) {
      expect(jiguang.env[name]?.default).toBeDefined();
    }
    expect(jiguang.env.JIGUANG_PROJECT_SECRET?.secret).toBe(true);
  });

  it("canonicalizes the time zone and trims the identity name", () => {
    const result = readJiguangConfig({ ...CREDENTIALS, JIGUANG_TIMEZONE: "america/new_york", JIGUANG_IDENTITY_NAME: " login_id " });
    expect(result.status === "configured" && [result.config.timeZone, result.config.identityName]).toEqual([
      "America/New_York",
      "login_id",
    ]);
  });

  it("describes its target without secrets or the project id", () => {
    const result = readJiguangConfig({ ...CREDENTIALS, JIGUANG_ATTRIBUTES: JSON.stringify(SANDBOX_CATALOG) });
    if (result.status !== "configured") throw new Error("expected a configuration");
    const text = jiguang.describe(result.config);
    expect(text).toBe(
      "https://growth.jiguang.cn; 13 attributes (attribute catalog in JIGUANG_ATTRIBUTES); user ids are CUIDs; DATETIME in Asia/Shanghai; 100 QPS",
    );
    expect(text).not.toContain("secret-1");
    expect(text).not.toContain("project-1");
  });

  it("sandboxEnv wins over an operator's catalog file, so adapter and sandbox share one catalog", () => {
    const env = { JIGUANG_ATTRIBUTES_FILE: "/operator/catalog.yaml", ...jiguang.sandboxEnv("http://127.0.0.1:1") };
    const result = readJiguangConfig(env);
    expect(result.status === "configured" && result.config.catalog?.attributes.size).toBe(13);
  });
});
