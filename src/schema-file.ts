import { buildSubgraph } from "./graphql/schema.js";

export const SCHEMA_BANNER =
  "# Generated from the code by `npm run schema:print`. Do not edit: test/federation/schema-fresh.test.ts fails when it is stale.\n\n";

/** The committed schema.graphql's exact content for the current code and vendor registry. */
export async function renderSchemaFile(): Promise<string> {
  const { sdl } = await buildSubgraph();
  return SCHEMA_BANNER + sdl;
}
