import "reflect-metadata";
import http from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { readAppConfig } from "../../src/config/app-config.js";
import { createLogger } from "../../src/logging.js";
import { startDevStack } from "../../src/dev/stack.js";
import { leanplum } from "../../src/vendors/leanplum/index.js";
import type { LeanplumSandbox } from "../../src/vendors/leanplum/sandbox.js";
import { connect, postGraphQLRaw, readUntilClosed, request, waitUntil, within, type Answer } from "../support/http-client.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/**
 * main.ts, users-main.ts and stack-main.ts stop their servers in order on SIGINT/SIGTERM. Apollo
 * Server's own signal handlers (installed outside NODE_ENV=test) would race them, and a second
 * concurrent stop() never resolves in @apollo/server 5: the dev stack then hung on Ctrl-C.
 */
describe("termination signals", () => {
  const nodeEnv = process.env.NODE_ENV;
  beforeEach(() => {
    process.env.NODE_ENV = "production";
  });
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });
  const listeners = () => process.listenerCount("SIGTERM") + process.listenerCount("SIGINT");

  it("are left to main.ts: the app installs no handler of its own", async () => {
    const before = listeners();
    const subgraph = await startTestSubgraph();
    try {
      expect(listeners()).toBe(before);
    } finally {
      await subgraph.close();
    }
  });

  it("are left to stack-main.ts: neither the users subgraph nor the gateway installs one", async () => {
    const before = listeners();
    const stack = await startDevStack({
      env: {},
      host: "127.0.0.1",
      gatewayPort: 0,
      attributesPort: 0,
      usersPort: 0,
      logger: createLogger({ level: "silent" }),
    });
    try {
      expect(listeners()).toBe(before);
    } finally {
      await stack.close();
    }
  }, 60_000);
});

/**
 * SIGTERM (App.close): /ready turns 503 at once, the listener stops accepting, a request in
 * progress is answered in full (its connection then closes), and only after SHUTDOWN_GRACE_MS is
 * whatever is left cut off. A caller whose INCREMENT was sent gets the vendor's outcome instead of
 * a socket error (and so does not retry it into a double apply).
 */
