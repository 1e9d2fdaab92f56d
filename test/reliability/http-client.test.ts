import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import type { Waiter } from "../../src/domain/vendor.js";
import { HttpClient, type RetryPolicy } from "../../src/http/client.js";

/** What the vendor's server answers next: a status (with headers), or a hang longer than the timeout. */
type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** Starts a server on loopback: its port, and a close that also ends kept-alive and hanging connections. */
async function onLoopback(server: http.Server): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** HttpClient's retry rules over real HTTP on loopback, counted at the server. */
describe("HttpClient retries", () => {
  let closeServer: () => Promise<void>;
  let baseUrl: string;
  let script: Answer[] = [];
  let received: string[] = [];
  const policy: RetryPolicy = { limit: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1_000 };

  beforeAll(async () => {
    const server = http.createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      req.resume();
      const answer = script.shift() ?? { status: 200, body: '{"ok":true}' };
      if (answer === "hang") return; // closed by closeAllConnections in afterAll
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(answer.body ?? "{}");
    });
    const { port, close } = await onLoopback(server);
    closeServer = close;
    baseUrl = `http://127.0.0.1:${port}/`;
  });
  afterAll(() => closeServer());
  beforeEach(() => {
    script = [];
    received = [];
  });

  const client = (acquired: { count: number }, timeoutMs = 2_000) =>
    new HttpClient({
      vendor: "test",
      baseUrl,
      timeoutMs,
      retry: policy,
      pacer: { acquire: () => Promise.resolve(void acquired.count++), pause: () => undefined },
    });

  /** A pacer that records pauses and whose acquire waits until released (or the signal aborts). */
  const recordingPacer = () => {
    const pauses: number[] = [];
    let release: (() => void) | undefined;
    return {
      pauses,
      release: () => release?.(),
      pacer: {
        pause: (seconds: number) => void pauses.push(seconds),
        acquire: (waiter?: Waiter) =>
          new Promise<void>((resolve, reject) => {
            const signal = waiter?.signal;
            if (signal?.aborted) return reject(new Error("cancelled"));
            release = resolve;
            signal?.addEventListener("abort", () => reject(new Error("cancelled")), { once: true });
          }),
      },
    };
  };

  it("retries a repeat-safe write after a 503, waiting on the pacer, and counts the attempts", async () => {
    const acquired = { count: 0 };
    const vendor = client(acquired);
    script = [{ status: 503 }, { status: 200, body: '{"done":1}' }];
    const result = await vendor.send({ method: "PUT", path: "users/1", json: { a: 1 }, operation: "put", repeatSafe: true });
    vendor.close();
    expect(result).toMatchObject({ kind: "response", status: 200, json: { done: 1 }, attempts: 2, repeatSafe: true });
    expect(received).toEqual(["PUT /users/1", "PUT /users/1"]);
    expect(acquired.count).toBe(1);
  });

  it("does not retry an unsafe write after a 503, but does after a 429 (refused, so not applied)", async () => {
    const vendor = client({ count: 0 });
    script = [{ status: 503 }];
    expect(await vendor.send({ method: "POST", path: "incr", json: {}, operation: "incr" })).toMatchObject({
      kind: "response",
      status: 503,
      attempts: 1,
      repeatSafe: false,
    });
    script = [{ status: 429, headers: { "retry-after": "0" } }, { status: 200 }];
    expect(await vendor.send({ method: "POST", path: "incr", json: {}, operation: "incr" })).toMatchObject({
      kind: "response",
      status: 200,
      attempts: 2,
    });
    vendor.close();
    expect(received).toEqual(["POST /incr", "POST /incr", "POST /incr"]);
  });

  it("gives up after the limit: every attempt of a repeat-safe call timed out, one of an unsafe call", async () => {
    const vendor = client({ count: 0 }, 100);
    script = ["hang", "hang", "hang"];
    expect(await vendor.send({ method: "PUT", path: "slow", json: {}, operation: "slow", repeatSafe: true })).toEqual({
      kind: "timeout",
      timeoutMs: 100,
      attempts: 3,
      repeatSafe: true,
    });
    script = ["hang"];
    expect(await vendor.send({ method: "POST", path: "slow", json: {}, operation: "slow" })).toEqual({
      kind: "timeout",
      timeoutMs: 100,
      attempts: 1,
      repeatSafe: false,
    });
    vendor.close();
    expect(received).toHaveLength(4);
  });

  it("reports a refused connection as never having reached the vendor, after retrying it even for unsafe writes", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refusing = new HttpClient({ vendor: "test", baseUrl: `http://127.0.0.1:${port}/`, timeoutMs: 1_000, retry: policy });
    const result = await refusing.send({ method: "POST", path: "x", json: {}, operation: "x" });
    refusing.close();
    expect(result).toEqual({ kind: "network", code: "ECONNREFUSED", mayHaveReachedVendor: false, attempts: 3, repeatSafe: false });
  });

  it("pauses the pacer on every 429 when the vendor's 429 is its rate limit, retried here or not", async () => {
    const recording = recordingPacer();
    const vendor = new HttpClient({ vendor: "test", baseUrl, timeoutMs: 2_000, retry: policy, pacer: recording.pacer, pauseOn429: true });
    script = [{ status: 429, headers: { "retry-after": "3" } }, { status: 200 }];
    const sending = vendor.send({ method: "PUT", path: "users/1", json: {}, operation: "put", repeatSafe: true });
    // got waits Retry-After (3 s > maxRetryAfter here, so it gives up at once): the pause is what matters.
    const result = await sending;
    expect(result).toMatchObject({ kind: "response", status: 429, attempts: 1 });
    expect(recording.pauses).toEqual([3]);

    script = [{ status: 429 }, { status: 200 }]; // no Retry-After: retried here, and still paused (1 s)
    const retried = vendor.send({ method: "PUT", path: "users/1", json: {}, operation: "put", repeatSafe: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    recording.release();
    expect(await retried).toMatchObject({ kind: "response", status: 200, attempts: 2 });
    expect(recording.pauses).toEqual([3, 1]);
    vendor.close();

    const quiet = new HttpClient({ vendor: "test", baseUrl, timeoutMs: 2_000, retry: NO_RETRY_AFTER_POLICY, pacer: recording.pacer });
    script = [{ status: 429, headers: { "retry-after": "3" } }];
    await quiet.send({ method: "GET", path: "users/1", operation: "get", repeatSafe: true });
    quiet.close();
    expect(recording.pauses).toEqual([3, 1]); // pauseOn429 off (a 429 about one user): no pause
  });

  it("sends no retry once the caller has cancelled: the attempt made is the outcome", async () => {
    const recording = recordingPacer();
    const vendor = new HttpClient({ vendor: "test", baseUrl, timeoutMs: 2_000, retry: policy, pacer: recording.pacer });
    const controller = new AbortController();
    script = [{ status: 503, body: '{"error":"busy"}' }, { status: 200 }];
    const sending = vendor.send({
      method: "PUT",
      path: "users/1",
      json: {},
      operation: "put",
      repeatSafe: true,
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the retry now waits for the pacer
    controller.abort(new Error("cancelled"));
    const result = await sending;
    vendor.close();
    expect(result).toMatchObject({ kind: "response", status: 503, json: { error: "busy" }, attempts: 1, repeatSafe: true });
    expect(received).toEqual(["PUT /users/1"]);

    // Already cancelled when the failure comes back: no retry is even scheduled.
    const again = new HttpClient({ vendor: "test", baseUrl, timeoutMs: 100, retry: policy, pacer: recording.pacer });
    script = ["hang"];
    const aborted = AbortSignal.abort(new Error("cancelled"));
    expect(await again.send({ method: "PUT", path: "slow", json: {}, operation: "put", repeatSafe: true, signal: aborted })).toEqual({
      kind: "timeout",
      timeoutMs: 100,
      attempts: 1,
      repeatSafe: true,
    });
    again.close();
    expect(received).toHaveLength(2);
  });

  it.each([
    ["an unreadable Retry-After", policy, { "retry-after": "soon" }],
    ["a zero backoff", { ...policy, baseDelayMs: 0, maxDelayMs: 0 }, {}],
  ])("still retries with %s", async (_label, retry, headers) => {
    const vendor = new HttpClient({
      vendor: "test",
      baseUrl,
      timeoutMs: 2_000,
      retry,
      pacer: { acquire: () => Promise.resolve(), pause: () => undefined },
    });
    script = [{ status: 503, headers }, { status: 200 }];
    const result = await vendor.send({ method: "PUT", path: "users/1", json: {}, operation: "put", repeatSafe: true });
    vendor.close();
    expect(result).toMatchObject({ kind: "response", status: 200, attempts: 2 });
  });
});

const NO_RETRY_AFTER_POLICY: RetryPolicy = { limit: 0, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

/** What reaches the vendor's server: got's options are passed to node:http with the unset ones left out. */
describe("HttpClient on the wire", () => {
  const tls = (name: string) => readFileSync(new URL(`../support/tls/self-signed-test-only.${name}`, import.meta.url));

  it("sends the method, path, query, configured and per-request headers and the body", async () => {
    const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(201, { "content-type": "application/json" });
        res.end('{"id":7}');
      });
    });
    const { port, close } = await onLoopback(server);
    const vendor = new HttpClient({
      vendor: "test",
      baseUrl: `http://127.0.0.1:${port}/api/`,
      timeoutMs: 2_000,
      headers: { authorization: "Token test-only" },
    });
    try {
      const result = await vendor.send({
        method: "POST",
        path: "users/1",
        searchParams: { mode: "merge" },
        json: { plan: "gold" },
        headers: { "x-request-id": "r-1" },
        operation: "create",
      });
      expect(result).toMatchObject({ kind: "response", status: 201, json: { id: 7 }, attempts: 1 });
    } finally {
      vendor.close();
      await close();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/api/users/1?mode=merge",
      body: '{"plan":"gold"}',
      headers: {
        authorization: "Token test-only",
        "x-request-id": "r-1",
        "user-agent": "attributes-subgraph",
        "content-type": "application/json",
      },
    });
  });

  it("goes over TLS for an https vendor and still verifies its certificate", async () => {
    let requests = 0;
    const server = https.createServer({ key: tls("key"), cert: tls("crt") }, (_req, res) => {
      requests++;
      res.end("{}");
    });
    const { port, close } = await onLoopback(server);
    const vendor = new HttpClient({
      vendor: "test",
      baseUrl: `https://127.0.0.1:${port}/`,
      timeoutMs: 2_000,
    });
    try {
      // A self-signed certificate is refused; had the client lost the https agent, node would refuse the protocol instead.
      expect(await vendor.send({ method: "GET", path: "users/1", operation: "read", repeatSafe: true })).toMatchObject({
        kind: "network",
        code: "DEPTH_ZERO_SELF_SIGNED_CERT",
        attempts: 1,
      });
    } finally {
      vendor.close();
      await close();
    }
    expect(requests).toBe(0);
  });
});
