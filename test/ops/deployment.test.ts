import "reflect-metadata";
import { composeServices } from "@apollo/composition";
import { describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseGraphQL } from "graphql";
import { parse as parseYaml } from "yaml";
import { APP_ENV } from "../../src/config/app-config.js";
import { composeDeploySupergraph } from "../../src/dev/supergraph.js";
import { USERS_SDL } from "../../src/dev/users-subgraph.js";
import { vendorModules } from "../../src/vendors/index.js";

/**
 * Docker cannot run here, so the deployment files are checked for what can be checked without it:
 * they name files that exist, variables the code reads, and a supergraph that is current.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFile(path.join(ROOT, file), "utf8");
const KNOWN_VARIABLES = new Set([...Object.keys(APP_ENV), ...vendorModules.flatMap((m) => Object.keys(m.env))]);
/** The compiled file of an entry point under dist/, as `npm run build` writes it. */
const sourceOf = (distFile: string) => distFile.replace(/^dist\//, "src/").replace(/\.js$/, ".ts");

describe("supergraph files", () => {
  it("keeps deploy/supergraph.graphql current (npm run supergraph:compose)", async () => {
    expect(await read("deploy/supergraph.graphql")).toBe(await composeDeploySupergraph());
  });

  it("keeps src/dev/users.graphql equal to the users subgraph's SDL", async () => {
    expect(await read("src/dev/users.graphql")).toBe(USERS_SDL);
  });

  it("gives Rover a supergraph.yaml that composes, with the version the tests compose with", async () => {
    const config = parseYaml(await read("supergraph.yaml")) as {
      federation_version: string;
      subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
    };
    const composition = JSON.parse(await read("node_modules/@apollo/composition/package.json")) as { version: string };
    expect(config.federation_version).toBe(`=${composition.version}`);
    expect(Object.fromEntries(Object.entries(config.subgraphs).map(([name, s]) => [name, s.routing_url]))).toEqual({
      users: "http://localhost:4002/",
      attributes: "http://localhost:4001/",
    });
    const services = await Promise.all(
      Object.entries(config.subgraphs).map(async ([name, subgraph]) => ({
        name,
        url: subgraph.routing_url,
        typeDefs: parseGraphQL(await read(subgraph.schema.file)),
      })),
    );
    const result = composeServices(services);
    expect(result.errors ?? []).toEqual([]);
  });

  it("points deploy/supergraph.yaml at files that exist, relative to itself", async () => {
    const config = parseYaml(await read("deploy/supergraph.yaml")) as {
      federation_version: string;
      subgraphs: Record<string, { routing_url: string; schema: { file?: string } }>;
    };
    expect(config.federation_version).toBe((parseYaml(await read("supergraph.yaml")) as { federation_version: string }).federation_version);
    for (const subgraph of Object.values(config.subgraphs)) {
      if (subgraph.schema.file) expect(existsSync(path.join(ROOT, "deploy", subgraph.schema.file))).toBe(true);
    }
    expect(
      Object.values(config.subgraphs)
        .map((s) => s.routing_url)
        .sort(),
    ).toEqual(["http://attributes:4001/", "http://users:4002/"]);
  });
});

describe("Dockerfile", () => {
  it("builds in one stage and runs production dependencies only, as a non-root user", async () => {
    const dockerfile = await read("Dockerfile");
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.map((stage) => stage.split("\n")[0])).toEqual([
      "${NODE_IMAGE} AS build",
      "${NODE_IMAGE} AS production-dependencies",
      "${NODE_IMAGE} AS runtime",
    ]);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+-[a-z]+-slim$/m);
    // The image runs the major version the tests run on, at a minor that package.json's engines allow.
    const [, major, minor] = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)-/m.exec(dockerfile)!.map(Number);
    expect(major).toBe(Number(process.versions.node.split(".")[0]));
    const { engines } = JSON.parse(await read("package.json")) as { engines: { node: string } };
    expect(engines.node).toBe("^20.19.0 || >=22.13.0");
    expect(major === 20 ? minor! >= 19 : major! >= 22).toBe(true);
    const [build, dependencies, runtime] = stages as [string, string, string];
    expect(build).toContain("RUN npm ci ");
    expect(build).toContain("RUN npm run build:image");
    expect(dependencies).toContain("npm ci --omit=dev");
    expect(runtime).toContain("ENV NODE_ENV=production");
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^EXPOSE 4001$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/health/m);
    expect(runtime).not.toMatch(/^RUN /m);
    // Only built code, production node_modules and package.json reach the runtime image.
    expect([...runtime.matchAll(/^COPY (.*)$/gm)].map((m) => m[1])).toEqual([
      "--from=production-dependencies /app/node_modules ./node_modules",
      "--from=build /app/dist ./dist",
      "package.json ./",
    ]);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
    expect(cmd).toEqual([
      "node",
      "--enable-source-maps",
      "--no-memory-reducer",
      "--max-semi-space-size=16",
      "--heap-growing-percent=100",
      "dist/main.js",
    ]);
    // `npm start` runs the same command, so what is measured and run locally is what ships.
    const pkg = JSON.parse(await read("package.json")) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe(cmd.join(" "));
    expect(existsSync(path.join(ROOT, sourceOf(cmd.at(-1)!)))).toBe(true);
    // What the build stage copies exists.
    for (const copied of [...build.matchAll(/^COPY (?!--)(.*) \.\/\S*$/gm)].flatMap((m) => m[1]!.split(" "))) {
      expect({ copied, exists: existsSync(path.join(ROOT, copied)) }).toEqual({ copied, exists: true });
    }
  });

  it("keeps secrets and build output out of the build context", async () => {
    const ignored = (await read(".dockerignore")).split("\n").map((line) => line.trim());
    for (const entry of [".git", "node_modules", "dist", ".env", ".env.*", "test-artifacts"]) expect(ignored).toContain(entry);
  });
});

