import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { HttpClient, type RetryPolicy } from "../../src/http/client.js";

/** What the vendor's server answers next: a status (with headers), or a hang longer than the timeout. */
type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** HttpClient's retry rules over real HTTP on loopback, counted at the server. */
describe("HttpClient retries", () => {
  let server: http.Server;
  let baseUrl: string;
  let script: Answer[] = [];
  let received: string[] = [];
  const policy: RetryPolicy = { limit: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1_000 };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      req.resume();
      const answer = script.shift() ?? { status: 200, body: '{"ok":true}' };
      if (answer === "hang") return; // closed by closeAllConnections in afterAll
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(answer.body ?? "{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    script = [];
    received = [];
  });

  const client = (acquired: { count: number }, timeoutMs = 2_000) =>
    new HttpClient({ vendor: "test", baseUrl, timeoutMs, retry: policy, pacer: { acquire: () => Promise.resolve(void acquired.count++) } });

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
});
