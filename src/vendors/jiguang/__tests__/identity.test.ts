import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import type { RawOperation } from "../../../domain/command.js";
import { RequestScope } from "../../../domain/scope.js";
import { readCuids } from "../identity.js";
import { bodies, command, context, startHarness, type Harness } from "./support.js";

const LONG_MAX = "9223372036854775807";
const SET_NICKNAME: RawOperation = { op: "SET", attribute: "nickname", value: { string: "x" } };

describe("CUIDs beyond 2^53 keep every digit", () => {
  it("when the user id is the CUID", async () => {
    const h = await startHarness();
    try {
      h.sandbox.addUser(LONG_MAX);
      h.sandbox.addUser("9007199254740993"); // 2^53 + 1: the first integer a double cannot hold
      for (const cuid of [LONG_MAX, "9007199254740993"]) {
        const outcome = await h.adapter.update(command(cuid, [SET_NICKNAME]), context());
        expect(outcome.ok).toBe(true);
        expect(h.sandbox.attributes(cuid)).toEqual({ nickname: "x" });
      }
      expect(h.sandbox.requestTexts().map((r) => r.text)).toEqual([
        `{"cuid":9223372036854775807,"data":{"nickname":"x"}}`,
        `{"cuid":9007199254740993,"data":{"nickname":"x"}}`,
      ]);
    } finally {
      await h.close();
    }
  });

  it("when Get CUID returns it", async () => {
    const h = await startHarness({ env: { JIGUANG_IDENTITY_NAME: "login_id" } });
    try {
      h.sandbox.addIdentity("alice@example.com", LONG_MAX, "login_id");
      const outcome = await h.adapter.update(command("alice@example.com", [SET_NICKNAME]), context());
      expect(outcome.ok).toBe(true);
      expect(h.sandbox.attributes(LONG_MAX)).toEqual({ nickname: "x" });
      expect(h.sandbox.requestTexts().map((r) => r.text)).toEqual([
        `{"identityName":"login_id","identityValues":["alice@example.com"]}`,
        `{"cuid":9223372036854775807,"data":{"nickname":"x"}}`,
      ]);
    } finally {
      await h.close();
    }
  });
});

describe("CUID look-ups (JIGUANG_IDENTITY_NAME set)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JIGUANG_IDENTITY_NAME: "login_id" }, sandbox: { identityNames: ["login_id"] } });
    for (let i = 0; i < 250; i++) h.sandbox.addIdentity(`user-${i}`, undefined, "login_id");
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.clearJournal());

  it.each([
    [1, 1],
    [100, 1],
    [101, 2],
    [250, 3],
  ])("%i concurrent updates sharing one request scope → %i Get-CUID call(s) of ≤ 100 distinct values", async (n, calls) => {
    const scope = new RequestScope();
    const ids = Array.from({ length: n }, (_, i) => `user-${i}`);
    // Every id twice: the loader de-duplicates within the request.
    const outcomes = await Promise.all([...ids, ...ids].map((id) => h.adapter.update(command(id, [SET_NICKNAME]), context(scope))));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const lookups = bodies(h.sandbox, "register") as Array<{ identityName: string; identityValues: string[] }>;
    expect(lookups).toHaveLength(calls);
    expect(lookups.every((b) => b.identityName === "login_id" && b.identityValues.length <= 100)).toBe(true);
    expect(lookups.flatMap((b) => b.identityValues).sort()).toEqual([...ids].sort());
    expect(bodies(h.sandbox, "attribute")).toHaveLength(2 * n);
  });

  it("sends the documented Get-CUID request", async () => {
    await h.adapter.update(command("user-7", [SET_NICKNAME]), context());
    const [lookup] = h.sandbox.journal();
    expect(lookup).toMatchObject({
      method: "POST",
      path: "/smartop/api/v1/user/register",
      body: { identityName: "login_id", identityValues: ["user-7"] },
      status: 200,
    });
    expect(lookup!.headers.authorization).toMatch(/^Basic /);
  });

  it("caches per request scope, not across requests", async () => {
    const scope = new RequestScope();
    await h.adapter.update(command("user-1", [SET_NICKNAME]), context(scope));
    await h.adapter.update(command("user-1", [SET_NICKNAME]), context(scope));
    await h.adapter.update(command("user-1", [SET_NICKNAME]), context());
    expect(bodies(h.sandbox, "register")).toHaveLength(2);
  });

  it("an unknown identity value → USER_NOT_FOUND, without an attribute call", async () => {
    const outcome = await h.adapter.update(command("nobody", [SET_NICKNAME]), context());
    expect(outcome).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND", retryable: false } });
    expect(!outcome.ok && outcome.failure.message).toBe("Jiguang has no user whose login_id is this user id");
    expect(bodies(h.sandbox, "attribute")).toEqual([]);
  });

  it("a user id over 256 characters cannot be an identity value: USER_NOT_FOUND, not looked up", async () => {
    const outcome = await h.adapter.update(command("x".repeat(257), [SET_NICKNAME]), context());
    expect(outcome).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND" } });
    expect(h.sandbox.journal()).toEqual([]);
  });

  it("an invalid command is refused before any look-up", async () => {
    const outcome = await h.adapter.update(command("user-1", [{ op: "SET", attribute: "points", value: { int: 1 } }]), context());
    expect(outcome).toMatchObject({ ok: false, failure: { category: "UNSUPPORTED_OPERATION" } });
    expect(h.sandbox.journal()).toEqual([]);
  });

  it("a failed look-up fails every user of the batch with its category", async () => {
    h.sandbox.respondNext({ status: 401, body: { code: 4009, msg: "API鉴权失败" } });
    const scope = new RequestScope();
    const outcomes = await Promise.all(["user-1", "user-2"].map((id) => h.adapter.update(command(id, [SET_NICKNAME]), context(scope))));
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ ok: false, failure: { category: "AUTHENTICATION_FAILED", vendorCode: "4009" } });
      expect(!outcome.ok && outcome.failure.message).toMatch(/^Jiguang refused the CUID look-up/);
    }
    expect(bodies(h.sandbox, "register")).toHaveLength(1);
    expect(bodies(h.sandbox, "attribute")).toEqual([]);
  });

  it("setForMany (the bulk path): one look-up for the chunk, one outcome per user", async () => {
    const users = [...Array.from({ length: 99 }, (_, i) => `user-${i}`), "nobody", "x".repeat(300)];
    const outcomes = await h.adapter.setForMany(users, { attribute: "nickname", value: { kind: "string", value: "bulk" } }, context());
    const lookups = bodies(h.sandbox, "register") as Array<{ identityValues: string[] }>;
    expect(lookups.map((b) => b.identityValues.length)).toEqual([100]); // the 300-character id cannot be one
    expect(bodies(h.sandbox, "attribute")).toHaveLength(99);
    expect([...outcomes.values()].filter((o) => o.ok)).toHaveLength(99);
    expect(outcomes.get("nobody")).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND" } });
    expect(outcomes.get("x".repeat(300))).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND" } });
  });

  it("setForMany refuses for every user, with nothing sent, a value the catalog rules out", async () => {
    const outcomes = await h.adapter.setForMany(["user-1", "user-2"], { attribute: "points", value: { kind: "int", value: 1 } }, context());
    expect([...outcomes.values()].map((o) => !o.ok && o.failure.category)).toEqual(["UNSUPPORTED_OPERATION", "UNSUPPORTED_OPERATION"]);
    expect(h.adapter.check(command("user-1", [{ op: "SET", attribute: "points", value: { int: 1 } }]))).toMatchObject([
      { category: "UNSUPPORTED_OPERATION", attribute: "points" },
    ]);
    expect(h.adapter.check(command("user-1", [SET_NICKNAME]))).toEqual([]);
    expect(h.sandbox.journal()).toEqual([]);
  });

  it("resolveCuids: one outcome per distinct id, batched by 100", async () => {
    const ids = [...Array.from({ length: 150 }, (_, i) => `user-${i}`), "user-3", "ghost"];
    const outcomes = await h.adapter.resolveCuids(ids, context());
    expect(outcomes.size).toBe(151);
    expect(outcomes.get("user-3")).toEqual({ ok: true, cuid: expect.stringMatching(/^\d+$/) });
    expect(outcomes.get("ghost")).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND" } });
    expect(bodies(h.sandbox, "register")).toHaveLength(2);
  });
});

