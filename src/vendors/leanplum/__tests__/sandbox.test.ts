import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { SANDBOX_MESSAGES, startLeanplumSandbox, type LeanplumSandbox } from "../sandbox.js";
import { SANDBOX_APP_ID, SANDBOX_CLIENT_KEY, SANDBOX_DEVELOPMENT_KEY, SANDBOX_EXPORT_KEY } from "../config.js";

const AUTH = { appId: SANDBOX_APP_ID, clientKey: SANDBOX_CLIENT_KEY, apiVersion: "1.0.6" };
const EXPORT = { appId: SANDBOX_APP_ID, clientKey: SANDBOX_EXPORT_KEY, apiVersion: "1.0.6" };

let sandbox: LeanplumSandbox;

async function call(
  query: Record<string, string>,
  body?: unknown,
  contentType = "application/json",
): Promise<{ status: number; body: any }> {
  const url = `${sandbox.url}/api?${new URLSearchParams(query).toString()}`;
  const response = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    ...(body === undefined
      ? {}
      : { headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

const ok = { status: 200, body: { response: [{ success: true }] } };
const failure = (status: number, message: string) => ({ status, body: { response: [{ success: false, error: { message } }] } });

beforeAll(async () => {
  sandbox = await startLeanplumSandbox({ seedUserIds: ["seeded"] });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.setLatency(0);
  sandbox.clearJournal();
});

describe("Leanplum sandbox: request forms", () => {
  it.each([
    ["a JSON body", { action: "setUserAttributes" }, { ...AUTH, userId: "f1", userAttributes: { a: 1 } }, "application/json"],
    [
      "a text/plain JSON body (the JS SDK's form)",
      { action: "setUserAttributes" },
      JSON.stringify({ ...AUTH, userId: "f2", userAttributes: { a: 1 } }),
      "text/plain",
    ],
    [
      "query only, JSON-valued arguments as text",
      { action: "setUserAttributes", ...AUTH, userId: "f3", userAttributes: JSON.stringify({ a: 1 }) },
      undefined,
      "",
    ],
    [
      "query and body merged",
      { action: "setUserAttributes", appId: SANDBOX_APP_ID, clientKey: SANDBOX_CLIENT_KEY },
      { apiVersion: "1.0.6", userId: "f4", userAttributes: { a: 1 } },
      "application/json",
    ],
  ])("accepts %s", async (_name, query, body, type) => {
    expect(await call(query, body, type)).toEqual(ok);
    const userId = (typeof body === "string" ? JSON.parse(body).userId : (body as any)?.userId) ?? (query as Record<string, string>).userId;
    expect(sandbox.user(userId)?.attributes).toEqual({ a: 1 });
  });

  it.each([
    ["an unknown action", { action: "track" }, { ...AUTH, userId: "x" }, 400, "Unknown or unsupported action: track"],
    ["another apiVersion", { action: "setUserAttributes" }, { ...AUTH, apiVersion: "2.0", userId: "x" }, 400, "apiVersion must be 1.0.6"],
    ["no user", { action: "setUserAttributes" }, AUTH, 400, "A userId or deviceId is required"],
    ["a wrong key", { action: "setUserAttributes" }, { ...AUTH, clientKey: "nope", userId: "x" }, 403, SANDBOX_MESSAGES.invalidAccessKey],
    [
      "the export key for a write",
      { action: "setUserAttributes" },
      { ...AUTH, clientKey: SANDBOX_EXPORT_KEY, userId: "x" },
      403,
      SANDBOX_MESSAGES.invalidAccessKey,
    ],
    [
      "the development key for a write",
      { action: "setUserAttributes" },
      { ...AUTH, clientKey: SANDBOX_DEVELOPMENT_KEY, userId: "x" },
      403,
      SANDBOX_MESSAGES.invalidAccessKey,
    ],
    [
      "the production key for exportUser",
      { action: "exportUser", ...AUTH, userId: "seeded" },
      undefined,
      403,
      SANDBOX_MESSAGES.invalidAccessKey,
    ],
  ])("refuses %s", async (_name, query, body, status, message) => {
    expect(await call(query, body)).toEqual(failure(status, message));
  });

  it("accepts multipart form data, the documented other body form, with JSON-valued fields as text", async () => {
    const form = new FormData();
    for (const [name, value] of Object.entries({ ...AUTH, userId: "f5", userAttributes: JSON.stringify({ a: 1, b: "x" }) })) {
      form.append(name, value);
    }
    const response = await fetch(`${sandbox.url}/api?action=setUserAttributes`, { method: "POST", body: form });
    expect({ status: response.status, body: await response.json() }).toEqual(ok);
    expect(sandbox.user("f5")?.attributes).toEqual({ a: 1, b: "x" });
  });

  it("refuses a multipart body without its boundary, and form-urlencoded bodies (not documented)", async () => {
    const broken = await call({ action: "setUserAttributes" }, "--x\r\nnot a part", "multipart/form-data");
    expect(broken).toEqual(failure(400, "The multipart body could not be read"));
    const result = await call({ action: "setUserAttributes" }, "appId=x", "application/x-www-form-urlencoded");
    expect(result.status).toBe(400);
  });
});

describe("Leanplum sandbox: setUserAttributes rules", () => {
  it("answers CreateNever on a missing user with the documented warning and creates nothing", async () => {
    expect(
      await call({ action: "setUserAttributes" }, { ...AUTH, userId: "ghost", createDisposition: "CreateNever", userAttributes: { a: 1 } }),
    ).toEqual({
      status: 200,
      body: { response: [{ success: true, warning: { message: SANDBOX_MESSAGES.userNotFound } }] },
    });
    expect(sandbox.user("ghost")).toBeUndefined();
  });

  it("applies set, add, remove, increment and null, skipping a non-integer increment with a warning", async () => {
    sandbox.seedUser("s1", { tags: ["Hiking", "Chess"], count: 1, name: "x", gone: "y" });
    const result = await call(
      { action: "setUserAttributes" },
      {
        ...AUTH,
        userId: "s1",
        userAttributes: { plan: "gold", gone: null },
        userAttributeValuesToAdd: { tags: "Books" },
        userAttributeValuesToRemove: { tags: "Chess" },
        userAttributeValuesToIncrement: { count: 2, name: 1, fresh: 5 },
      },
    );
    expect(result).toEqual({
      status: 200,
      body: {
        response: [
          {
            success: true,
            warning: {
              message: 'Cannot increment "name": the attribute value and the increment must both be integers; increment skipped.',
            },
          },
        ],
      },
    });
    expect(sandbox.user("s1")?.attributes).toEqual({ tags: ["Hiking", "Books"], count: 3, name: "x", plan: "gold", fresh: 5 });
  });

  it("answers 429 to a second request for a user while one is in flight", async () => {
    sandbox.setLatency(300);
    const body = { ...AUTH, userId: "busy", userAttributes: { a: 1 } };
    const results = await Promise.all([call({ action: "setUserAttributes" }, body), call({ action: "setUserAttributes" }, body)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 429]);
    expect(results.find((r) => r.status === 429)).toEqual(failure(429, SANDBOX_MESSAGES.concurrent));
  });

  it("allows devMode traffic one request per second per user", async () => {
    const body = { ...AUTH, userId: "dev", devMode: true, userAttributes: { a: 1 } };
    expect(await call({ action: "setUserAttributes" }, body)).toEqual(ok);
    expect(await call({ action: "setUserAttributes" }, body)).toEqual(failure(429, SANDBOX_MESSAGES.devModeRateLimit));
    expect(await call({ action: "setUserAttributes" }, { ...body, devMode: false })).toEqual(ok);
  });

  it("answers 451 for a blocked user until unblocked (admin route)", async () => {
    await fetch(`${sandbox.url}/__sandbox/users/blocked-1/block`, { method: "POST" });
    const body = { ...AUTH, userId: "blocked-1", userAttributes: { a: 1 } };
    expect(await call({ action: "setUserAttributes" }, body)).toEqual(failure(451, SANDBOX_MESSAGES.blocked));
    await fetch(`${sandbox.url}/__sandbox/users/blocked-1/block`, { method: "DELETE" });
    expect(await call({ action: "setUserAttributes" }, body)).toEqual(ok);
  });

  it.each([
    [
      "newUserId with a userId (switch): a new user gets the attributes",
      { userId: "sw-a", newUserId: "sw-b" },
      { "sw-a": {}, "sw-b": { a: 1 } },
    ],
    [
      "newUserId with a device only (register): the device user is renamed",
      { deviceId: "reg-d", newUserId: "reg-u" },
      { "reg-d": undefined, "reg-u": { a: 1 } },
    ],
  ])("re-identifies: %s", async (_name, ids, expected) => {
    sandbox.seedUser("sw-a");
    await call({ action: "setUserAttributes" }, { ...AUTH, deviceId: "reg-d" });
    expect(await call({ action: "setUserAttributes" }, { ...AUTH, ...ids, userAttributes: { a: 1 } })).toEqual(ok);
    for (const [id, attributes] of Object.entries(expected)) expect(sandbox.user(id)?.attributes).toEqual(attributes);
  });

  it("merges an anonymous device user into an existing one on login", async () => {
    sandbox.seedUser("login-u", { kept: "existing" });
    await call({ action: "setUserAttributes" }, { ...AUTH, deviceId: "login-d", userAttributes: { kept: "anonymous", extra: 1 } });
    expect(await call({ action: "setUserAttributes" }, { ...AUTH, deviceId: "login-d", newUserId: "login-u" })).toEqual(ok);
    expect(sandbox.user("login-d")).toBeUndefined();
    expect(sandbox.user("login-u")?.attributes).toEqual({ kept: "existing", extra: 1 });
  });
});

describe("Leanplum sandbox: multi", () => {
  const item = (userId: string, extra: Record<string, unknown> = {}) => ({
    action: "setUserAttributes",
    userId,
    userAttributes: { m: 1 },
    ...extra,
  });

  it("answers one element per action, in order", async () => {
    const result = await call(
      { action: "multi" },
      {
        ...AUTH,
        time: 1_700_000_000,
        data: [item("m1"), item("m2", { createDisposition: "CreateNever" }), item("m1", { userAttributeValuesToIncrement: { m: 1 } })],
      },
    );
    expect(result).toEqual({
      status: 200,
      body: { response: [{ success: true }, { success: true, warning: { message: SANDBOX_MESSAGES.userNotFound } }, { success: true }] },
    });
    expect(sandbox.user("m1")?.attributes).toEqual({ m: 2 });
  });

  it.each([
    ["51 users", Array.from({ length: 51 }, (_, i) => item(`lim-u${i}`))],
    ["501 actions", Array.from({ length: 501 }, (_, i) => item(`lim-a${i % 5}`))],
  ])("refuses %s with 403 and applies nothing", async (_name, data) => {
    expect(await call({ action: "multi" }, { ...AUTH, time: 1_700_000_000, data })).toEqual(failure(403, SANDBOX_MESSAGES.multiLimits));
    expect(sandbox.user("lim-u0") ?? sandbox.user("lim-a0")).toBeUndefined();
  });

  it("requires time", async () => {
    expect((await call({ action: "multi" }, { ...AUTH, data: [item("t")] })).status).toBe(400);
  });

  it("queues a single request for a user of a running multi instead of refusing it", async () => {
    sandbox.setLatency(200);
    const [multi, single] = await Promise.all([
      call({ action: "multi" }, { ...AUTH, time: 1_700_000_000, data: [item("q1")] }),
      (async () => {
        // Send only once the multi holds the user (the journal records requests when they finish).
        while (!sandbox.isBusy("q1")) await new Promise((r) => setTimeout(r, 5));
        return call({ action: "setUserAttributes" }, { ...AUTH, userId: "q1", userAttributes: { later: true } });
      })(),
    ]);
    expect([multi.status, single.status]).toEqual([200, 200]);
    expect(sandbox.user("q1")?.attributes).toEqual({ m: 1, later: true });
  });
});

describe("Leanplum sandbox: exportUser", () => {
  it("returns booleans as True/False strings and numeric ids as strings", async () => {
    await call(
      { action: "setUserAttributes" },
      { ...AUTH, userId: 123456, userAttributes: { vip: true, off: false, n: 2, l: ["a"] }, locale: "en_US" },
    );
    const result = await call({ action: "exportUser", ...EXPORT, userId: "123456" });
    expect(result.status).toBe(200);
    expect(result.body.response[0]).toMatchObject({
      success: true,
      userId: "123456",
      userAttributes: { vip: "True", off: "False", n: 2, l: ["a"] },
      locale: "en_US",
    });
  });

  it("warns about a missing user", async () => {
    expect(await call({ action: "exportUser", ...EXPORT, userId: "nobody" })).toEqual({
      status: 200,
      body: { response: [{ success: true, warning: { message: SANDBOX_MESSAGES.userNotFound } }] },
    });
  });

  it("shows a user's stored state on an admin route", async () => {
    sandbox.seedUser("admin-1", { a: true });
    const response = await fetch(`${sandbox.url}/__sandbox/users/admin-1`);
    expect(await response.json()).toEqual({
      userId: "admin-1",
      attributes: { a: true },
      profile: {},
      unsubscribeCategories: [],
      unsubscribeChannels: [],
      events: {},
      states: {},
      devices: [],
    });
  });
});
