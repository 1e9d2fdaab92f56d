import { copyFile, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { schemaChanges } from "./schema-changes.js";

/**
 * `npm run schema:breaking`: compares schema.graphql with schema.published.graphql (the schema
 * clients were last given) and exits 1 on a breaking change. After a deliberate breaking release,
 * `npm run schema:breaking -- --accept` makes the current schema the published one.
 */
const current = fileURLToPath(new URL("../../schema.graphql", import.meta.url));
const published = fileURLToPath(new URL("../../schema.published.graphql", import.meta.url));

if (process.argv.includes("--accept")) {
  await copyFile(current, published);
  process.stdout.write("schema.published.graphql is now schema.graphql\n");
} else {
  const { breaking, dangerous } = schemaChanges(await readFile(published, "utf8"), await readFile(current, "utf8"));
  for (const change of dangerous) process.stdout.write(`dangerous: ${change.type}: ${change.description}\n`);
  for (const change of breaking) process.stdout.write(`BREAKING: ${change.type}: ${change.description}\n`);
  if (breaking.length > 0) {
    process.stderr.write(
      `${breaking.length} breaking change(s) against schema.published.graphql; if intended, release them and run \`npm run schema:breaking -- --accept\`\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`no breaking change against schema.published.graphql (${dangerous.length} dangerous)\n`);
}
