import { describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { APP_ENV } from "../../src/config/app-config.js";
import { vendorModules } from "../../src/vendors/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFile(path.join(ROOT, file), "utf8");
const DOCS = ["README.md", ...(await readdir(path.join(ROOT, "docs"))).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");

describe("README and docs/", () => {
  it("keeps the README to a first screen and a tour, with exactly two commands", async () => {
    const readme = await read("README.md");
    expect(readme.split("\n").length).toBeLessThan(80);
    const [, commands] = /## Two commands\n([\s\S]*?)\n## /.exec(readme)!;
    expect([...commands!.matchAll(/^```sh\n(.*)\n```$/gm)].map(([, command]) => command)).toEqual([
      "npm ci && npm run build && npm start",
      "npm ci && npm run check",
    ]);
  });

  it("documents every environment variable the code reads, in docs/configuration.md", async () => {
    const configuration = await read("docs/configuration.md");
    const names = [...Object.keys(APP_ENV), ...vendorModules.flatMap((m) => Object.keys(m.env))];
    expect(names.filter((name) => !configuration.includes(`\`${name}\``))).toEqual([]);
  });

  it("states each variable's default as the code has it (the defaults come from the same schema that reads them)", async () => {
    const configuration = await read("docs/configuration.md");
    const declared = new Map<string, string | undefined>([
      ...Object.entries(APP_ENV).map(([name, v]) => [name, v.default] as const),
      ...vendorModules.flatMap((m) => Object.entries(m.env).map(([name, v]) => [name, v.default] as const)),
    ]);
    const rows = [...configuration.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| `([^`|]*)` \|/gm)].map(([, name, documented]) => ({
      name: name!,
      documented,
    }));
    expect(rows.length).toBeGreaterThan(40);
    const mismatched = rows.filter(({ name, documented }) => declared.has(name) && declared.get(name) !== documented);
    expect(mismatched.map(({ name, documented }) => ({ name, docs: documented, code: declared.get(name) }))).toEqual([]);
  });

  it("links every vendor's own README", async () => {
    const vendors = await read("docs/vendors.md");
    expect(vendorModules.filter((m) => !vendors.includes(`src/vendors/${m.id}/README.md`)).map((m) => m.id)).toEqual([]);
  });

  it("has no broken relative link or anchor", async () => {
    const anchors = new Map<string, Set<string>>();
    for (const file of DOCS) {
      const text = await read(file);
      anchors.set(file, new Set([...text.matchAll(/^#{1,4} (.+)$/gm)].map(([, heading]) => slug(heading!))));
    }
    const broken: string[] = [];
    for (const file of DOCS) {
      const text = (await read(file)).replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [pathPart, anchor] = target!.split("#");
        const resolved = pathPart ? path.normalize(path.join(path.dirname(file), pathPart)) : file;
        if (!existsSync(path.join(ROOT, resolved))) broken.push(`${file}: ${target}`);
        else if (anchor && resolved.endsWith(".md") && anchors.has(resolved) && !anchors.get(resolved)!.has(anchor)) {
          broken.push(`${file}: ${target}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
