import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import type { RawOperation } from "../../../domain/command.js";
import { attributeFromMessage, readEnvelope } from "../errors.js";
import { SANDBOX_PROJECT_SECRET } from "../config.js";
import { adapterFor, command, context, startHarness, type Harness } from "./support.js";

const SET_NICKNAME: RawOperation = { op: "SET", attribute: "nickname", value: { string: "x" } };

/**
 * Every documented code reaches its failure category, whichever HTTP status carries it: the
 * sandbox is run once with conventional statuses and once answering every code with 200.
 * Codes the adapter provokes for real (wrong secret, unknown CUID, bad value, missing attribute)
 * are provoked; the others are answered by the sandbox on request.
 */
describe.each([["conventional" as const], [200 as const]])("Jiguang codes with error status %s", (errorStatus) => {
  let h: Harness;
  beforeAll(async () => {
    // No catalog, so that values Jiguang rejects reach it.
    h = await startHarness({ sandbox: { errorStatus }, env: { JIGUANG_ATTRIBUTES: undefined } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.clearJournal());

  const status = (conventional: number): number => (errorStatus === 200 ? 200 : conventional);

  it("4009: wrong project secret → AUTHENTICATION_FAILED, secret never echoed", async () => {
    const wrong = adapterFor(h.sandbox, { JIGUANG_PROJECT_SECRET: "not-the-secret-123" });
    try {
      const outcome = await wrong.adapter.update(command("1", [SET_NICKNAME]), context());
      expect(outcome).toMatchObject({
        ok: false,
        failure: { category: "AUTHENTICATION_FAILED", vendorCode: "4009", httpStatus: status(401), retryable: false },
      });
      const text = JSON.stringify(outcome);
      expect(text).not.toContain("not-the-secret-123");
      expect(text).not.toContain(SANDBOX_PROJECT_SECRET);
      expect(text).toContain("check JIGUANG_PROJECT_ID and JIGUANG_PROJECT_SECRET");
    } finally {
      wrong.adapter.close();
    }
  });

  it.each<{ name: string; userId: string; op: RawOperation; category: string; code: string; conventional: number }>([
    {
      name: "40002: value of the wrong type",
      userId: "1",
      op: { op: "SET", attribute: "is_member", value: { string: "yes" } },
      category: "VALUE_REJECTED",
      code: "40002",
      conventional: 400,
    },
    { name: "40003: unknown CUID", userId: "424242", op: SET_NICKNAME, category: "USER_NOT_FOUND", code: "40003", conventional: 404 },
    {
      name: "40009: empty value",
      userId: "1",
      op: { op: "SET", attribute: "nickname", value: { string: "" } },
      category: "VALUE_REJECTED",
      code: "40009",
      conventional: 400,
    },
    {
      name: "40010: attribute not in the Data Center",
      userId: "1",
      op: { op: "SET", attribute: "no_such_attr", value: { int: 1 } },
      category: "ATTRIBUTE_NOT_DEFINED",
      code: "40010",
      conventional: 400,
    },
  ])("$name → $category", async ({ userId, op, category, code, conventional }) => {
    const outcome = await h.adapter.update(command(userId, [op]), context());
    expect(outcome).toMatchObject({
      ok: false,
      failure: { category, vendorCode: code, httpStatus: status(conventional), retryable: false },
    });
    expect(h.sandbox.journal()).toHaveLength(1);
  });

  it.each<{ name: string; body: unknown; conventional: number; category: string; retryable: boolean }>([
    {
      name: "40007: empty CUID",
      body: { code: 40007, msg: "CUID不能为空" },
      conventional: 400,
      category: "VALUE_REJECTED",
      retryable: false,
    },
    {
      name: "40050: EngageLab's authentication code",
      body: { code: 40050, msg: "鉴权失败" },
      conventional: 401,
      category: "AUTHENTICATION_FAILED",
      retryable: false,
    },
    {
      name: "-1: internal error",
      body: { code: -1, msg: "系统内部错误" },
      conventional: 500,
      category: "VENDOR_UNAVAILABLE",
      retryable: false,
    },
    {
      name: "undocumented code",
      body: { code: 40099, msg: "新错误" },
      conventional: 400,
      category: "VENDOR_UNAVAILABLE",
      retryable: false,
    },
  ])("$name → $category", async ({ body, conventional, category, retryable }) => {
    h.sandbox.respondNext({ status: status(conventional), body });
    const outcome = await h.adapter.update(command("1", [SET_NICKNAME]), context());
    expect(outcome).toMatchObject({
      ok: false,
      failure: { category, vendorCode: String((body as { code: number }).code), httpStatus: status(conventional), retryable },
    });
  });
});

describe("Jiguang answers beyond the code table", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { JIGUANG_TIMEOUT_MS: "300" } });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.sandbox.clearJournal();
    h.sandbox.clearFaults();
  });

  it("the code decides: code 0 with HTTP 500 is a success", async () => {
    h.sandbox.respondNext({ status: 500, body: { code: 0, msg: "ok" } });
    expect(await h.adapter.update(command("1", [SET_NICKNAME]), context())).toEqual({
      ok: true,
      vendor: "jiguang",
      warnings: [],
      httpStatus: 500,
    });
  });

  it.each<{
    name: string;
    fault: Parameters<Harness["sandbox"]["injectFault"]>[0];
    category: string;
    message: RegExp;
    status?: number;
    retryable: boolean;
  }>([
    {
      name: "HTTP 503 without a code",
      fault: { kind: "status", status: 503 },
      category: "VENDOR_UNAVAILABLE",
      message: /HTTP 503/,
      status: 503,
      retryable: true,
    },
    // A 200 whose body is unreadable may have been applied: a repeat is offered only to a
    // repeat-safe write (this SET on an overwrite attribute is one).
    {
      name: "a body that is not JSON",
      fault: { kind: "malformed" },
      category: "VENDOR_UNAVAILABLE",
      message:
        /answered 200 to the attribute update, but not with its \{code, msg\} answer \(a body that is not JSON\); whether it was applied is unknown/,
      status: 200,
      retryable: true,
    },
    {
      name: "HTTP 429",
      fault: { kind: "rate-limit", retryAfterSeconds: 1 },
      category: "RATE_LIMITED",
      message: /rate limiting this project/,
      status: 429,
      retryable: true,
    },
    {
      name: "a timeout",
      fault: { kind: "hang", ms: 2_000 },
      category: "VENDOR_UNAVAILABLE",
      message: /did not answer within 300 ms/,
      retryable: true,
    },
    {
      name: "a reset connection",
      fault: { kind: "reset" },
      category: "VENDOR_UNAVAILABLE",
      message: /connection to Jiguang failed/,
      retryable: true,
    },
  ])("$name → $category", async ({ fault, category, message, status, retryable }) => {
    h.sandbox.injectFault(fault);
    const outcome = await h.adapter.update(command("1", [SET_NICKNAME]), context());
    expect(outcome).toMatchObject({ ok: false, failure: { category, retryable, ...(status ? { httpStatus: status } : {}) } });
    expect(!outcome.ok && outcome.failure.message).toMatch(message);
  });

  it("an HTTP 400 without a code is undocumented: not retryable, outcome unknown", async () => {
    h.sandbox.injectFault({ kind: "status", status: 400 });
    const outcome = await h.adapter.update(command("1", [SET_NICKNAME]), context());
    expect(outcome).toMatchObject({ ok: false, failure: { category: "VENDOR_UNAVAILABLE", httpStatus: 400, retryable: false } });
    expect(!outcome.ok && outcome.failure.message).toMatch(/undocumented response \(HTTP 400/);
  });

  it.each<{ name: string; op: RawOperation; retryable: boolean }>([
    { name: "SET on an overwrite attribute may be repeated", op: SET_NICKNAME, retryable: true },
    { name: "SET_ONCE may be repeated", op: { op: "SET_ONCE", attribute: "first_channel", value: { string: "x" } }, retryable: true },
    { name: "INCREMENT may not", op: { op: "INCREMENT", attribute: "points", value: { int: 1 } }, retryable: false },
    { name: "ADD_TO_SET may not", op: { op: "ADD_TO_SET", attribute: "interests", value: { string: "x" } }, retryable: false },
  ])("after an ambiguous failure (-1, 5xx, timeout), $name", async ({ op, retryable }) => {
    h.sandbox.respondNext({ status: 500, body: { code: -1, msg: "系统内部错误" } });
    h.sandbox.injectFault({ kind: "status", status: 502 }, { count: 1 });
    const first = await h.adapter.update(command("1", [op]), context());
    const second = await h.adapter.update(command("1", [op]), context());
    for (const outcome of [first, second]) {
      expect(outcome).toMatchObject({ ok: false, failure: { category: "VENDOR_UNAVAILABLE", retryable } });
      expect(!outcome.ok && outcome.failure.message.includes("may or may not have been applied")).toBe(!retryable);
    }
  });

  it("a refused connection is retryable whatever the operation: nothing was sent", async () => {
    const closed = await startHarness();
    const url = closed.sandbox.url;
    await closed.close();
    const lonely = adapterFor(h.sandbox, { JIGUANG_API_URL: url });
    try {
      const outcome = await lonely.adapter.update(command("1", [{ op: "INCREMENT", attribute: "points", value: { int: 1 } }]), context());
      expect(outcome).toMatchObject({
        ok: false,
        failure: { category: "VENDOR_UNAVAILABLE", vendorCode: "ECONNREFUSED", retryable: true },
      });
    } finally {
      lonely.adapter.close();
    }
  });
});

