import "reflect-metadata";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { composeDeploySupergraph } from "./supergraph.js";

/** `npm run supergraph:compose` writes deploy/supergraph.graphql; `--check` only verifies it. */
const target = fileURLToPath(new URL("../../deploy/supergraph.graphql", import.meta.url));
const expected = await composeDeploySupergraph();

if (process.argv.includes("--check")) {
  const current = await readFile(target, "utf8").catch(() => "");
  if (current !== expected) {
    process.stderr.write("deploy/supergraph.graphql is stale: run `npm run supergraph:compose`\n");
    process.exit(1);
  }
  process.stdout.write("deploy/supergraph.graphql is up to date\n");
} else {
  await writeFile(target, expected);
  process.stdout.write(`wrote ${target}\n`);
}
