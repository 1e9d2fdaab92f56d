import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { CircuitBreaker } from "../../src/reliability/circuit-breaker.js";
import { endpointOf, Readiness, tcpProbe, type Probe, type ReadinessVendor } from "../../src/observability/readiness.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { usercom } from "../../src/vendors/usercom/index.js";
import { vendorModules } from "../../src/vendors/index.js";
import { startObservedSubgraph, type ObservedSubgraph } from "./observed.js";

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function ready(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(new URL("/ready", url));
  return { status: response.status, body: await response.json() };
}

describe("GET /ready", () => {
  describe("on sandboxes", () => {
    let subgraph: ObservedSubgraph;
    beforeAll(async () => {
      subgraph = await startObservedSubgraph();
    });
    afterAll(() => subgraph.close());

    it("is ready, every vendor sandboxed, with circuit states", async () => {
      const { status, body } = await ready(subgraph.url);
      expect(status).toBe(200);
      expect(body).toEqual({
        status: "ready",
        configuration: "valid",
        policy: "any",
        vendors: vendorModules.map(({ id: vendor }) => ({
          vendor,
          mode: "sandbox",
          circuit: "closed",
          ready: true,
        })),
      });
    });

    it("keeps /health as plain liveness", async () => {
      const response = await fetch(new URL("/health", subgraph.url));
      expect(await response.json()).toEqual({ status: "ok" });
    });
  });

  describe("with live vendors", () => {
    // The Carnival sandbox stands in for the live Carnival API; User.com points at a closed port.
    let stand: ObservedSubgraph;
    let subgraph: ObservedSubgraph;
    let carnivalUrl: string;
    let deadPort: number;
    let received: number;

    beforeAll(async () => {
      stand = await startObservedSubgraph({ modules: [carnival] });
      const sandbox = stand.runtime.sandboxes.get("carnival")!;
      carnivalUrl = sandbox.url;
      received = sandbox.requestCount();
      deadPort = await closedPort();
      subgraph = await startObservedSubgraph({
        modules: [carnival, usercom],
        sandbox: "off",
        env: {
          ...carnival.sandboxEnv(carnivalUrl),
          USERCOM_API_URL: `http://127.0.0.1:${deadPort}/api/public`,
          USERCOM_API_KEY: "k".repeat(64),
        },
      });
    });
    afterAll(async () => {
      await subgraph.close();
      await stand.close();
    });

    it("probes each live vendor's host without sending it anything, and stays ready while one is reachable", async () => {
      const { status, body } = await ready(subgraph.url);
      expect(status).toBe(200);
      expect(body.status).toBe("ready");
      const carnivalHost = new URL(carnivalUrl);
      expect(body.vendors).toEqual([
        {
          vendor: "carnival",
          mode: "live",
          circuit: "closed",
          ready: true,
          reachable: true,
          probed: `127.0.0.1:${carnivalHost.port}`,
          checkedAt: expect.any(String),
        },
        {
          vendor: "usercom",
          mode: "live",
          circuit: "closed",
          ready: false,
          reachable: false,
          probed: `127.0.0.1:${deadPort}`,
          error: "ECONNREFUSED",
          checkedAt: expect.any(String),
        },
      ]);
      // A TCP connection only: the vendor saw no HTTP request, so no credential either.
      expect(stand.runtime.sandboxes.get("carnival")!.requestCount()).toBe(received);
    });

    it("answers 503 when no live vendor is reachable", async () => {
      const isolated = await startObservedSubgraph({
        modules: [usercom],
        sandbox: "off",
        env: { USERCOM_API_URL: `http://127.0.0.1:${deadPort}/api/public`, USERCOM_API_KEY: "k".repeat(64) },
      });
      try {
        const { status, body } = await ready(isolated.url);
        expect(status).toBe(503);
        expect(body).toMatchObject({
          status: "unready",
          configuration: "valid",
          vendors: [{ vendor: "usercom", reachable: false, ready: false }],
        });
      } finally {
        await isolated.close();
      }
    });

    it("is unready under READINESS_POLICY=all when one live vendor is unreachable", async () => {
      const strict = new Readiness(subgraph.runtime.summary, subgraph.runtime.breakers, {
        policy: "all",
        probeTimeoutMs: 1_000,
        cacheMs: 0,
      });
      expect((await strict.check()).status).toBe("unready");
    });
  });

  describe("policies, circuits and the probe cache", () => {
    const live: ReadinessVendor[] = [
      { vendor: "a", mode: "live", target: "https://a.example.test/v6" },
      { vendor: "b", mode: "live", target: "https://b.example.test:8443/api (app 1)" },
      { vendor: "c", mode: "sandbox" },
      { vendor: "d", mode: "not-configured" },
    ];
    const probeOf = (down: ReadonlySet<string>) => {
      const calls: string[] = [];
      const probe: Probe = (host, port) => {
        calls.push(`${host}:${port}`);
        return Promise.resolve(down.has(host) ? { ok: false, error: "ECONNREFUSED" } : { ok: true });
      };
      return { probe, calls };
    };

    it.each([
      ["any", new Set<string>(), "ready"],
      ["any", new Set(["a.example.test"]), "ready"],
      ["any", new Set(["a.example.test", "b.example.test"]), "unready"],
      ["all", new Set(["a.example.test"]), "unready"],
      ["all", new Set<string>(), "ready"],
      ["none", new Set(["a.example.test", "b.example.test"]), "ready"],
    ] as const)("policy %s with %p down is %s", async (policy, down, expected) => {
      const { probe } = probeOf(down);
      const readiness = new Readiness(live, new Map(), { policy, probeTimeoutMs: 100, cacheMs: 0 }, probe);
      expect((await readiness.check()).status).toBe(expected);
    });

    it("probes the base URL's host and port, and treats an open circuit as not ready", async () => {
      const breaker = new CircuitBreaker("a", "A", { failureThreshold: 1, cooldownMs: 60_000 });
      await breaker.run(
        () => Promise.resolve("down"),
        () => true,
        () => "fast",
      );
      const { probe, calls } = probeOf(new Set());
      const report = await new Readiness(
        live,
        new Map([["a", breaker]]),
        { policy: "all", probeTimeoutMs: 100, cacheMs: 0 },
        probe,
      ).check();
      expect(calls.sort()).toEqual(["a.example.test:443", "b.example.test:8443"]);
      expect(report.status).toBe("unready");
      expect(report.vendors[0]).toMatchObject({ vendor: "a", reachable: true, circuit: "open", ready: false });
      expect(report.vendors.slice(2)).toEqual([
        { vendor: "c", mode: "sandbox", ready: true },
        { vendor: "d", mode: "not-configured", ready: true },
      ]);
    });

    it("reuses a probe's result for cacheMs, then probes again", async () => {
      let now = 1_000;
      const { probe, calls } = probeOf(new Set());
      const readiness = new Readiness(
        live.slice(0, 1),
        new Map(),
        { policy: "any", probeTimeoutMs: 100, cacheMs: 5_000 },
        probe,
        () => now,
      );
      await Promise.all([readiness.check(), readiness.check()]);
      now += 4_999;
      await readiness.check();
      expect(calls).toHaveLength(1);
      now += 1;
      await readiness.check();
      expect(calls).toHaveLength(2);
    });
  });

  describe("the probe", () => {
    it("finds each vendor's base URL in its description", () => {
      for (const module of vendorModules) {
        const config = module.readConfig(module.sandboxEnv("http://127.0.0.1:4567"));
        if (config.status !== "configured") throw new Error(`${module.id}: sandbox configuration is not usable`);
        expect({ vendor: module.id, endpoint: endpointOf(module.describe(config.config)) }).toEqual({
          vendor: module.id,
          endpoint: { host: "127.0.0.1", port: 4567 },
        });
      }
      expect(endpointOf("https://[::1]/api")).toEqual({ host: "::1", port: 443 });
      expect(endpointOf("no url here")).toBeUndefined();
    });

    it("opens a TCP connection and sends not a single byte", async () => {
      const bytes: Buffer[] = [];
      let closed!: () => void;
      const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
      const server = net.createServer((socket) => {
        socket.on("data", (chunk: Buffer) => bytes.push(chunk));
        socket.on("close", () => closed());
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      try {
        expect(await tcpProbe("127.0.0.1", port, 1_000)).toEqual({ ok: true });
        // Everything the probe could have sent arrives before the server sees the connection close.
        await connectionClosed;
        expect(Buffer.concat(bytes).length).toBe(0);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      expect(await tcpProbe("127.0.0.1", port, 1_000)).toEqual({ ok: false, error: "ECONNREFUSED" });
    });
  });
});
