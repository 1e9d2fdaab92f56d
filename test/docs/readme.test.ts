import { describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
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

// docs/configuration.md's variable tables are checked row by row in configuration.test.ts.
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
