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

  it("links every vendor's own README", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    expect(vendorModules.filter((m) => !readme.includes(`src/vendors/${m.id}/README.md`)).map((m) => m.id)).toEqual([]);
  });
});
