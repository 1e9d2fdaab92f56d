import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { SHORT_PAUSE_MS } from "../../src/pacing/budget.js";
import { HttpClient, basicAuth } from "../../src/http/client.js";
import { Pacer } from "../../src/pacing/pacer.js";
import { SANDBOX_API_KEY } from "../../src/vendors/carnival/config.js";
import { startCarnivalSandbox, type CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";

/**
 * A vendor stand-in that counts a strict sliding second at exactly its limit (the Carnival sandbox
 * with `rateLimitPerSecond`), over real HTTP on loopback, and how a 429's `Retry-After` slows the
 * credential's budget.
 */
describe("a strict sliding-window vendor and the budget's reaction to its 429s", () => {
  let sandbox: CarnivalSandbox;
  beforeAll(async () => {
    sandbox = await startCarnivalSandbox({ rateLimitPerSecond: 5, seedUserIds: ["1"] });
  });
  afterAll(() => sandbox.close());

  function client(pacer?: Pacer): HttpClient {
    return new HttpClient({
      vendor: "carnival",
      baseUrl: `${sandbox.url}/v6`,
      timeoutMs: 5_000,
      headers: { authorization: basicAuth("", SANDBOX_API_KEY) },
      ...(pacer ? { pacer } : {}),
      pauseOn429: true,
    });
  }

  const put = (http: HttpClient) =>
    http.send({
      method: "PUT",
      path: "users/1",
      json: { user: { custom: { plan: { type: "string", value: "gold" } } } },
      operation: "put",
    });

  it("answers the request beyond its limit in one second with 429 and Retry-After: 1, with no slack", async () => {
    const http = client();
    try {
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await put(http));
      const statuses = results.map((r) => (r.kind === "response" ? r.status : r.kind));
      expect(statuses.slice(0, 5)).toEqual([202, 202, 202, 202, 202]);
      expect(statuses[5]).toBe(429);
      const last = results[5]!;
      expect(last.kind === "response" ? last.headers["retry-after"] : undefined).toBe("1");
    } finally {
      http.close();
    }
  });

  it("a 429 with Retry-After: 1 pauses the credential briefly, not for the whole second; a longer one as asked", async () => {
    const pacer = new Pacer(1_000);
    const http = client(pacer);
    try {
      sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 1 }, { count: 1 });
      const short = await put(http);
      expect(short.kind === "response" && short.status).toBe(429);
      expect(pacer.peekDelayMs()).toBeGreaterThan(0);
      expect(pacer.peekDelayMs()).toBeLessThanOrEqual(SHORT_PAUSE_MS);

      sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 3 }, { count: 1 });
      await new Promise((resolve) => setTimeout(resolve, SHORT_PAUSE_MS + 1_100)); // a new episode, not an escalation
      const long = await put(http);
      expect(long.kind === "response" && long.status).toBe(429);
      expect(pacer.peekDelayMs()).toBeGreaterThan(2_000);
      expect(pacer.peekDelayMs()).toBeLessThanOrEqual(3_000);
    } finally {
      http.close();
    }
  });
});
