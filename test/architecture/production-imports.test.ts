import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { parse as parseYaml } from "yaml";
import { GRAPHIQL_ASSETS } from "../../src/server/graphiql.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = path.join(ROOT, "src");
const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(ROOT, file), "utf8")) as T;

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

/**
 * Every module a file may load, now or when a branch runs: relative files (static and dynamic
 * imports) and packages (bare specifiers), but not `import type`, which is erased.
 */
function allImports(file: string): { files: string[]; packages: string[] } {
  const text = readFileSync(file, "utf8");
  const files: string[] = [];
  const packages: string[] = [];
  const specs = [
    ...[...text.matchAll(/^(?:import|export)(?!\s+type\s)[^;]*?\sfrom\s+"([^"]+)";/gms)].map((m) => m[1]!),
    ...[...text.matchAll(/^import\s+"([^"]+)";/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!),
  ];
  for (const spec of specs) {
    if (spec.startsWith(".")) files.push(path.resolve(path.dirname(file), spec).replace(/\.js$/, ".ts"));
    else packages.push(spec);
  }
  return { files, packages };
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for Node's own modules. */
function packageName(spec: string): string | undefined {
  if (spec.startsWith("node:") || builtinModules.includes(spec.split("/")[0]!)) return undefined;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

describe("what the production image holds and loads", () => {
  const image = readJson<{ files: string[] }>("tsconfig.image.json");
  const entries = image.files.map((file) => path.join(ROOT, file));

  it("builds exactly the entry points the image runs: Dockerfile CMD, npm start and worker, compose.yaml's commands", () => {
    const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
    const compose = parseYaml(readFileSync(path.join(ROOT, "compose.yaml"), "utf8")) as {
      services: Record<string, { command?: string[] }>;
    };
    const pkg = readJson<{ scripts: Record<string, string> }>("package.json");
    const run = [
      ...[...dockerfile.matchAll(/"(dist\/[^"]+\.js)"/g)].map((m) => m[1]!),
      ...[pkg.scripts.start!, pkg.scripts.worker!].map((script) => /(dist\/\S+\.js)/.exec(script)![1]!),
      ...Object.values(compose.services).flatMap((service) => (service.command ?? []).filter((arg) => /^dist\/.*\.js$/.test(arg))),
    ].map((distFile) => distFile.replace(/^dist\//, "src/").replace(/\.js$/, ".ts"));
    expect([...new Set(run)].sort()).toEqual([...image.files].sort());
    expect(dockerfile).toMatch(/^COPY tsconfig\.json tsconfig\.build\.json tsconfig\.image\.json \.\/$/m);
    expect(dockerfile).toMatch(/^RUN npm run build:image$/m);
    expect(pkg.scripts["build:image"]).toBe("rm -rf dist && tsc -p tsconfig.image.json");
  });

  it("resolves only production dependencies from everything those entry points can load (npm ci --omit=dev)", () => {
    const pkg = readJson<{ dependencies: Record<string, string>; devDependencies: Record<string, string> }>("package.json");
    const seen = new Set<string>();
    const used = new Map<string, string>();
    const queue = [...entries];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const { files, packages } = allImports(file);
      queue.push(...files);
      for (const spec of packages) {
        const name = packageName(spec);
        if (name && !used.has(name)) used.set(name, path.relative(SRC, file));
      }
    }
    // GraphiQL's page serves files of these packages, found through require.resolve at start-up.
    for (const asset of Object.values(GRAPHIQL_ASSETS)) {
      const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(asset.file)![1]!;
      if (!used.has(name)) used.set(name, "server/graphiql.ts");
    }
    const notProduction = [...used].filter(([name]) => !(name in pkg.dependencies)).map(([name, from]) => `${name} (from ${from})`);
    expect(notProduction).toEqual([]);
    // The walk itself must see the graph: sandboxes (imported on demand) and the entry points' packages.
    expect([...seen].map((file) => path.relative(SRC, file))).toEqual(
      expect.arrayContaining(["vendors/carnival/sandbox.ts", "dev/users-main.ts"]),
    );
    expect([...used.keys()]).toEqual(expect.arrayContaining(["@apollo/server", "ioredis", "bullmq", "graphiql"]));
    // Dev tooling that needs dev dependencies is not in the image at all.
    expect(
      [...seen].map((file) => path.relative(SRC, file)).filter((file) => /^dev\/(gateway|stack|compose-supergraph)/.test(file)),
    ).toEqual([]);
  });
});

describe.each(["main.ts", "worker-main.ts"])("what a production process loads (%s)", (entry) => {
  const loaded = [...reachable(path.join(SRC, entry))].map((file) => path.relative(SRC, file));

  it("loads no sandbox code until a sandbox starts (vendor sandboxes are imported on demand)", () => {
    // Of sandbox/, only the fault vocabulary (the header name, SANDBOX_FAULTS' parser; no server) is loaded.
    expect(
      loaded.filter((file) => /(^|\/)sandbox\.ts$/.test(file) || (file.startsWith("sandbox/") && file !== "sandbox/faults.ts")),
    ).toEqual([]);
    // The check itself must see the graph: both reach every vendor's adapter.
    expect(loaded).toEqual(expect.arrayContaining(["vendors/carnival/index.ts", "vendors/carnival/client.ts", "http/client.ts"]));
  });

  it("loads no dev tooling", () => {
    expect(loaded.filter((file) => file.startsWith("dev/"))).toEqual([]);
  });
});

describe("the Node versions production dependencies support", () => {
  it("includes the oldest of every line package.json engines allows (what npm ci --omit=dev checks)", () => {
    const { engines } = readJson<{ engines: { node: string } }>("package.json");
    const oldest = engines.node.split("||").map((range) => semver.minVersion(range.trim())!.version);
    expect(oldest).toEqual(["20.19.0", "22.13.0"]);
    const installed = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter((dir) => dir.includes("node_modules"));
    expect(installed.length).toBeGreaterThan(50);
    const refusing = [...new Set(installed)].flatMap((dir) => {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name: string;
        version: string;
        engines?: { node?: string };
      };
      const range = pkg.engines?.node;
      return range && oldest.some((version) => !semver.satisfies(version, range)) ? [`${pkg.name}@${pkg.version} (node ${range})`] : [];
    });
    expect(refusing).toEqual([]);
  });
});
