import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startJiguangSandbox, type JiguangSandbox } from "../sandbox.js";
import { SANDBOX_PROJECT_ID, SANDBOX_PROJECT_SECRET } from "../config.js";

const AUTH = `Basic ${Buffer.from(`${SANDBOX_PROJECT_ID}:${SANDBOX_PROJECT_SECRET}`).toString("base64")}`;

async function call(
  sandbox: JiguangSandbox,
  method: string,
  path: string,
  body?: string,
  /** null: no Authorization header at all. */
  authorization: string | null = AUTH,
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const put = (s: JiguangSandbox, body: string, auth?: string | null) => call(s, "PUT", "/smartop/api/v1/user/attribute", body, auth);
const register = (s: JiguangSandbox, body: unknown) => call(s, "POST", "/smartop/api/v1/user/register", JSON.stringify(body));

describe("Jiguang sandbox", () => {
  let s: JiguangSandbox;
  beforeAll(async () => {
    s = await startJiguangSandbox({ seedUserIds: ["1", "abc"], identityNames: ["login_id"], rateLimitPerSecond: 10_000 });
  });
  afterAll(() => s.close());

  it.each([
    ["no Authorization header", null],
    ["a wrong secret", `Basic ${Buffer.from(`${SANDBOX_PROJECT_ID}:nope`).toString("base64")}`],
    ["a wrong project", `Basic ${Buffer.from(`other:${SANDBOX_PROJECT_SECRET}`).toString("base64")}`],
    ["another scheme", "Bearer x"],
  ])("answers 4009 to %s", async (_name, auth) => {
    const response = await call(s, "PUT", "/smartop/api/v1/user/attribute", '{"cuid":1,"data":{"plan":"a"}}', auth);
    expect([response.status, response.json]).toEqual([401, { code: 4009, msg: "API鉴权失败" }]);
  });

  it.each<[string, string, number, number, string]>([
    [
      "the documentation's example, minus comments, for a seeded user",
      '{"cuid":1,"data":{"plan":"refef","vip_level":46.2,"signup_time":"2023-12-12 00:56:23"}}',
      200,
      0,
      "ok",
    ],
    ["no cuid", '{"data":{"plan":"a"}}', 400, 40007, "CUID不能为空"],
    ["a null cuid", '{"cuid":null,"data":{"plan":"a"}}', 400, 40007, "CUID不能为空"],
    ["a cuid that is not a Long", '{"cuid":"abc","data":{"plan":"a"}}', 404, 40003, "CUID不合法"],
    ["a negative cuid", '{"cuid":-1,"data":{"plan":"a"}}', 404, 40003, "CUID不合法"],
    ["a seeded cuid written as text, not as a Long", '{"cuid":"1","data":{"plan":"a"}}', 404, 40003, "CUID不合法"],
    ["an unknown cuid", '{"cuid":2,"data":{"plan":"a"}}', 404, 40003, "CUID不合法"],
    ["no data", '{"cuid":1}', 400, 40002, "业务参数不合法: data"],
    ["empty data", '{"cuid":1,"data":{}}', 400, 40002, "业务参数不合法: data"],
    ["not JSON", "cuid=1", 400, 40002, "业务参数不合法: 请求体不是JSON对象"],
    ["an undefined attribute", '{"cuid":1,"data":{"user_number_once1":46.2}}', 400, 40010, "用户属性[user_number_once1]不存在"],
    ["an empty string", '{"cuid":1,"data":{"plan":""}}', 400, 40009, "用户属性值不能为空"],
    ["an empty list", '{"cuid":1,"data":{"interests":[]}}', 400, 40009, "用户属性值不能为空"],
    ["null", '{"cuid":1,"data":{"plan":null}}', 400, 40009, "用户属性值不能为空"],
    ["a boolean for BOOL", '{"cuid":1,"data":{"is_member":true}}', 400, 40002, "业务参数不合法: 用户属性[is_member]的值不是BOOL"],
    ["2 for BOOL", '{"cuid":1,"data":{"is_member":2}}', 400, 40002, "业务参数不合法: 用户属性[is_member]的值不是BOOL"],
    [
      "ISO 8601 for DATETIME",
      '{"cuid":1,"data":{"last_login":"2024-01-01T00:00:00Z"}}',
      400,
      40002,
      "业务参数不合法: 用户属性[last_login]的值不是DATETIME",
    ],
    [
      "February 30th",
      '{"cuid":1,"data":{"last_login":"2024-02-30 00:00:00"}}',
      400,
      40002,
      "业务参数不合法: 用户属性[last_login]的值不是DATETIME",
    ],
    [
      "a millisecond timestamp for DATETIME",
      '{"cuid":1,"data":{"last_login":1704067200000}}',
      400,
      40002,
      "业务参数不合法: 用户属性[last_login]的值不是DATETIME",
    ],
    ["numbers in a LIST", '{"cuid":1,"data":{"interests":[1,2]}}', 400, 40002, "业务参数不合法: 用户属性[interests]的值不是LIST"],
    ["a string for NUMBER", '{"cuid":1,"data":{"points":"5"}}', 400, 40002, "业务参数不合法: 用户属性[points]的值不是NUMBER"],
  ])("PUT with %s → HTTP %i, code %i", async (_name, body, status, code, msg) => {
    const response = await put(s, body);
    expect([response.status, response.json]).toEqual([status, { code, msg }]);
  });

  it("applies a request all or nothing", async () => {
    s.addUser("50");
    const response = await put(s, '{"cuid":50,"data":{"plan":"gold","points":"x"}}');
    expect(response.json.code).toBe(40002);
    expect(s.attributes("50")).toEqual({});
  });

  it("accepts the rule semantics: once keeps, overwrite replaces, accumulate adds from 0, append keeps duplicates", async () => {
    s.addUser("51");
    for (const data of [
      { first_channel: "a", plan: "a", points: 1.5, interests: ["x"] },
      { first_channel: "b", plan: "b", points: 2, interests: ["x", "y"] },
    ]) {
      expect((await put(s, JSON.stringify({ cuid: 51, data }))).json).toEqual({ code: 0, msg: "ok" });
    }
    expect(s.attributes("51")).toEqual({ first_channel: "a", plan: "b", points: 3.5, interests: ["x", "x", "y"] });
  });

  it("answers Get CUID with data: [{identityValue, cuid}] for the values it knows, once each", async () => {
    s.addIdentity("carol", "9223372036854775807", "login_id");
    const response = await register(s, { identityName: "login_id", identityValues: ["carol", "abc", "carol", "nobody"] });
    expect(response.status).toBe(200);
    expect(response.text).toMatch(
      /^\{"code":0,"msg":"ok","data":\[\{"identityValue":"carol","cuid":9223372036854775807\},\{"identityValue":"abc","cuid":\d+\}\]\}$/,
    );
  });

  it.each<[string, unknown, string]>([
    [
      "101 values",
      { identityName: "login_id", identityValues: Array.from({ length: 101 }, (_, i) => `v${i}`) },
      "业务参数不合法: identityValues最多100个",
    ],
    [
      "a 257-character value",
      { identityName: "login_id", identityValues: ["x".repeat(257)] },
      "业务参数不合法: identityValue超过256个字符",
    ],
    ["no values", { identityName: "login_id", identityValues: [] }, "业务参数不合法: identityValues"],
    ["a number among the values", { identityName: "login_id", identityValues: [1] }, "业务参数不合法: identityValues"],
    ["no identity name", { identityValues: ["a"] }, "业务参数不合法: identityName"],
    ["an identifier the project lacks", { identityName: "phone", identityValues: ["a"] }, "用户标识[phone]不存在"],
  ])("refuses Get CUID with %s (40002)", async (_name, body, msg) => {
    const response = await register(s, body);
    expect([response.status, response.json]).toEqual([400, { code: 40002, msg }]);
  });

  it("accepts exactly 100 values of 256 characters", async () => {
    const response = await register(s, {
      identityName: "login_id",
      identityValues: Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(256, "x")),
    });
    expect(response.json).toEqual({ code: 0, msg: "ok", data: [] });
  });

  it("answers other methods and paths with errors", async () => {
    expect((await call(s, "POST", "/smartop/api/v1/user/attribute", "{}")).status).toBe(405);
    expect((await call(s, "GET", "/smartop/api/v1/user/register")).status).toBe(405);
    expect((await call(s, "GET", "/smartop/api/v1/users")).status).toBe(404);
  });

  it("admin routes seed users and show what is stored", async () => {
    const created = await call(s, "POST", "/__sandbox/users", JSON.stringify({ identityValue: "dave", identityName: "login_id" }));
    expect(created.status).toBe(201);
    const cuid = created.json.cuid as string;
    expect(cuid).toMatch(/^\d+$/);
    expect((await register(s, { identityName: "login_id", identityValues: ["dave"] })).json.data).toEqual([
      { identityValue: "dave", cuid: Number(cuid) },
    ]);
    await put(s, JSON.stringify({ cuid: Number(cuid), data: { plan: "gold" } }));
    const stored = await call(s, "GET", `/__sandbox/users/${cuid}`);
    expect(stored.json).toEqual({ cuid, attributes: { plan: "gold" } });
    expect((await call(s, "POST", "/__sandbox/users", JSON.stringify({ cuid: "9223372036854775806" }))).json).toEqual({
      cuid: "9223372036854775806",
    });
    expect((await call(s, "POST", "/__sandbox/users", JSON.stringify({ cuid: "x" }))).status).toBe(400);
    expect((await call(s, "GET", "/__sandbox/users/404404")).status).toBe(404);
    const catalog = await call(s, "GET", "/__sandbox/catalog");
    expect(catalog.json.attributes.points).toEqual({ type: "NUMBER", rule: "accumulate" });
  });

  it("can be told to answer 200 to every code", async () => {
    const lenient = await startJiguangSandbox({ errorStatus: 200 });
    try {
      const response = await put(lenient, '{"cuid":1,"data":{"plan":"a"}}');
      expect([response.status, response.json]).toEqual([200, { code: 40003, msg: "CUID不合法" }]);
    } finally {
      await lenient.close();
    }
  });
});

describe("Jiguang sandbox rate limit", () => {
  it("answers HTTP 429 with Retry-After beyond the QPS in a sliding second, per project", async () => {
    const s = await startJiguangSandbox({ rateLimitPerSecond: 3, seedUserIds: ["1"] });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await put(s, '{"cuid":1,"data":{"plan":"a"}}')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await put(s, '{"cuid":1,"data":{"plan":"a"}}');
      expect([limited.status, limited.headers.get("retry-after"), limited.json]).toEqual([429, "1", { code: 429, msg: "请求过于频繁" }]);
      // Unauthenticated traffic is refused before it counts against the project.
      expect((await put(s, "{}", "Bearer x")).json.code).toBe(4009);
    } finally {
      await s.close();
    }
  });
});