describe("resolveCuids without an identity name", () => {
  it("parses user ids as CUIDs with no call", async () => {
    const h = await startHarness();
    try {
      const outcomes = await h.adapter.resolveCuids(["12", LONG_MAX, "x"], context());
      expect(outcomes.get("12")).toEqual({ ok: true, cuid: "12" });
      expect(outcomes.get(LONG_MAX)).toEqual({ ok: true, cuid: LONG_MAX });
      expect(outcomes.get("x")).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND" } });
      expect(h.sandbox.journal()).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe("reading Get CUID's answer (shape chosen: data: [{identityValue, cuid}])", () => {
  it.each<[string, unknown, Record<string, unknown> | string]>([
    [
      "integer and string CUIDs",
      [
        { identityValue: "a", cuid: 5 },
        { identityValue: "b", cuid: "6" },
        { identityValue: "c", cuid: 9223372036854775807n },
      ],
      { a: "5", b: "6", c: LONG_MAX },
    ],
    [
      "a repeated, consistent entry",
      [
        { identityValue: "a", cuid: 5 },
        { identityValue: "a", cuid: 5 },
      ],
      { a: "5" },
    ],
    [
      "two CUIDs for one value",
      [
        { identityValue: "a", cuid: 5 },
        { identityValue: "a", cuid: 6 },
      ],
      { a: "VENDOR_UNAVAILABLE" },
    ],
    ["data not a list", { a: 5 }, "data is not a list"],
    [
      "a CUID past 2^53 that went through a double",
      [{ identityValue: "a", cuid: Number("9223372036854775808") }],
      "lacks a string identityValue or an integer cuid",
    ],
    ["a negative CUID", [{ identityValue: "a", cuid: -5 }], "lacks a string identityValue or an integer cuid"],
  ])("%s", (_name, data, expected) => {
    const result = readCuids(data, "login_id");
    if (typeof expected === "string") {
      expect(result).toMatchObject({ ok: false, failure: { category: "VENDOR_UNAVAILABLE", retryable: false } });
      expect(!result.ok && result.failure.message).toContain(expected);
      return;
    }
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const flat = Object.fromEntries([...result.cuids].map(([k, v]) => [k, v.ok ? v.cuid : v.failure.category]));
    expect(flat).toEqual(expected);
  });
});
