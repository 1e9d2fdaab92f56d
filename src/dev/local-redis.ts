import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freeLoopbackPort } from "./ports.js";

/** Where the dev stack looks for Debian's redis-server (REDIS_SERVER overrides). */
export function redisServerPath(env: NodeJS.ProcessEnv): string | undefined {
  const candidate = env.REDIS_SERVER ?? "/usr/bin/redis-server";
  return existsSync(candidate) ? candidate : undefined;
}

/**
 * A redis-server of the dev stack's own, on a free loopback port, its data in a temporary
 * directory removed on stop: shared mode on a laptop without setting anything up.
 */
export async function startLocalRedis(binary: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(path.join(tmpdir(), "attributes-dev-redis-"));
  const child: ChildProcess = spawn(
    binary,
    ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--maxmemory-policy", "noeviction"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      if (output.includes("Ready to accept connections")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-1_000)}`)));
  });
  child.removeAllListeners("exit");
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