describe("envelope reading", () => {
  it.each([
    ['{"code":0,"msg":"ok"}', { code: 0, msg: "ok", data: undefined }],
    ['{"code":40010,"msg":"用户属性[a_b]不存在"}', { code: 40010, msg: "用户属性[a_b]不存在", data: undefined }],
    ['{"code":0,"msg":"ok","data":[{"cuid":9223372036854775807}]}', { code: 0, msg: "ok", data: [{ cuid: 9223372036854775807n }] }],
    ['{"code":"0","msg":"ok"}', undefined],
    ['{"msg":"ok"}', undefined],
    ["[]", undefined],
    ["<html>502</html>", undefined],
    ["", undefined],
  ])("%s", (text, expected) => {
    expect(readEnvelope(text)).toEqual(expected);
  });

  it("reads an answer nested past the parser's stack (hostile or broken, within the response cap) as no envelope, without crashing", () => {
    expect(readEnvelope(`{"code":0,"data":${"[".repeat(200_000)}${"]".repeat(200_000)}}`)).toBeUndefined();
  });

  it.each([
    ["用户属性[user_number_once1]不存在", "user_number_once1"],
    ["用户属性[]不存在", undefined],
    ["attribute missing", undefined],
  ])("names the attribute in %s", (msg, expected) => {
    expect(attributeFromMessage(msg)).toBe(expected);
  });
});
