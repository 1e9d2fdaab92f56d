import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startUserComSandbox, type UserComSandbox } from "../sandbox.js";
import { SANDBOX_API_KEY, SANDBOX_KEY_WITHOUT_PERMISSION } from "../config.js";

/** The sandbox is the vendor for every other test here, so its own rules are checked directly over HTTP. */
describe("User.com sandbox", () => {
  let sandbox: UserComSandbox;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${sandbox.url}${path}`, {
      method,
      redirect: "manual",
      headers: { authorization: `Token ${SANDBOX_API_KEY}`, accept: "*/*; version=2", "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    sandbox = await startUserComSandbox({ seedUserIds: ["1", "2"] });
  });
  afterAll(() => sandbox.close());

  it.each<[string, Record<string, string>, number, unknown]>([
    ["no credentials", { authorization: "" }, 401, { detail: "Authentication credentials were not provided." }],
    ["an unknown token", { authorization: "Token nope" }, 401, { detail: "Invalid token." }],
    [
      "a key without permission",
      { authorization: `Token ${SANDBOX_KEY_WITHOUT_PERMISSION}` },
      403,
      { detail: "You do not have permission to perform this action." },
    ],
    ["an unknown API version", { accept: "*/*; version=9" }, 406, { detail: 'Invalid version in "Accept" header.' }],
  ])("%s → %i", async (_label, headers, status, body) => {
    const response = await call("GET", "/api/public/users-by-id/1/", undefined, headers);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual(body);
  });

  it.each([["GET"], ["PUT"], ["POST"]])(
    "a known path without its trailing slash is redirected (301) for %s, as Django's APPEND_SLASH does",
    async (method) => {
      const response = await call(method, "/api/public/users-by-id/1", method === "GET" ? undefined : {});
      expect(response.status).toBe(301);
      expect(response.headers.get("location")).toBe("/api/public/users-by-id/1/");
    },
  );

  it("an unknown path is the web server's HTML 404, not a JSON one", async () => {
    const response = await call("GET", "/api/public/nothing-here/");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("text/html");
  });

  it("an unknown user is DRF's JSON 404", async () => {
    const response = await call("GET", "/api/public/users-by-id/ghost/");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "Not found." });
  });

  it("GET by custom id returns the full user with its internal id, custom id, tags and attributes", async () => {
    sandbox.addUser("full", { fields: { email: "f@example.org" }, attributes: { plan: "gold" }, tags: ["vip"] });
    const user = (await (await call("GET", "/api/public/users-by-id/full/")).json()) as Record<string, unknown>;
    expect(user).toMatchObject({
      id: sandbox.internalId("full"),
      custom_id: "full",
      email: "f@example.org",
      tags: [{ name: "vip", id: expect.any(Number) }],
      attributes: [{ value: "gold", name: "plan", name_std: "plan", id: expect.any(Number) }],
    });
    expect(typeof user.key).toBe("string");
  });

  it("PUT validates the whole body first: one bad field and nothing is applied", async () => {
    const response = await call("PUT", "/api/public/users-by-id/2/", { city: "Oslo", first_name: "x".repeat(41), logins: "many" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      first_name: ["Ensure this field has no more than 40 characters."],
      logins: ["A valid integer is required."],
    });
    expect(sandbox.user("2")!.city).toBeNull();
  });

  it("PUT ignores read-only fields of the user object without a word, as DRF does", async () => {
    const response = await call("PUT", "/api/public/users-by-id/2/", { id: 1, key: "x", name: "Someone", city: "Oslo" });
    expect(response.status).toBe(200);
    expect(sandbox.user("2")).toMatchObject({ id: sandbox.internalId("2"), city: "Oslo", name: null });
  });

  it("tags in a PUT are add-only", async () => {
    sandbox.addUser("tags", { tags: ["a"] });
    await call("PUT", "/api/public/users-by-id/tags/", { tags: ["b"] });
    expect((sandbox.user("tags")!.tags as Array<{ name: string }>).map((t) => t.name)).toEqual(["a", "b"]);
  });

  it("mass update takes both PUT and POST, requires existing internal ids, and answers {status: ok}", async () => {
    const [a, b] = [sandbox.internalId("1")!, sandbox.internalId("2")!];
    for (const method of ["PUT", "POST"]) {
      const response = await call(method, "/api/public/users/mass_update_custom_attributes/", {
        ids: [a, b],
        attribute: "logins",
        value: 3,
      });
      expect([method, response.status, await response.json()]).toEqual([method, 200, { status: "ok" }]);
    }
    const missing = await call("POST", "/api/public/users/mass_update_custom_attributes/", { ids: [a, 1], attribute: "logins", value: 3 });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ ids: ['Invalid pk "1" - object does not exist.'] });
  });

  it("the unknown-attribute policy follows the request's version by default, and can be changed", async () => {
    const v2 = await call("PUT", "/api/public/users-by-id/1/", { new_one: 1 });
    expect([v2.status, await v2.json()]).toEqual([
      400,
      { new_one: ['Custom attribute "new_one" does not exist. Create it in the app settings first.'] },
    ]);
    const v1 = await call("PUT", "/api/public/users-by-id/1/", { new_one: 1 }, { accept: "application/json" });
    expect(v1.status).toBe(200);
    expect(((await v1.json()) as Record<string, unknown>).user_id).toBe("1");
    sandbox.setUnknownAttributePolicy("create");
    expect((await call("PUT", "/api/public/users-by-id/1/", { newer_one: true })).status).toBe(200);
    sandbox.setUnknownAttributePolicy("by-version");
    expect(sandbox.attributeDefinitions()).toEqual(
      expect.arrayContaining([
        { name: "new_one", nameStd: "new_one", type: "integer" },
        { name: "newer_one", nameStd: "newer_one", type: "boolean" },
      ]),
    );
  });

  it("admin routes seed users and attributes and show state", async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${sandbox.url}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await admin("POST", "/__sandbox/attributes", { name: "Shoe Size", type: "integer" })).status).toBe(201);
    const created = await admin("POST", "/__sandbox/users", { customId: "seeded", attributes: { "Shoe Size": 44 }, tags: ["t"] });
    expect(created.status).toBe(201);
    const user = (await (await admin("GET", "/__sandbox/users/seeded")).json()) as Record<string, unknown>;
    expect(user).toMatchObject({
      custom_id: "seeded",
      attributes: [{ name: "Shoe Size", name_std: "shoe_size", value: 44 }],
      tags: [{ name: "t" }],
    });
    expect((await admin("PUT", "/__sandbox/policy", { unknownAttributes: "refuse" })).status).toBe(204);
    expect((await admin("PUT", "/__sandbox/policy", { unknownAttributes: "by-version" })).status).toBe(204);
    // The admin journal view never shows the token.
    const journal = (await (await admin("GET", "/__sandbox/journal")).json()) as Array<{ headers: Record<string, string> }>;
    expect(journal.length).toBeGreaterThan(0);
    expect(JSON.stringify(journal)).not.toContain(SANDBOX_API_KEY);
  });
});
