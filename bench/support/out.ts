import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DIST } from "./proc.js";

/** bench/out/ in the source tree (ignored by git): raw JSON of the latest run of each benchmark. */
export const OUT_DIR = path.resolve(DIST, "../bench/out");

export function writeOut(name: string, data: unknown): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const line = (cells: ReadonlyArray<string | number>): string => `| ${cells.map(String).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}
