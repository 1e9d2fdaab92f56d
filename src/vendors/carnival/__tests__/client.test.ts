import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { UpdateCommand } from "../../../domain/command.js";
import { RequestScope } from "../../../domain/scope.js";
import type { AttributeValue } from "../../../domain/values.js";
import { NO_RETRIES } from "../../../http/client.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import { CarnivalAdapter } from "../adapter.js";
import { startCarnivalSandbox, type CarnivalSandbox } from "../sandbox.js";
import { SANDBOX_API_KEY, SANDBOX_KEY_WITHOUT_ROLE } from "../config.js";

/** These adapters run with test timeouts of a few hundred ms; a 429 test's pause must delay, not refuse, the next test. */
const UNBOUNDED_WAITS = { maxWaitMs: 60_000 };

const context = () => ({ requestId: "test", scope: new RequestScope() });

function setCommand(userId: string, ...ops: Array<[string, AttributeValue]>): UpdateCommand {
  return {
    userId,
    operations: ops.map(([attribute, value]) => ({ kind: "SET" as const, attribute, value })),
    profile: {},
    tags: { add: [], remove: [] },
    vendorOptions: {},
  };
}

describe("Carnival adapter against its sandbox (loopback HTTP)", () => {
  let sandbox: CarnivalSandbox;
  let adapter: CarnivalAdapter;
  const adapters: CarnivalAdapter[] = [];

  const makeAdapter = (apiKey: string, extra: { timeoutMs?: number; ratePerSecond?: number; baseUrl?: string } = {}) => {
    const a = new CarnivalAdapter(
      {
        baseUrl: extra.baseUrl ?? `${sandbox.url}/v6`,
        apiKey,
        ratePerSecond: extra.ratePerSecond ?? 1000,
        timeoutMs: extra.timeoutMs ?? 2000,
      },
      { pacers: new PacerRegistry(UNBOUNDED_WAITS), retry: NO_RETRIES },
    );
    adapters.push(a);
    return a;
  };

  beforeAll(async () => {
    sandbox = await startCarnivalSandbox({ seedUserIds: ["u-1", "user/with slash"] });
    adapter = makeAdapter(SANDBOX_API_KEY);
  });
  afterEach(() => {
    sandbox.clearJournal();
    sandbox.clearFaults();
  });
  afterAll(async () => {
    for (const a of adapters) a.close();
    await sandbox.close();
  });

  it("sends the documented request: PUT /v6/users/:user_id, Basic with an empty user, {user:{custom}}", async () => {
    const outcome = await adapter.update(
      setCommand("u-1", ["favorite_song", { kind: "string", value: "Drive My Car" }], ["vip", { kind: "boolean", value: true }]),
      context(),
    );
    expect(outcome).toEqual({ ok: true, vendor: "carnival", warnings: [], httpStatus: 202 });
    const [entry] = sandbox.journal();
    expect(entry!.method).toBe("PUT");
    expect(entry!.path).toBe("/v6/users/u-1");
    expect(entry!.headers.authorization).toBe(`Basic ${Buffer.from(`:${SANDBOX_API_KEY}`).toString("base64")}`);
    expect(entry!.headers["content-type"]).toBe("application/json");
    expect(entry!.headers.accept).toBe("application/json");
    expect(entry!.body).toEqual({
      user: { custom: { favorite_song: { type: "string", value: "Drive My Car" }, vip: { type: "boolean", value: true } } },
    });
    expect(sandbox.devices("u-1")![0]).toMatchObject({
      favorite_song: { type: "string", value: "Drive My Car" },
      vip: { type: "boolean", value: true },
    });
  });

  it("encodes the user id as one path segment", async () => {
    const outcome = await adapter.update(setCommand("user/with slash", ["a", { kind: "int", value: 1 }]), context());
    expect(outcome.ok).toBe(true);
    expect(sandbox.journal()[0]!.path).toBe("/v6/users/user%2Fwith%20slash");
  });

  it.each([".", ".."])("refuses the user id %j, which a URL path cannot carry, and sends nothing", async (userId) => {
    const outcome = await adapter.update(setCommand(userId, ["a", { kind: "int", value: 1 }]), context());
    expect(outcome).toEqual({
      ok: false,
      vendor: "carnival",
      failure: expect.objectContaining({
        category: "VALUE_REJECTED",
        retryable: false,
        message: expect.stringContaining("cannot be sent as a URL path segment"),
      }),
    });
    expect(sandbox.journal()).toEqual([]);
  });

  it("reads a 404 page from a wrong base URL as the endpoint missing, not the user", async () => {
    const outcome = await makeAdapter(SANDBOX_API_KEY, { baseUrl: sandbox.url }).update(
      setCommand("u-1", ["a", { kind: "int", value: 1 }]),
      context(),
    );
    expect(outcome.ok || outcome.failure).toMatchObject({
      category: "VENDOR_UNAVAILABLE",
      httpStatus: 404,
      message: expect.stringContaining("check CARNIVAL_API_URL"),
    });
  });

  it("sends nothing for a rejected update", async () => {
    const outcome = await adapter.update(setCommand("u-1", ["bio", { kind: "string", value: "x".repeat(256) }]), context());
    expect(outcome.ok).toBe(false);
    expect(sandbox.journal()).toEqual([]);
  });

  it.each([
    ["an unknown user", "nobody", SANDBOX_API_KEY, "USER_NOT_FOUND", 404],
    ["a wrong key", "u-1", "wrong-key", "AUTHENTICATION_FAILED", 401],
    ["a key without the role", "u-1", SANDBOX_KEY_WITHOUT_ROLE, "PERMISSION_DENIED", 403],
  ])("maps %s to %s", async (_case, userId, key, category, status) => {
    const outcome = await makeAdapter(key).update(setCommand(userId, ["a", { kind: "int", value: 1 }]), context());
    expect(outcome).toEqual({
      ok: false,
      vendor: "carnival",
      failure: expect.objectContaining({ category, httpStatus: status, retryable: false }),
    });
  });

  it.each([
    ["500", "VENDOR_UNAVAILABLE", 500, true, undefined],
    ["503", "VENDOR_UNAVAILABLE", 503, true, undefined],
    ["429;retry-after=7", "RATE_LIMITED", 429, true, 7],
    ["422", "VALUE_REJECTED", 422, false, undefined],
  ])("maps sandbox fault %s to %s", async (fault, category, status, retryable, retryAfter) => {
    const [kind, param] = fault.split(";");
    sandbox.injectFault(
      kind === "429" ? { kind: "rate-limit", retryAfterSeconds: Number(param!.split("=")[1]) } : { kind: "status", status: Number(kind) },
    );
    const outcome = await makeAdapter(SANDBOX_API_KEY).update(setCommand("u-1", ["a", { kind: "int", value: 1 }]), context());
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure).toMatchObject({ category, httpStatus: status, retryable });
    expect(outcome.failure.retryAfterSeconds).toBe(retryAfter);
  });

  it("maps a hang past the timeout to VENDOR_UNAVAILABLE", async () => {
    sandbox.injectFault({ kind: "hang", ms: 5_000 });
    const outcome = await makeAdapter(SANDBOX_API_KEY, { timeoutMs: 200 }).update(
      setCommand("u-1", ["a", { kind: "int", value: 1 }]),
      context(),
    );
    expect(outcome.ok || outcome.failure).toMatchObject({
      category: "VENDOR_UNAVAILABLE",
      retryable: true,
      message: expect.stringContaining("did not answer within 200 ms"),
    });
  });

  it("maps a reset connection to VENDOR_UNAVAILABLE", async () => {
    sandbox.injectFault({ kind: "reset" });
    const outcome = await makeAdapter(SANDBOX_API_KEY).update(setCommand("u-1", ["a", { kind: "int", value: 1 }]), context());
    expect(outcome.ok || outcome.failure).toMatchObject({ category: "VENDOR_UNAVAILABLE", vendorCode: "ECONNRESET" });
  });

  it("says nothing was sent when the connection is refused", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await makeAdapter(SANDBOX_API_KEY, { baseUrl: `http://127.0.0.1:${port}/v6` }).update(
      setCommand("u-1", ["a", { kind: "int", value: 1 }]),
      context(),
    );
    expect(outcome.ok || outcome.failure).toMatchObject({
      category: "VENDOR_UNAVAILABLE",
      vendorCode: "ECONNREFUSED",
      message: expect.stringContaining("nothing was sent"),
    });
  });

  it("reports attributes Carnival discarded at its 50-per-device limit, and what it kept", async () => {
    sandbox.addUser("full");
    const fill = Array.from({ length: 49 }, (_, i): [string, AttributeValue] => [`existing_${i}`, { kind: "int", value: i }]);
    expect((await adapter.update(setCommand("full", ...fill), context())).ok).toBe(true);
    const outcome = await adapter.update(
      setCommand("full", ["new_one", { kind: "int", value: 1 }], ["new_two", { kind: "int", value: 2 }]),
      context(),
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure).toMatchObject({
      category: "VALUE_REJECTED",
      attribute: "new_two",
      httpStatus: 202,
      message: expect.stringContaining("kept: new_one"),
    });
    expect(Object.keys(sandbox.devices("full")![0]!)).toHaveLength(50);
  });

  it("paces requests under the configured rate so the sandbox's 120/s limit is never hit", async () => {
    const paced = makeAdapter(SANDBOX_API_KEY, { ratePerSecond: 100 });
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, (_, i) => paced.update(setCommand("u-1", [`k${i % 5}`, { kind: "int", value: i }]), context())),
    );
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(sandbox.journal().filter((e) => e.status === 429)).toEqual([]);
  });
});