describe("graceful shutdown", () => {
  const INCREMENT = { userId: "1", vendors: ["LEANPLUM"], operations: [{ op: "INCREMENT", attribute: "logins", value: { int: 1 } }] };

  let subgraph: TestSubgraph | undefined;
  let agent: http.Agent | undefined;
  afterEach(async () => {
    agent?.destroy();
    await subgraph?.close();
    subgraph = undefined;
  });

  /** Leanplum's sandbox answering every update `delayMs` late (a slow success, not a timeout). */
  async function startWithSlowLeanplum(delayMs: number): Promise<{ subgraph: TestSubgraph; sandbox: LeanplumSandbox }> {
    subgraph = await startTestSubgraph({ modules: [leanplum], sandboxUserIds: ["1"] });
    const sandbox = subgraph.sandbox<LeanplumSandbox>("leanplum");
    sandbox.seedUser("1", { logins: 10 });
    sandbox.setResponseDelay(delayMs);
    return { subgraph, sandbox };
  }

  /**
   * Sends the INCREMENT on a keep-alive connection (as a router does) and waits until the vendor
   * has it; the answer's promise comes back wrapped, so awaiting this does not await the answer.
   */
  async function incrementInFlight(target: TestSubgraph, sandbox: LeanplumSandbox): Promise<{ answer: Promise<Answer> }> {
    agent = new http.Agent({ keepAlive: true });
    const before = sandbox.requestCount();
    let settled = false;
    const answer = postGraphQLRaw(target.url, UPDATE_ATTRIBUTES, { input: INCREMENT }, agent).finally(() => (settled = true));
    answer.catch(() => undefined); // observed by the test; this only keeps an early failure from going unhandled
    await waitUntil(() => sandbox.requestCount() > before, "the vendor received the INCREMENT");
    expect(settled).toBe(false); // it really is in flight when the shutdown begins
    return { answer };
  }

  it("answers a request in flight, reports draining, refuses new connections, then closes", async () => {
    const { subgraph: target, sandbox } = await startWithSlowLeanplum(3_000);
    const port = Number(new URL(target.url).port);
    // A probe whose request has begun to arrive before the shutdown (its headers are not complete):
    // the drain keeps its connection and answers it, so /ready can be read while draining.
    const probe = await connect(port);
    const probeAnswer = readUntilClosed(probe);
    probe.write("GET /ready HTTP/1.0\r\nHost: subgraph\r\n");
    await waitUntil(() => probe.bytesWritten > 0, "the probe's first bytes are sent");

    const { answer: inFlight } = await incrementInFlight(target, sandbox);
    const closed = target.app.close({ graceMs: 60_000 });

    await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });

    probe.end("\r\n");
    const raw = await within(probeAnswer, "the /ready answer while draining");
    expect(raw).toMatch(/^HTTP\/1\.1 503 /);
    expect(raw.toLowerCase()).toContain("connection: close");
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toMatchObject({
      status: "draining",
      reason: expect.stringMatching(/shutting down/),
    });

    const answer = await within(inFlight, "the in-flight INCREMENT's answer");
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe("close");
    expect(answer.body.data.updateAttributes).toMatchObject({
      __typename: "AttributesUpdateSuccess",
      deliveries: [{ __typename: "AttributesVendorDeliverySuccess", vendor: "LEANPLUM" }],
    });
    await within(closed, "close() to resolve");
    expect(sandbox.user("1")?.attributes.logins).toBe(11);
    expect(sandbox.requestCount()).toBe(1);
    const drained = target.logLines.map((line) => JSON.parse(line)).find((line) => /^HTTP drained/.test(line.msg));
    expect(drained).toMatchObject({ inProgress: 1, cutOff: 0 });
  });

  it("closes idle connections at once and keeps /health answering 200 while draining", async () => {
    const { subgraph: target, sandbox } = await startWithSlowLeanplum(2_000);
    const port = Number(new URL(target.url).port);
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // A keep-alive connection that has served a request, and one that has not sent a byte.
      expect((await request(new URL("/health", target.url).href, { agent: idleAgent })).status).toBe(200);
      const keptAlive = Object.values(idleAgent.freeSockets).flat()[0]!;
      const keptAliveClosed = new Promise<void>((resolve) => keptAlive.once("close", () => resolve()));
      const silent = await connect(port);
      const silentClosed = readUntilClosed(silent);
      // A liveness probe whose request has begun to arrive.
      const liveness = await connect(port);
      const livenessAnswer = readUntilClosed(liveness);
      liveness.write("GET /health HTTP/1.0\r\n");

      const { answer: inFlight } = await incrementInFlight(target, sandbox);
      const closed = target.app.close({ graceMs: 60_000 });
      await within(keptAliveClosed, "the idle keep-alive connection to close");
      expect(await within(silentClosed, "the silent connection to close")).toBe("");
      expect(target.app.readiness.draining).toBe(true);

      liveness.end("Host: subgraph\r\n\r\n");
      const health = await within(livenessAnswer, "the /health answer while draining");
      expect(health).toMatch(/^HTTP\/1\.1 200 /);
      expect(health).toContain('{"status":"ok"}');

      expect((await within(inFlight, "the in-flight INCREMENT's answer")).status).toBe(200);
      await within(closed, "close() to resolve");
    } finally {
      idleAgent.destroy();
    }
  });

  it("cuts off what is still in progress after the grace, and close resolves", async () => {
    // The vendor never answers and the subgraph's vendor timeout is 10 s: a drain that ignored the
    // grace would hand the caller an AttributesVendorUnavailableError after that; this one closes its
    // connection when the grace runs out instead.
    const { subgraph: target, sandbox } = await startWithSlowLeanplum(0);
    sandbox.injectFault({ kind: "hang", ms: 30_000 });
    const { answer: inFlight } = await incrementInFlight(target, sandbox);
    await within(target.app.close({ graceMs: 300 }), "close() to resolve after the grace");
    await expect(inFlight).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) });
    const drained = target.logLines.map((line) => JSON.parse(line)).find((line) => /^HTTP drained/.test(line.msg));
    expect(drained).toMatchObject({ inProgress: 1, cutOff: 1 });
  });
});

describe("SHUTDOWN_GRACE_MS", () => {
  it("defaults to 25 s, under Kubernetes' 30 s termination grace", () => {
    expect(readAppConfig({}).shutdownGraceMs).toBe(25_000);
    expect(readAppConfig({ SHUTDOWN_GRACE_MS: "5000" }).shutdownGraceMs).toBe(5_000);
    expect(readAppConfig({ SHUTDOWN_GRACE_MS: "0" }).shutdownGraceMs).toBe(0);
  });

  it("refuses what is not a whole number of milliseconds", () => {
    for (const value of ["soon", "-1", "2.5"]) {
      expect(() => readAppConfig({ SHUTDOWN_GRACE_MS: value })).toThrow(
        `SHUTDOWN_GRACE_MS must be an integer from 0 to 3600000; got "${value}"`,
      );
    }
  });
});
