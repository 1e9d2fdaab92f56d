import "reflect-metadata";
import { describe, expect, it } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { renderSchemaFile } from "../../src/schema-file.js";

describe("schema.graphql", () => {
  it("is exactly what the code generates (run `npm run schema:print` after changing the schema)", async () => {
    const committed = await readFile(new URL("../../schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(await renderSchemaFile());
  });
});
