/**
 * Builds a variant of the compiled subgraph for side-by-side comparisons (before/after a change,
 * or with one part switched off): a copy of dist-bench/src in dist-bench/variants/NAME/src where
 * some source files are replaced by their version at a git revision and/or patched by a literal
 * search-and-replace, then transpiled alone. Only for files without decorators (transpileModule
 * has no type information for decorator metadata).
 *
 *   node dist-bench/bench/support/make-variant.js NAME [src/http/client.ts@HEAD] [src/app.ts:SEARCH=>REPLACE]
 *
 * Prints the variant's main.js path.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { DIST } from "./proc.js";

const [name, ...specs] = process.argv.slice(2);
if (!name) throw new Error("usage: make-variant NAME [file@rev] [file:SEARCH=>REPLACE]");
const root = path.resolve(DIST, "..");
const target = path.join(DIST, "variants", name);
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
cpSync(path.join(DIST, "src"), path.join(target, "src"), { recursive: true });

const sources = new Map<string, string>();
for (const spec of specs) {
  const at = /^([^:@]+\.ts)@(.+)$/.exec(spec);
  const patch = /^([^:@]+\.ts):(.*)=>(.*)$/s.exec(spec);
  if (at) {
    sources.set(at[1]!, execFileSync("git", ["show", `${at[2]}:${at[1]}`], { cwd: root, encoding: "utf8" }));
  } else if (patch) {
    const file = patch[1]!;
    const text = sources.get(file) ?? readFileSync(path.join(root, file), "utf8");
    if (!text.includes(patch[2]!)) throw new Error(`${file} does not contain ${patch[2]}`);
    sources.set(file, text.split(patch[2]!).join(patch[3]));
  } else {
    throw new Error(`bad spec ${spec}`);
  }
}
for (const [file, text] of sources) {
  const output = ts.transpileModule(text, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022,
      verbatimModuleSyntax: true,
      experimentalDecorators: true,
    },
    fileName: file,
  });
  writeFileSync(path.join(target, file.replace(/\.ts$/, ".js")), output.outputText);
}
console.log(path.join(target, "src/main.js"));
