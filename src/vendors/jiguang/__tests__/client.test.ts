import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import type { RawOperation } from "../../../domain/command.js";
import { dispatchUpdate } from "../../../domain/dispatch.js";
import { jiguangCapabilities } from "../capabilities.js";
import { bodies, command, context, startHarness, type Harness } from "./support.js";

/** Each rule and type on the wire, against the sandbox's catalog (the one sandboxEnv hands the adapter). */
describe("Jiguang attribute writes with a catalog", () => {
  let h: Harness;
  let nextCuid = 5000;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.clearJournal());

  const newUser = (): number => {
    const cuid = nextCuid++;
    h.sandbox.addUser(String(cuid));
    return cuid;
  };

  it.each<{ name: string; updates: RawOperation[][]; wire: Array<Record<string, unknown>>; stored: Record<string, unknown> }>([
    {
      name: "overwrite STRING",
      updates: [
        [{ op: "SET", attribute: "nickname", value: { string: "Ada" } }],
        [{ op: "SET", attribute: "nickname", value: { string: "Grace" } }],
      ],
      wire: [{ nickname: "Ada" }, { nickname: "Grace" }],
      stored: { nickname: "Grace" },
    },
    {
      name: "overwrite NUMBER with int then float",
      updates: [
        [{ op: "SET", attribute: "vip_level", value: { int: 3 } }],
        [{ op: "SET", attribute: "vip_level", value: { float: 46.2 } }],
      ],
      wire: [{ vip_level: 3 }, { vip_level: 46.2 }],
      stored: { vip_level: 46.2 },
    },
    {
      name: "overwrite BOOL as 1 then 0",
      updates: [
        [{ op: "SET", attribute: "is_member", value: { boolean: true } }],
        [{ op: "SET", attribute: "is_member", value: { boolean: false } }],
      ],
      wire: [{ is_member: 1 }, { is_member: 0 }],
      stored: { is_member: 0 },
    },
    {
      name: "overwrite DATETIME in Asia/Shanghai (UTC+8)",
      updates: [[{ op: "SET", attribute: "last_login", value: { dateTime: new Date("2023-12-11T16:56:23Z") } }]],
      wire: [{ last_login: "2023-12-12 00:56:23" }],
      stored: { last_login: "2023-12-12 00:56:23" },
    },
    {
      name: "overwrite LIST with a string list",
      updates: [
        [{ op: "SET", attribute: "favourite_genres", value: { stringList: ["jazz", "folk"] } }],
        [{ op: "SET", attribute: "favourite_genres", value: { stringList: ["rock"] } }],
      ],
      wire: [{ favourite_genres: ["jazz", "folk"] }, { favourite_genres: ["rock"] }],
      stored: { favourite_genres: ["rock"] },
    },
    {
      name: "once-only STRING keeps the first value",
      updates: [
        [{ op: "SET_ONCE", attribute: "first_channel", value: { string: "ads" } }],
        [{ op: "SET_ONCE", attribute: "first_channel", value: { string: "organic" } }],
      ],
      wire: [{ first_channel: "ads" }, { first_channel: "organic" }],
      stored: { first_channel: "ads" },
    },
    {
      name: "once-only NUMBER, BOOL, DATETIME and LIST",
      updates: [
        [
          { op: "SET_ONCE", attribute: "first_order_amount", value: { float: 19.9 } },
          { op: "SET_ONCE", attribute: "is_early_adopter", value: { boolean: true } },
          { op: "SET_ONCE", attribute: "signup_time", value: { dateTime: new Date("2024-01-01T00:00:00Z") } },
          { op: "SET_ONCE", attribute: "first_interests", value: { stringList: ["go"] } },
        ],
        [{ op: "SET_ONCE", attribute: "first_order_amount", value: { int: 5 } }],
      ],
      wire: [
        { first_order_amount: 19.9, is_early_adopter: 1, signup_time: "2024-01-01 08:00:00", first_interests: ["go"] },
        { first_order_amount: 5 },
      ],
      stored: { first_order_amount: 19.9, is_early_adopter: 1, signup_time: "2024-01-01 08:00:00", first_interests: ["go"] },
    },
    {
      name: "accumulate NUMBER adds, from 0",
      updates: [
        [{ op: "INCREMENT", attribute: "points", value: { int: 5 } }],
        [{ op: "INCREMENT", attribute: "points", value: { float: 2.5 } }],
        [{ op: "INCREMENT", attribute: "points", value: { int: -3 } }],
      ],
      wire: [{ points: 5 }, { points: 2.5 }, { points: -3 }],
      stored: { points: 4.5 },
    },
    {
      name: "append LIST, a list or one string",
      updates: [
        [{ op: "ADD_TO_SET", attribute: "interests", value: { stringList: ["a", "b"] } }],
        [{ op: "ADD_TO_SET", attribute: "interests", value: { string: "c" } }],
      ],
      wire: [{ interests: ["a", "b"] }, { interests: ["c"] }],
      stored: { interests: ["a", "b", "c"] },
    },
  ])("$name", async ({ updates, wire, stored }) => {
    const cuid = newUser();
    for (const operations of updates) {
      const outcome = await h.adapter.update(command(String(cuid), operations), context());
      expect(outcome).toMatchObject({ ok: true, vendor: "jiguang", httpStatus: 200 });
    }
    expect(bodies(h.sandbox, "attribute")).toEqual(wire.map((data) => ({ cuid, data })));
    expect(h.sandbox.attributes(String(cuid))).toEqual(stored);
  });

  it("sends the documented request: PUT, Basic projectId:projectSecret, JSON, every attribute in one call", async () => {
    const cuid = newUser();
    const outcome = await h.adapter.update(
      command(String(cuid), [
        { op: "SET", attribute: "nickname", value: { string: "李雷" } },
        { op: "INCREMENT", attribute: "points", value: { int: 10 } },
      ]),
      context(),
    );
    expect(outcome.ok).toBe(true);
    const [entry] = h.sandbox.journal();
    expect(entry).toMatchObject({ method: "PUT", path: "/smartop/api/v1/user/attribute", status: 200, response: { code: 0, msg: "ok" } });
    expect(entry!.headers.authorization).toBe(`Basic ${Buffer.from("jiguang-sandbox-project:jiguang-sandbox-secret").toString("base64")}`);
    expect(entry!.headers["content-type"]).toBe("application/json");
    expect(h.sandbox.requestTexts().at(-1)!.text).toBe(`{"cuid":${cuid},"data":{"nickname":"李雷","points":10}}`);
  });

  it("reports normalizations as warnings: sub-second date-times, repeated list values, append semantics", async () => {
    const cuid = newUser();
    const outcome = await h.adapter.update(
      command(String(cuid), [
        { op: "SET", attribute: "last_login", value: { dateTime: new Date("2024-05-01T00:00:00.250Z") } },
        { op: "ADD_TO_SET", attribute: "interests", value: { stringList: ["x", "y", "x"] } },
      ]),
      context(),
    );
    expect(bodies(h.sandbox, "attribute")).toEqual([{ cuid, data: { last_login: "2024-05-01 08:00:00", interests: ["x", "y"] } }]);
    expect(outcome.ok && outcome.warnings.map((w) => [w.code, w.attribute])).toEqual([
      ["DATETIME_PRECISION", "last_login"],
      ["DUPLICATES_REMOVED", "interests"],
      ["APPEND_NOT_DEDUPLICATED", "interests"],
    ]);
  });

  it.each<{ name: string; op: RawOperation; category: string; message: RegExp }>([
    {
      name: "undeclared attribute",
      op: { op: "SET", attribute: "unknown_attr", value: { string: "x" } },
      category: "ATTRIBUTE_NOT_DEFINED",
      message: /not declared in the Jiguang attribute catalog/,
    },
    {
      name: "name breaking Jiguang's naming rule",
      op: { op: "SET", attribute: "Nick-Name", value: { string: "x" } },
      category: "ATTRIBUTE_NOT_DEFINED",
      message: /lowercase letters, digits and "_", starting with a letter/,
    },
    {
      name: "SET on an accumulate attribute",
      op: { op: "SET", attribute: "points", value: { int: 1 } },
      category: "UNSUPPORTED_OPERATION",
      message: /"points" has the accumulate rule.*use INCREMENT/,
    },
    {
      name: "SET on a once-only attribute",
      op: { op: "SET", attribute: "first_channel", value: { string: "x" } },
      category: "UNSUPPORTED_OPERATION",
      message: /once rule.*use SET_ONCE/,
    },
    {
      name: "SET on an append attribute",
      op: { op: "SET", attribute: "interests", value: { stringList: ["x"] } },
      category: "UNSUPPORTED_OPERATION",
      message: /append rule.*use ADD_TO_SET/,
    },
    {
      name: "SET_ONCE on an overwrite attribute",
      op: { op: "SET_ONCE", attribute: "nickname", value: { string: "x" } },
      category: "UNSUPPORTED_OPERATION",
      message: /overwrite rule.*\(use SET for this one\)/,
    },
    {
      name: "INCREMENT on an overwrite NUMBER",
      op: { op: "INCREMENT", attribute: "vip_level", value: { int: 1 } },
      category: "UNSUPPORTED_OPERATION",
      message: /overwrite rule/,
    },
    {
      name: "ADD_TO_SET on an overwrite LIST",
      op: { op: "ADD_TO_SET", attribute: "favourite_genres", value: { string: "x" } },
      category: "UNSUPPORTED_OPERATION",
      message: /overwrite rule/,
    },
    {
      name: "string into NUMBER",
      op: { op: "SET", attribute: "vip_level", value: { string: "3" } },
      category: "VALUE_REJECTED",
      message: /NUMBER attribute.*int or float values, not string/,
    },
    {
      name: "int into BOOL",
      op: { op: "SET", attribute: "is_member", value: { int: 1 } },
      category: "VALUE_REJECTED",
      message: /BOOL attribute/,
    },
    {
      name: "string into DATETIME",
      op: { op: "SET", attribute: "last_login", value: { string: "2024-01-01 00:00:00" } },
      category: "VALUE_REJECTED",
      message: /DATETIME attribute/,
    },
    {
      name: "boolean into STRING",
      op: { op: "SET", attribute: "nickname", value: { boolean: true } },
      category: "VALUE_REJECTED",
      message: /STRING attribute/,
    },
    {
      name: "intList into LIST",
      op: { op: "SET", attribute: "favourite_genres", value: { intList: [1] } },
      category: "VALUE_REJECTED",
      message: /LIST attribute.*stringList/,
    },
    {
      name: "single string SET into LIST",
      op: { op: "SET", attribute: "favourite_genres", value: { string: "x" } },
      category: "VALUE_REJECTED",
      message: /LIST attribute/,
    },
  ])("refuses $name before sending anything", async ({ op, category, message }) => {
    const outcome = await h.adapter.update(command("1", [op]), context());
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.failure).toMatchObject({ category, vendor: "jiguang", attribute: op.attribute, operation: op.op, retryable: false });
    expect(outcome.failure.message).toMatch(message);
    expect(h.sandbox.journal()).toEqual([]);
  });

  it("reports every refused operation of one update, and sends none of them", async () => {
    const outcome = await h.adapter.update(
      command("1", [
        { op: "SET", attribute: "nickname", value: { string: "fine" } },
        { op: "SET", attribute: "points", value: { int: 1 } },
        { op: "SET", attribute: "nope", value: { int: 1 } },
      ]),
      context(),
    );
    expect(!outcome.ok && [outcome.failure, ...outcome.failure.related].map((f) => [f.category, f.attribute])).toEqual([
      ["UNSUPPORTED_OPERATION", "points"],
      ["ATTRIBUTE_NOT_DEFINED", "nope"],
    ]);
    expect(h.sandbox.journal()).toEqual([]);
  });

  it("declares what the API cannot do, so the dispatcher refuses it with no request", async () => {
    const vendor = {
      id: "jiguang",
      displayName: "Jiguang",
      capabilities: jiguangCapabilities,
      mode: "sandbox" as const,
      adapter: h.adapter,
    };
    const cases: RawOperation[] = [
      { op: "REMOVE_FROM_SET", attribute: "interests", value: { string: "a" } },
      { op: "UNSET", attribute: "nickname" },
      { op: "SET", attribute: "nickname", value: { booleanList: [true] } },
      { op: "ADD_TO_SET", attribute: "interests", value: { intList: [1] } },
    ];
    for (const op of cases) {
      const [outcome] = await dispatchUpdate(command("1", [op]), [vendor], context());
      expect(outcome).toMatchObject({ ok: false, failure: { category: "UNSUPPORTED_OPERATION", attribute: op.attribute } });
    }
    expect(h.sandbox.journal()).toEqual([]);
  });

  it("refuses a user id that is not a CUID, with nothing sent", async () => {
    for (const userId of ["abc", "007", "-5", "1.0", "9223372036854775808"]) {
      const outcome = await h.adapter.update(command(userId, [{ op: "SET", attribute: "nickname", value: { string: "x" } }]), context());
      expect(outcome).toMatchObject({ ok: false, failure: { category: "USER_NOT_FOUND", retryable: false } });
      expect(!outcome.ok && outcome.failure.message).toMatch(/positive 64-bit integer.*JIGUANG_IDENTITY_NAME/);
    }
    expect(h.sandbox.journal()).toEqual([]);
  });
});

