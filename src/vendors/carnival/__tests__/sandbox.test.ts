import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startCarnivalSandbox, type CarnivalSandbox } from "../sandbox.js";
import { SANDBOX_API_KEY } from "../config.js";

/**
 * The sandbox reproduces Carnival's silent data loss, so the adapter tests prove something:
 * sent raw (bypassing the adapter's checks), these values are altered or lost without an error.
 */
describe("Carnival sandbox enforces the documented rules", () => {
  let sandbox: CarnivalSandbox;
  const auth = `Basic ${Buffer.from(`:${SANDBOX_API_KEY}`).toString("base64")}`;
  const put = (userId: string, custom: unknown, version = "v6") =>
    fetch(`${sandbox.url}/${version}/users/${userId}`, {
      method: "PUT",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ user: { custom } }),
    });

  beforeAll(async () => {
    sandbox = await startCarnivalSandbox({ seedUserIds: ["u"], rateLimitPerSecond: 1000 });
  });
  afterAll(() => sandbox.close());

  it("accepts /v4, /v5 and /v6 and answers 202 with the echo", async () => {
    for (const version of ["v4", "v5", "v6"]) {
      const response = await put("u", { "my key 1": { type: "string", value: "custom attribute value" } }, version);
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ custom: { my_key_1: { type: "string", value: "custom attribute value" } } });
    }
  });

  it("truncates strings and arrays, narrows floats, truncates integer floats, drops bad keys", async () => {
    const response = await put("u", {
      long: { type: "string", value: "x".repeat(300) },
      many: { type: "integer", value: Array.from({ length: 60 }, (_, i) => i) },
      single: { type: "float", value: 3.141592653589793 },
      trunc: { type: "integer", value: 7.9 },
      out_of_range: { type: "integer", value: 2_147_483_648 },
      "~~~": { type: "string", value: "lost" },
      flags: { type: "boolean", value: [true] },
    });
    expect(response.status).toBe(202);
    const device = sandbox.devices("u")![0]!;
    expect((device.long!.value as string).length).toBe(255);
    expect((device.many!.value as number[]).length).toBe(50);
    expect(device.single!.value).toBe(Math.fround(3.141592653589793));
    expect(device.trunc!.value).toBe(7);
    expect(device.out_of_range).toBeUndefined();
    expect(device.flags).toBeUndefined();
    expect(Object.keys(device)).not.toContain("~~~");
  });

  it("answers 202 with nothing kept when nothing is valid (no error, as documented), 404 {} for an unknown user, 401 without a key", async () => {
    const nothingValid = await put("u", { bad: { type: "nope", value: 1 }, "~~~": { type: "string", value: "x" } });
    expect(nothingValid.status).toBe(202);
    expect(await nothingValid.json()).toEqual({ custom: {} });
    expect(Object.keys(sandbox.devices("u")![0]!)).not.toContain("bad");
    const missing = await put("ghost", { a: { type: "integer", value: 1 } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({});
    const anonymous = await fetch(`${sandbox.url}/v6/users/u`, { method: "PUT", body: "{}" });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: "unauthorized" });
  });

  it("updates every device of a multi-device user", async () => {
    sandbox.addUser("two-devices", 2);
    await put("two-devices", { plan: { type: "string", value: "gold" } });
    expect(sandbox.devices("two-devices")).toEqual([
      { plan: { type: "string", value: "gold" } },
      { plan: { type: "string", value: "gold" } },
    ]);
  });

  it("answers over-rate traffic with 429", async () => {
    const limited = await startCarnivalSandbox({ seedUserIds: ["u"], rateLimitPerSecond: 5 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${limited.url}/v6/users/u`, {
            method: "PUT",
            headers: { authorization: auth, "content-type": "application/json" },
            body: JSON.stringify({ user: { custom: { a: { type: "integer", value: 1 } } } }),
          }).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 429).length).toBe(5);
    } finally {
      await limited.close();
    }
  });
});
