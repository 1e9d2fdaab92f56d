import { describe, expect, it } from "@jest/globals";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { vendorModules } from "../../src/vendors/index.js";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : Promise.resolve(e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []),
    ),
  );
  return nested.flat();
}

/** Every import of every source file, resolved to a path relative to src/ (packages stay bare). */
async function imports(): Promise<Array<{ from: string; to: string }>> {
  const result: Array<{ from: string; to: string }> = [];
  for (const file of await sourceFiles(SRC)) {
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\s*\(\s*"([^"]+)"\s*\)/g)) {
      const spec = match[1] ?? match[2]!;
      const from = path.relative(SRC, file);
      const to = spec.startsWith(".") ? path.relative(SRC, path.resolve(path.dirname(file), spec)) : `pkg:${spec}`;
      result.push({ from, to });
    }
  }
  return result;
}

const layer = (p: string) => p.split(path.sep)[0]!;
const vendorOf = (p: string) => (p.startsWith(`vendors${path.sep}`) ? p.split(path.sep)[1] : undefined);

describe("layer rules", () => {
  it("domain/ imports nothing outside domain/ (no GraphQL, HTTP or vendors)", async () => {
    const bad = (await imports()).filter(({ from, to }) => layer(from) === "domain" && !to.startsWith("domain"));
    expect(bad).toEqual([]);
  });

  it("graphql/ and bulk/ never import a vendor; graphql/ reads only the registry's declarations (ids and option specs)", async () => {
    const declarations = path.join("vendors", "declarations.js");
    const bad = (await imports()).filter(
      ({ from, to }) =>
        ["graphql", "bulk"].includes(layer(from)) &&
        to.startsWith(`vendors${path.sep}`) &&
        !(layer(from) === "graphql" && to === declarations),
    );
    expect(bad).toEqual([]);
    const viaDeclarations = (await imports()).filter(({ from, to }) => layer(from) === "graphql" && to === declarations);
    expect(viaDeclarations.map((i) => i.from).sort()).toEqual([
      path.join("graphql", "inputs", "vendor-options.input.ts"),
      path.join("graphql", "vendor.enum.ts"),
    ]);
  });

  it("a vendor folder never imports another vendor, the GraphQL layer or GraphQL packages", async () => {
    const bad = (await imports()).filter(({ from, to }) => {
      const vendor = vendorOf(from);
      if (!vendor || !from.split(path.sep)[2]) return false;
      const targetVendor = vendorOf(to);
      const isFolder = to.split(path.sep).length > 2;
      return (
        (targetVendor !== undefined && targetVendor !== vendor && isFolder) ||
        layer(to) === "graphql" ||
        /^pkg:(graphql|type-graphql|@apollo\/)/.test(to)
      );
    });
    expect(bad).toEqual([]);
  });
});

describe("vendor registry", () => {
  it("has exactly one entry per vendor folder, with matching ids", async () => {
    const folders = (await readdir(path.join(SRC, "vendors"), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(vendorModules.map((m) => m.id).sort()).toEqual(folders);
  });

  it("gives every vendor the same file set", async () => {
    const required = [
      "index.ts",
      "config.ts",
      "capabilities.ts",
      "mapper.ts",
      "client.ts",
      "adapter.ts",
      "errors.ts",
      "sandbox.ts",
      "api-version.ts",
      "README.md",
      "__tests__",
    ];
    for (const module of vendorModules) {
      const files = await readdir(path.join(SRC, "vendors", module.id));
      expect({ vendor: module.id, missing: required.filter((f) => !files.includes(f)) }).toEqual({ vendor: module.id, missing: [] });
      // The same roles in the same files: the HTTP calls in client.ts, the adapter (check/update/…) in adapter.ts.
      const client = await readFile(path.join(SRC, "vendors", module.id, "client.ts"), "utf8");
      const adapter = await readFile(path.join(SRC, "vendors", module.id, "adapter.ts"), "utf8");
      expect({ vendor: module.id, adapterInClient: /implements ClosableAdapter/.test(client) }).toEqual({
        vendor: module.id,
        adapterInClient: false,
      });
      expect({ vendor: module.id, adapterInAdapter: /implements ClosableAdapter/.test(adapter) }).toEqual({
        vendor: module.id,
        adapterInAdapter: true,
      });
    }
  });

  it("declares every environment variable with a description, and secrets as secrets", () => {
    for (const module of vendorModules) {
      const names = Object.keys(module.env);
      expect(names.length).toBeGreaterThan(0);
      for (const [name, variable] of Object.entries(module.env)) {
        expect(name.startsWith(module.id.toUpperCase())).toBe(true);
        expect(variable.description.length).toBeGreaterThan(10);
        if (/KEY|SECRET|TOKEN|PASSWORD/.test(name) && !/_FILE$/.test(name))
          expect({ name, secret: variable.secret }).toEqual({ name, secret: true });
      }
    }
  });
});