describe("compose.yaml", () => {
  const load = async () =>
    parseYaml(await read("compose.yaml"), { merge: true }) as {
      services: Record<
        string,
        {
          image?: string;
          build?: string;
          command?: string[];
          environment?: Record<string, string>;
          volumes?: string[];
          depends_on?: Record<string, unknown>;
        }
      >;
    };

  it("runs both subgraphs from this image and the router on the committed supergraph", async () => {
    const { services } = await load();
    expect(Object.keys(services).sort()).toEqual(["attributes", "redis", "router", "sandboxes", "users", "worker"]);
    expect(services.attributes!.build).toBe(".");
    expect(services.users!.image).toBe(services.attributes!.image);
    const usersEntry = services.users!.command!.at(-1)!;
    expect(existsSync(path.join(ROOT, sourceOf(usersEntry)))).toBe(true);
    expect(services.router!.image).toMatch(/^ghcr\.io\/apollographql\/router:v2\.\d+\.\d+$/);
    for (const volume of services.router!.volumes ?? []) {
      const source = volume.split(":")[0]!;
      expect({ volume, exists: existsSync(path.join(ROOT, source)) }).toEqual({ volume, exists: true });
    }
    expect(Object.keys(services.router!.depends_on ?? {}).sort()).toEqual(["attributes", "users"]);
  });

  it("runs shared mode: replicas and a worker on one Redis that never evicts, all reaching the same sandbox vendors", async () => {
    const { services } = await load();
    const pkg = JSON.parse(await read("package.json")) as { scripts: { worker: string } };
    expect(services.worker!.command!.join(" ")).toBe(pkg.scripts.worker);
    expect(existsSync(path.join(ROOT, sourceOf(services.worker!.command!.at(-1)!)))).toBe(true);
    expect(existsSync(path.join(ROOT, sourceOf(services.sandboxes!.command!.at(-1)!)))).toBe(true);
    expect(services.redis!.image).toMatch(/^redis:7/);
    expect(services.redis!.command).toEqual(expect.arrayContaining(["--maxmemory-policy", "noeviction"]));
    for (const name of ["attributes", "worker"]) {
      const environment = services[name]!.environment ?? {};
      expect(environment.REDIS_URL).toBe("redis://redis:6379");
      // Vendor i of the registry is served by the sandboxes service on 4101 + i, as each vendor's sandboxEnv says.
      vendorModules.forEach((module, index) => {
        for (const [variable, value] of Object.entries(module.sandboxEnv(`http://sandboxes:${4101 + index}`))) {
          if (value !== undefined)
            expect({ service: name, variable, value: environment[variable] }).toEqual({ service: name, variable, value });
        }
      });
    }
    expect(services.attributes!.environment!.BULK_WORKER).toBe("false");
  });

  it("sets only variables the subgraph reads, and the schema flavour the router's supergraph was composed from", async () => {
    const { services } = await load();
    const environment = services.attributes!.environment ?? {};
    expect(Object.keys(environment).filter((name) => !KNOWN_VARIABLES.has(name))).toEqual([]);
    expect(Object.keys(services.worker!.environment ?? {}).filter((name) => !KNOWN_VARIABLES.has(name))).toEqual([]);
    expect(environment.FEDERATION_AUTH_DIRECTIVES).toBe("false");
    expect(await read("deploy/supergraph.graphql")).not.toMatch(/@authenticated|@requiresScopes/);
  });

  it("gives the router a configuration that listens beyond loopback and forwards the caller's token", async () => {
    const router = parseYaml(await read("deploy/router.yaml")) as {
      supergraph: { listen: string };
      headers: { all: { request: Array<{ propagate: { named: string } }> } };
    };
    expect(router.supergraph.listen).toBe("0.0.0.0:4000");
    expect(router.headers.all.request.map((r) => r.propagate.named)).toEqual(["authorization", "x-request-id"]);
  });
});

describe("deploy/router.prod.yaml", () => {
  it("is production's router configuration: no introspection or Sandbox, CORS at the router, subgraph compression, JWT and the authorization directives, tokens forwarded", async () => {
    const router = parseYaml(await read("deploy/router.prod.yaml")) as Record<string, any>;
    expect(router.supergraph).toEqual({ listen: "0.0.0.0:4000", introspection: false });
    expect(router.sandbox).toEqual({ enabled: false });
    expect(router.homepage).toEqual({ enabled: false });
    expect(router.cors.policies[0].origins).toEqual(expect.arrayContaining([expect.stringMatching(/^https:\/\//)]));
    expect(router.cors.policies[0].allow_headers).toEqual(expect.arrayContaining(["content-type", "authorization"]));
    expect(router.traffic_shaping.all.compression).toBe("gzip");
    expect(router.authentication.router.jwt.jwks[0].url).toMatch(/^https:\/\//);
    expect(router.authorization.directives.enabled).toBe(true);
    expect(router.headers.all.request.map((r: { propagate: { named: string } }) => r.propagate.named)).toEqual([
      "authorization",
      "x-request-id",
    ]);
    expect(router.include_subgraph_errors).toEqual({ all: false });
  });
});
