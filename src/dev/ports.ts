import net from "node:net";
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

/** A loopback TCP port nothing listens on right now (for servers started by the dev stack, tests and benchmarks). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
