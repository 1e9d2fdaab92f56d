import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { basicAuth } from "../../src/http/client.js";
import { FAULT_HEADER, parseFault } from "../../src/sandbox/faults.js";
import { SANDBOX_API_KEY } from "../../src/vendors/carnival/config.js";
import { startCarnivalSandbox, type CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { waitFor } from "./helpers.js";

/**
 * The sandbox's `down;seconds=N` fault: an outage during which every vendor request answers 503,
 * whatever else it asks for, and after which the vendor answers normally again. Started by the
 * x-sandbox-fault header (with that request) or the admin route (at once).
 */
describe("sandbox outage (down;seconds=N)", () => {
  let sandbox: CarnivalSandbox;
  beforeAll(async () => {
    sandbox = await startCarnivalSandbox({ host: "127.0.0.1", seedUserIds: ["1", "2"] });
  });
  afterEach(() => {
    sandbox.clearFaults();
    sandbox.clearJournal();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  let user = "1";
  const put = async (value: string, fault?: string) => {
    const response = await fetch(`${sandbox.url}/v6/users/${user}`, {
      method: "PUT",
      headers: {
        authorization: basicAuth("", SANDBOX_API_KEY),
        "content-type": "application/json",
        ...(fault ? { [FAULT_HEADER]: fault } : {}),
      },
      body: JSON.stringify({ user: { custom: { plan: { type: "string", value } } } }),
    });
    return { status: response.status, body: await response.json() };
  };
  const plan = () => sandbox.devices(user)?.[0]?.plan?.value;

  it("parses the fault: seconds within 1 h, 30 s by default", () => {
    expect(parseFault("down;seconds=2")).toEqual({ kind: "down", seconds: 2 });
    expect(parseFault("down")).toEqual({ kind: "down", seconds: 30 });
    expect(parseFault("down;seconds=0.5")).toEqual({ kind: "down", seconds: 0.5 });
    for (const bad of ["down;seconds=0", "down;seconds=-1", "down;seconds=3601", "down;seconds=x"]) expect(parseFault(bad)).toBeUndefined();
  });

  it("answers 503 to every request during an outage started by the admin route, applying nothing, then recovers", async () => {
    const started = Date.now();
    const admin = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fault: "down;seconds=2" }),
    });
    expect(admin.status).toBe(204);
    const during = [await put("a"), await put("b", "429"), await put("c", "reset"), await put("d")];
    expect(during.map((r) => r.status)).toEqual([503, 503, 503, 503]);
    expect(during[0]!.body).toEqual({ error: "service unavailable" });
    expect(plan()).toBeUndefined();
    expect(sandbox.journal().map((e) => [e.status, e.fault])).toEqual(Array.from({ length: 4 }, () => [503, "down"]));

    const recovered = await waitFor("the outage to end", async () => {
      const answer = await put("after");
      return answer.status === 503 ? undefined : { ...answer, at: Date.now() };
    });
    expect(recovered.status).toBe(202);
    expect(recovered.at - started).toBeGreaterThanOrEqual(2_000);
    expect(plan()).toBe("after");
    expect(sandbox.statusCounts()[202]).toBe(1);
  });

  it("starts an outage with the request that carries the header, for the requests after it too", async () => {
    user = "2";
    const first = await put("first", "down;seconds=30");
    expect(first.status).toBe(503);
    expect((await put("second")).status).toBe(503);
    expect(plan()).toBeUndefined();
    // Admin routes still answer during an outage, and clearing the faults ends it.
    expect((await fetch(`${sandbox.url}/__sandbox/users/1`)).status).toBe(200);
    expect((await fetch(`${sandbox.url}/__sandbox/faults`, { method: "DELETE" })).status).toBe(204);
    expect((await put("third")).status).toBe(202);
    expect(plan()).toBe("third");
  });
});
