import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { freeLoopbackPort } from "../../src/dev/ports.js";

/** Debian's redis-server (`apt-get install redis-server`; .ci/run installs it), or REDIS_SERVER. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";
const TLS_DIR = fileURLToPath(new URL("./tls/", import.meta.url));
export const TEST_TLS_CA_FILE = path.join(TLS_DIR, "self-signed-test-only.crt");

export interface TestRedis {
  /** redis:// (or rediss:// with `tls`) URL, password included when one is set. */
  readonly url: string;
  readonly port: number;
  /** A plain client for assertions (closed by stop). */
  readonly client: Redis;
  /** Stops the server abruptly (SIGKILL) or cleanly; the data is gone either way (no persistence). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (after stop): empty, or with its data when started with `persist`. */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

export interface TestRedisOptions {
  readonly password?: string;
  /** Serve TLS only (rediss://), with the self-signed test certificate. */
  readonly tls?: boolean;
  /** Keep the data across stop/restart (an append-only file, written on every command), as a production Redis would. */
  readonly persist?: boolean;
}

/**
 * A real redis-server of its own on a free loopback port, for one suite: never a mock. No
 * persistence, no other listener; `stop()` in afterAll.
 */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: install Debian's redis-server (apt-get install -y redis-server) or set REDIS_SERVER`);
  }
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(path.join(tmpdir(), "attributes-redis-"));
  const args = [
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    options.persist ? "yes" : "no",
    ...(options.persist ? ["--appendfsync", "always"] : []),
    ...(options.password ? ["--requirepass", options.password] : []),
    ...(options.tls
      ? [
          "--port",
          "0",
          "--tls-port",
          String(port),
          "--tls-cert-file",
          path.join(TLS_DIR, "self-signed-test-only.crt"),
          "--tls-key-file",
          path.join(TLS_DIR, "self-signed-test-only.key"),
          "--tls-ca-cert-file",
          TEST_TLS_CA_FILE,
          "--tls-auth-clients",
          "no",
        ]
      : ["--port", String(port)]),
  ];
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  const url = `${options.tls ? "rediss" : "redis"}://${auth}127.0.0.1:${port}`;
  let child = await launch(args);
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
    ...(options.tls ? { tls: { ca: readFileSync(TEST_TLS_CA_FILE) } } : {}),
  });
  await client.ping();
  return {
    url,
    port,
    client,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      await halt(child, signal);
    },
    async dispose() {
      client.disconnect();
      await halt(child, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      child = await launch(args);
      await client.ping();
    },
  };

  async function launch(argv: readonly string[]): Promise<ChildProcess> {
    const started = spawn(REDIS_SERVER, argv, { stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output.push(chunk.toString("utf8"));
        if (output.join("").includes("Ready to accept connections")) resolve();
      };
      started.stdout.on("data", onData);
      started.stderr.on("data", onData);
      started.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output.join("").slice(-2_000)}`)));
      setTimeout(() => reject(new Error(`redis-server did not start in 10 s: ${output.join("").slice(-2_000)}`)), 10_000).unref();
    });
    started.removeAllListeners("exit");
    started.stdout.resume();
    started.stderr.resume();
    return started;
  }

  async function halt(running: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill(signal);
    await exited;
  }
}

/** Stops a suite's server and its client and removes its directory (afterAll). */
export async function stopTestRedis(redis: TestRedis | undefined): Promise<void> {
  await redis?.dispose();
}