describe("Jiguang attribute writes without a catalog", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JIGUANG_ATTRIBUTES: undefined } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.clearJournal());

  it("passes writes through, lets the attribute's own rule decide, and says so", async () => {
    h.sandbox.addUser("7000");
    // SET on an accumulate attribute: nothing local can know, so Jiguang adds.
    const first = await h.adapter.update(command("7000", [{ op: "SET", attribute: "points", value: { int: 5 } }]), context());
    const second = await h.adapter.update(command("7000", [{ op: "SET", attribute: "points", value: { int: 5 } }]), context());
    expect(bodies(h.sandbox, "attribute")).toEqual([
      { cuid: 7000, data: { points: 5 } },
      { cuid: 7000, data: { points: 5 } },
    ]);
    expect(h.sandbox.attributes("7000")).toEqual({ points: 10 });
    for (const outcome of [first, second]) {
      expect(outcome.ok && outcome.warnings).toEqual([
        { code: "RULE_NOT_VERIFIED", attribute: "points", message: expect.stringContaining("no Jiguang attribute catalog is configured") },
      ]);
    }
  });

  it("sends every supported kind as is and leaves type checks to Jiguang's codes", async () => {
    h.sandbox.addUser("7001");
    const outcome = await h.adapter.update(command("7001", [{ op: "SET", attribute: "nickname", value: { int: 3 } }]), context());
    expect(bodies(h.sandbox, "attribute")).toEqual([{ cuid: 7001, data: { nickname: 3 } }]);
    expect(outcome).toMatchObject({
      ok: false,
      failure: { category: "VALUE_REJECTED", vendorCode: "40002", httpStatus: 400, attribute: "nickname", operation: "SET" },
    });
  });

  it("maps an undeclared attribute (40010) to ATTRIBUTE_NOT_DEFINED naming the attribute from Jiguang's message", async () => {
    const outcome = await h.adapter.update(
      command("1", [
        { op: "SET", attribute: "nickname", value: { string: "x" } },
        { op: "SET_ONCE", attribute: "user_number_once1", value: { float: 46.2 } },
      ]),
      context(),
    );
    expect(outcome).toMatchObject({
      ok: false,
      failure: { category: "ATTRIBUTE_NOT_DEFINED", vendorCode: "40010", attribute: "user_number_once1", operation: "SET_ONCE" },
    });
    expect(!outcome.ok && outcome.failure.message).toBe(
      "Jiguang refused the attribute update (code 40010, attribute does not exist in the Data Center): 用户属性[user_number_once1]不存在",
    );
  });

  it("still checks the naming rule and value kinds Jiguang cannot encode", async () => {
    const bad = await h.adapter.update(command("1", [{ op: "SET", attribute: "Points", value: { int: 1 } }]), context());
    expect(bad).toMatchObject({ ok: false, failure: { category: "ATTRIBUTE_NOT_DEFINED", attribute: "Points" } });
    const list = await h.adapter.update(command("1", [{ op: "SET", attribute: "tags", value: { floatList: [1.5] } }]), context());
    expect(list).toMatchObject({ ok: false, failure: { category: "VALUE_REJECTED", attribute: "tags" } });
    expect(h.sandbox.journal()).toEqual([]);
  });
});
