import "reflect-metadata";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { renderSchemaFile } from "../schema-file.js";

const target = fileURLToPath(new URL("../../schema.graphql", import.meta.url));
const expected = await renderSchemaFile();

if (process.argv.includes("--check")) {
  const current = await readFile(target, "utf8").catch(() => "");
  if (current !== expected) {
    process.stderr.write("schema.graphql is stale: run `npm run schema:print`\n");
    process.exit(1);
  }
  process.stdout.write("schema.graphql is up to date\n");
} else {
  await writeFile(target, expected);
  process.stdout.write(`wrote ${target}\n`);
}
