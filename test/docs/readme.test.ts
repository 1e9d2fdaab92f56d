import { describe, expect, it } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { APP_ENV } from "../../src/config/app-config.js";
import { vendorModules } from "../../src/vendors/index.js";

describe("README", () => {
  it("documents every environment variable the code reads", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const names = [...Object.keys(APP_ENV), ...vendorModules.flatMap((m) => Object.keys(m.env))];
    expect(names.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it("states each variable's default as the code has it (the defaults come from the same schema that reads them)", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const declared = new Map<string, string | undefined>([
      ...Object.entries(APP_ENV).map(([name, v]) => [name, v.default] as const),
      ...vendorModules.flatMap((m) => Object.entries(m.env).map(([name, v]) => [name, v.default] as const)),
    ]);
    const rows = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| `([^`|]*)` \|/gm)].map(([, name, documented]) => ({ name: name!, documented }));
    expect(rows.length).toBeGreaterThan(40);
    const mismatched = rows.filter(({ name, documented }) => declared.has(name) && declared.get(name) !== documented);
    expect(mismatched.map(({ name, documented }) => ({ name, readme: documented, code: declared.get(name) }))).toEqual([]);
  });

  it("links every vendor's own README", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    expect(vendorModules.filter((m) => !readme.includes(`src/vendors/${m.id}/README.md`)).map((m) => m.id)).toEqual([]);
  });
});
