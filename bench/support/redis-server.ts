/** A throwaway redis-server on a free loopback port for a benchmark (no persistence), like test/support/redis.ts. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freeLoopbackPort } from "../../src/dev/ports.js";

export interface BenchRedis {
  readonly url: string;
  /** The redis-server process, for its CPU time (/proc). */
  readonly pid: number;
  readonly client: Redis;
  /** Commands Redis has run since it started, by command (INFO commandstats), without INFO's own. */
  commandCalls(): Promise<Record<string, number>>;
  /** One INFO section as name → value (e.g. "stats": total_reads_processed; "memory": used_memory). */
  info(section: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(path.join(tmpdir(), "bench-redis-"));
  const child = spawn(
    process.env.REDIS_SERVER ?? "/usr/bin/redis-server",
    ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-1000)}`)));
  });
  child.removeAllListeners("exit");
  child.stdout.resume();
  child.stderr.resume();
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url);
  return {
    url,
    pid: child.pid!,
    client,
    async commandCalls() {
      const info = await client.info("commandstats");
      const calls: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (match[1] !== "info") calls[match[1]!] = Number(match[2]);
      }
      return calls;
    },
    async info(section) {
      const text = await client.info(section);
      const fields: Record<string, string> = {};
      for (const line of text.split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0 && !line.startsWith("#")) fields[line.slice(0, colon)] = line.slice(colon + 1);
      }
      return fields;
    },
    async stop() {
      client.disconnect();
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
