import { chooseAuthenticator } from "../auth/choose.js";
import type { Env, VendorModule } from "../vendors/define-vendor.js";
import { ConfigError, circuitSettings, parseAppConfig, type AppConfig } from "./app-config.js";

export type ConfigurationCheck =
  | { readonly ok: true; readonly config: AppConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[]; readonly warnings: readonly string[] };

/**
 * Every configuration problem of every stage at once, before anything starts: the application's
 * variables, every vendor's, the per-vendor circuit overrides, whether this process may run on
 * sandboxes, and whether callers are authenticated. One run names every problem, instead of one
 * per restart.
 */
export function checkConfiguration(
  modules: readonly VendorModule[],
  env: Env,
  options: {
    /** `worker`: a bulk worker process (`npm run worker`), which serves no GraphQL and needs shared mode. */
    readonly process?: "subgraph" | "worker";
  } = {},
): ConfigurationCheck {
  const worker = options.process === "worker";
  const warnings: string[] = [];
  // Defaults stand in for bad values, so that the later stages are still checked.
  const { config, problems } = parseAppConfig(env);

  const results = modules.map((module) => ({ module, result: module.readConfig(env) }));
  for (const { module, result } of results) {
    if (result.status === "invalid") problems.push(...result.problems.map((p) => `${module.displayName}: ${p}`));
  }
  for (const module of modules) circuitSettings(env, `${module.id.toUpperCase()}_`, config.circuit, problems);

  const unknown = unknownVariables(modules, env);
  const anyConfigured = results.some(({ result }) => result.status === "configured");
  const production = env.NODE_ENV === "production";
  const sandbox = config.sandbox;

  // Production never falls back to fake vendors: with no vendor credentials (a typo in one
  // variable name is enough) every update would "succeed" into a sandbox.
  if (production && sandbox === "auto" && !anyConfigured) {
    problems.push(
      [
        "NODE_ENV=production and no vendor has its credentials, so every update would go to a built-in sandbox.",
        `Set at least one vendor's: ${modules.map((m) => `${credentialNames(m).join(" and ")} (${m.displayName})`).join("; ")};`,
        "or SANDBOX=true to run on the sandboxes on purpose.",
        ...unknown,
      ].join(" "),
    );
  } else {
    warnings.push(...unknown);
  }
  if (production && sandbox === "force") warnings.push("SANDBOX=true in production: every vendor answers from a built-in sandbox");
  for (const { module, result } of results) {
    const set = Object.keys(module.env).filter((name) => env[name]?.trim());
    if (result.status === "absent" && set.length > 0 && sandbox !== "force") {
      warnings.push(
        `${set.join(", ")} ${set.length === 1 ? "is" : "are"} set but ${module.displayName} is not configured without ${credentialNames(module).join(" and ")}`,
      );
    }
  }

  if (worker && !config.redis) {
    problems.push("a bulk worker takes its work from shared mode's queue: set REDIS_URL (the Redis the subgraph replicas use)");
  }
  // A vendor given credentials is meant to be live, even when another of its variables is wrong.
  // (A worker answers no callers: it needs no caller authentication.)
  const anyLive = sandbox !== "force" && results.some(({ result }) => result.status !== "absent");
  try {
    if (!worker) chooseAuthenticator(config.auth, anyLive);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }

  if (problems.length > 0) return { ok: false, problems, warnings };
  return { ok: true, config, warnings };
}

function credentialNames(module: VendorModule): string[] {
  return Object.entries(module.env)
    .filter(([, variable]) => variable.credential)
    .map(([name]) => name);
}

/**
 * Variables named like a vendor's that no vendor reads, with the closest known name: the typo
 * that leaves a vendor unconfigured. (`<VENDOR>_CIRCUIT_…` overrides are known.)
 */
function unknownVariables(modules: readonly VendorModule[], env: Env): string[] {
  const hints: string[] = [];
  for (const module of modules) {
    const prefix = `${module.id.toUpperCase()}_`;
    const known = Object.keys(module.env);
    for (const name of Object.keys(env)) {
      if (!name.startsWith(prefix) || known.includes(name) || name.startsWith(`${prefix}CIRCUIT_`)) continue;
      const closest = known.map((k) => ({ k, d: editDistance(k, name) })).sort((a, b) => a.d - b.d)[0];
      hints.push(`${name} is not a ${module.displayName} variable${closest && closest.d <= 3 ? ` (did you mean ${closest.k}?)` : ""}.`);
    }
  }
  return hints;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
