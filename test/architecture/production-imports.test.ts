import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * The modules a file loads when it is imported: static `import … from` and `export … from`
 * (with verbatimModuleSyntax even `import { type X }` loads its module), but not `import type`,
 * which is erased, nor `import()`, which loads only when it runs.
 */
function staticImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(/^(import|export)(?!\s+type\s)[^;]*?\sfrom\s+"([^"]+)";/gms)) {
    const spec = match[2]!;
    if (spec.startsWith(".")) found.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, ".ts"));
  }
  return found;
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...staticImports(file));
  }
  return seen;
}

describe("what a production process loads", () => {
  const loaded = [...reachable(path.join(SRC, "main.ts"))].map((file) => path.relative(SRC, file));

  it("loads no sandbox code until a sandbox starts (vendor sandboxes are imported on demand)", () => {
    expect(loaded.filter((file) => /(^|\/)sandbox(\/kit)?\.ts$/.test(file) || file.startsWith("sandbox/kit"))).toEqual([]);
    // The check itself must see the graph: main reaches every vendor's adapter.
    expect(loaded).toEqual(expect.arrayContaining(["vendors/carnival/index.ts", "vendors/carnival/client.ts", "http/client.ts"]));
  });

  it("loads no dev tooling", () => {
    expect(loaded.filter((file) => file.startsWith("dev/"))).toEqual([]);
  });
});
