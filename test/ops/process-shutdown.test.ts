import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { leanplum } from "../../src/vendors/leanplum/index.js";
import type { LeanplumSandbox } from "../../src/vendors/leanplum/sandbox.js";
import { connect, postGraphQLRaw, waitUntil, within } from "../support/http-client.js";
import { ProcessGroup } from "../support/processes.js";
import { UPDATE_ATTRIBUTES } from "../support/subgraph.js";

/**
 * The shipped entry point (dist/main.js, started with `npm start`'s flags) as a process, stopped
 * with a real SIGTERM while a caller's INCREMENT is at a slow vendor. The vendor is Leanplum's
 * sandbox running in this test process, given to the subgraph as its live Leanplum (URL and
 * sandbox credentials), so the test can slow it down and see what it applied.
 */
describe("the subgraph process on SIGTERM", () => {
  const processes = new ProcessGroup();
  let vendor: LeanplumSandbox;
  const agents: http.Agent[] = [];
  const INCREMENT = { userId: "1", vendors: ["LEANPLUM"], operations: [{ op: "INCREMENT", attribute: "logins", value: { int: 1 } }] };

  beforeAll(async () => {
    vendor = (await leanplum.startSandbox({ host: "127.0.0.1", seedUserIds: ["1"] })) as LeanplumSandbox;
  });
  afterAll(async () => {
    for (const agent of agents) agent.destroy();
    await processes.stopAll();
    await vendor?.close();
  });

  const startSubgraph = (env: Record<string, string> = {}) =>
    processes.start({
      env: {
        ...(leanplum.sandboxEnv(vendor.url) as Record<string, string>),
        SANDBOX: "false",
        AUTH_DISABLED: "true",
        HOST: "127.0.0.1",
        PORT: "0",
        NODE_ENV: "production",
        ...env,
      },
    });

  /** Sends the INCREMENT on a keep-alive connection and resolves once the vendor has it (the answer wrapped). */
  async function sendIncrement(url: string) {
    const agent = new http.Agent({ keepAlive: true });
    agents.push(agent);
    const before = vendor.requestCount();
    const answer = postGraphQLRaw(url, UPDATE_ATTRIBUTES, { input: INCREMENT }, agent);
    answer.catch(() => undefined); // asserted by the test
    await waitUntil(() => vendor.requestCount() > before, "the vendor received the INCREMENT");
    return { answer };
  }

  it("answers the update in flight, refuses new connections, and exits 0", async () => {
    vendor.seedUser("1", { logins: 10 });
    vendor.setResponseDelay(3_000);
    try {
      const subgraph = await startSubgraph();
      const port = Number(new URL(subgraph.url).port);
      const { answer } = await sendIncrement(subgraph.url);

      expect(subgraph.kill("SIGTERM")).toBe(true);
      await subgraph.waitForLine((line) => line.includes("shutting down"), "the shutdown log line");
      await expect(connect(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });

      const result = await within(answer, "the in-flight INCREMENT's answer", 30_000);
      expect(result.status).toBe(200);
      expect(result.headers.connection).toBe("close");
      expect(result.body.data.updateAttributes).toMatchObject({
        __typename: "AttributesUpdateSuccess",
        deliveries: [{ __typename: "AttributesVendorDeliverySuccess", vendor: "LEANPLUM" }],
      });
      expect(await within(subgraph.exited, "the process to exit", 30_000)).toEqual({ code: 0, signal: null });
      expect(vendor.user("1")?.attributes.logins).toBe(11);

      const logs = subgraph.logs();
      expect(logs.find((l) => l.msg?.startsWith("shutting down"))).toMatchObject({ signal: "SIGTERM", graceMs: 25_000 });
      expect(logs.find((l) => l.msg?.startsWith("HTTP drained"))).toMatchObject({ inProgress: 1, cutOff: 0 });
      expect(logs.at(-1)).toMatchObject({ msg: "stopped" });
    } finally {
      vendor.setResponseDelay(0);
    }
  });

  it("exits at once, 128 + the signal's number, on a second signal during the drain", async () => {
    const subgraph = await startSubgraph();
    vendor.injectFault({ kind: "hang", ms: 60_000 });
    const { answer } = await sendIncrement(subgraph.url);
    subgraph.kill("SIGTERM");
    await subgraph.waitForLine((line) => line.includes("shutting down"), "the shutdown log line");
    subgraph.kill("SIGTERM");
    expect(await within(subgraph.exited, "the process to exit", 30_000)).toEqual({ code: 128 + 15, signal: null });
    await expect(answer).rejects.toThrow();
    expect(subgraph.logs().at(-1)).toMatchObject({ msg: expect.stringMatching(/^second signal/) });
  });
});
