import type { Env } from "../vendors/define-vendor.js";

export type SandboxMode = "auto" | "force" | "off";

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** auto: sandboxes when no vendor has credentials; force: SANDBOX=true; off: SANDBOX=false. */
  readonly sandbox: SandboxMode;
  readonly logLevel: string;
  readonly production: boolean;
  readonly maxBodyBytes: number;
  readonly graphiql: boolean;
  readonly introspection: boolean;
  /** Users that exist in the sandboxes of vendors that never create users. */
  readonly sandboxUserIds: readonly string[];
}

/** Every application-level variable, documented where it is read (vendors document their own). */
export const APP_ENV = {
  PORT: { description: "Port of the GraphQL endpoint", default: "4001" },
  HOST: { description: "Interface to listen on", default: "0.0.0.0" },
  SANDBOX: { description: "true: always use the built-in sandbox vendors; false: never. Unset: sandboxes only when no vendor has credentials", default: "(unset)" },
  LOG_LEVEL: { description: "pino level: fatal, error, warn, info, debug, trace, silent", default: "info" },
  NODE_ENV: { description: "production turns GraphiQL and introspection off by default", default: "(unset)" },
  MAX_BODY_BYTES: { description: "Largest accepted request body; larger ones get 413", default: "1048576" },
  GRAPHIQL: { description: "Serve GraphiQL at GET /", default: "true, false in production" },
  INTROSPECTION: { description: "Allow introspection queries", default: "true, false in production" },
  SANDBOX_USER_IDS: { description: "Comma-separated user ids, or ranges such as 1-100, that exist in the sandbox vendors", default: "1-100" },
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

export function readAppConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const production = env.NODE_ENV === "production";
  const port = integer(env, "PORT", 4001, problems, 0, 65_535);
  const sandboxRaw = env.SANDBOX?.trim().toLowerCase();
  let sandbox: SandboxMode = "auto";
  if (sandboxRaw === "true" || sandboxRaw === "1") sandbox = "force";
  else if (sandboxRaw === "false" || sandboxRaw === "0") sandbox = "off";
  else if (sandboxRaw) problems.push(`SANDBOX must be true or false; got "${env.SANDBOX}"`);
  const config: AppConfig = {
    port,
    host: env.HOST?.trim() || "0.0.0.0",
    sandbox,
    logLevel: env.LOG_LEVEL?.trim() || "info",
    production,
    maxBodyBytes: integer(env, "MAX_BODY_BYTES", 1_048_576, problems, 1_024, 100 * 1_048_576),
    graphiql: flag(env, "GRAPHIQL", !production, problems),
    introspection: flag(env, "INTROSPECTION", !production, problems),
    sandboxUserIds: userIds(env.SANDBOX_USER_IDS ?? "1-100", problems),
  };
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(config.logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${config.logLevel}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function integer(env: Env, name: string, fallback: number, problems: string[], min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}; got "${raw}"`);
    return fallback;
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  problems.push(`${name} must be true or false; got "${env[name]}"`);
  return fallback;
}

function userIds(raw: string, problems: string[]): string[] {
  const ids: string[] = [];
  for (const part of raw.split(",").map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (!range) {
      ids.push(part);
      continue;
    }
    const [from, to] = [Number(range[1]), Number(range[2])];
    if (to < from || to - from > 100_000) {
      problems.push(`SANDBOX_USER_IDS range ${part} must ascend and span at most 100000 ids`);
      continue;
    }
    for (let id = from; id <= to; id++) ids.push(String(id));
  }
  return ids;
}
