import type { Env } from "../vendors/define-vendor.js";

/** A TCP port from the environment, or the fallback; problems are collected, as readAppConfig does. */
export function portFrom(env: Env, name: string, fallback: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    problems.push(`${name} must be an integer from 0 to 65535; got "${raw}"`);
    return fallback;
  }
  return port;
}
