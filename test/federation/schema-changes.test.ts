import { describe, expect, it } from "@jest/globals";
import { readFile } from "node:fs/promises";
import { schemaChanges } from "../../src/tools/schema-changes.js";

const read = (file: string) => readFile(new URL(`../../${file}`, import.meta.url), "utf8");

/** The breaking-change check a CI runs (`npm run schema:breaking`): it must be able to fail. */
describe("breaking schema changes", () => {
  it("finds a removed field, and a union member added as dangerous", async () => {
    const schema = await read("schema.graphql");
    // The field and its description, whatever the description says.
    const removed = schema.replace(/\n {2}"""(?:(?!""")[\s\S])*"""\n {2}allDelivered: Boolean!/, "");
    expect(removed).not.toBe(schema);
    expect(schemaChanges(schema, removed).breaking).toEqual([
      { type: "FIELD_REMOVED", description: "AttributesUpdateSuccess.allDelivered was removed." },
    ]);
    const added = schema.replace(
      "union AttributesBulkJobCancelResult = AttributesBulkJob |",
      "type Extra { id: ID }\nunion AttributesBulkJobCancelResult = Extra | AttributesBulkJob |",
    );
    expect(schemaChanges(schema, added).dangerous).toEqual([expect.objectContaining({ type: "TYPE_ADDED_TO_UNION" })]);
  });

  it("passes for the committed schema against the published one (npm run schema:breaking)", async () => {
    expect(schemaChanges(await read("schema.published.graphql"), await read("schema.graphql")).breaking).toEqual([]);
  });
});
