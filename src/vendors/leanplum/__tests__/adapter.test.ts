import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import net from "node:net";
import type { AttributeOperation } from "../../../domain/operations.js";
import type { DeliveryOutcome } from "../../../domain/results.js";
import { SecretScrubber, withScrubbedFailures } from "../../../http/redaction.js";
import type { SandboxResponse } from "../../../sandbox/kit.js";
import type { LeanplumAdapter } from "../adapter.js";
import { KeyedMutex } from "../../../reliability/keyed-lock.js";
import { userSerializerFor } from "../user-serializer.js";
import { SANDBOX_MESSAGES, startLeanplumSandbox, type LeanplumSandbox } from "../sandbox.js";
import { SANDBOX_APP_ID, SANDBOX_CLIENT_KEY, SANDBOX_EXPORT_KEY } from "../config.js";
import { adapterFor, command, context, sandboxConfig } from "./support.js";
import { MAPPING_VECTORS } from "./vectors.js";

const CREDENTIALS = { appId: SANDBOX_APP_ID, clientKey: SANDBOX_CLIENT_KEY, apiVersion: "1.0.6" };
const set = (attribute: string, value: string): AttributeOperation => ({ kind: "SET", attribute, value: { kind: "string", value } });
const increment = (attribute: string, value = 1): AttributeOperation => ({ kind: "INCREMENT", attribute, value: { kind: "int", value } });
const envelope = (status: number, ...elements: unknown[]): SandboxResponse => ({ status, body: { response: elements } });

let sandbox: LeanplumSandbox;
let adapter: LeanplumAdapter;

beforeAll(async () => {
  sandbox = await startLeanplumSandbox({ seedUserIds: ["1", "2", "3"] });
  adapter = adapterFor(sandbox).adapter;
});
afterAll(async () => {
  adapter.close();
  await sandbox.close();
});
beforeEach(() => {
  sandbox.clearJournal();
  sandbox.clearFaults();
  sandbox.setLatency(0);
});

function failureOf(outcome: DeliveryOutcome | undefined) {
  if (!outcome || outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.failure;
}

describe("setUserAttributes on the wire", () => {
  it.each(MAPPING_VECTORS)("%s", async (_name, cmd, args) => {
    await adapter.update(cmd, context());
    const [entry, ...rest] = sandbox.journal();
    expect(rest).toEqual([]);
    expect(entry!.method).toBe("POST");
    expect(entry!.path).toBe("/api");
    // Only the action travels in the URL; credentials are in the body.
    expect(entry!.query).toEqual({ action: "setUserAttributes" });
    expect(entry!.headers["content-type"]).toBe("application/json");
    expect(entry!.body).toEqual({ ...CREDENTIALS, ...args });
  });

  it("delivers and stores what was sent", async () => {
    const outcome = await adapter.update(
      command("w-1", [set("plan", "gold"), { kind: "SET", attribute: "tags", value: { kind: "stringList", value: ["a", "b"] } }], {
        profile: { country: "US" },
      }),
      context(),
    );
    expect(outcome).toEqual({ ok: true, vendor: "leanplum", warnings: [], httpStatus: 200 });
    expect(sandbox.user("w-1")?.attributes).toEqual({ plan: "gold", tags: ["a", "b"] });
    expect(sandbox.user("w-1")?.profile).toEqual({ country: "US" });
  });

  it("sends nothing when a name breaks Leanplum's rules, and names the attribute", async () => {
    const outcome = await adapter.update(command("w-2", [set("ok", "x"), set("bad|name", "x")]), context());
    expect(failureOf(outcome)).toMatchObject({ category: "VALUE_REJECTED", attribute: "bad|name", operation: "SET", related: [] });
    expect(sandbox.journal()).toEqual([]);
  });

  it("applies UNSET, ADD_TO_SET, REMOVE_FROM_SET and INCREMENT as Leanplum does", async () => {
    sandbox.seedUser("w-3", { gone: "x", interests: ["Hiking", "Chess"], unread: 4 });
    const outcome = await adapter.update(
      command("w-3", [
        { kind: "UNSET", attribute: "gone" },
        { kind: "ADD_TO_SET", attribute: "interests", value: { kind: "string", value: "Books" } },
        { kind: "REMOVE_FROM_SET", attribute: "other", value: { kind: "string", value: "x" } },
        increment("unread", 2),
      ]),
      context(),
    );
    expect(outcome.ok).toBe(true);
    expect(sandbox.user("w-3")?.attributes).toEqual({ interests: ["Hiking", "Chess", "Books"], unread: 6 });
  });
});

describe("reading Leanplum's answers", () => {
  type Case = readonly [
    string,
    {
      setup?: (s: LeanplumSandbox) => void;
      env?: Record<string, string>;
      operations?: AttributeOperation[];
      createIfMissing?: boolean;
      user?: string;
    },
    Record<string, unknown>,
  ];
  const cases: Case[] = [
    [
      "CreateNever on a missing user (200 + warning)",
      { createIfMissing: false, user: "nobody" },
      {
        category: "USER_NOT_FOUND",
        httpStatus: 200,
        retryable: false,
        message: `Leanplum has no such user: ${SANDBOX_MESSAGES.userNotFound}`,
      },
    ],
    [
      "a skipped non-integer increment (200 + warning naming the attribute)",
      { setup: (s) => s.seedUser("r-inc", { label: "x" }), user: "r-inc", operations: [increment("label")] },
      {
        category: "VALUE_REJECTED",
        httpStatus: 200,
        attribute: "label",
        retryable: false,
        message:
          'Leanplum skipped the request: Cannot increment "label": the attribute value and the increment must both be integers; increment skipped.',
      },
    ],
    [
      "a blocked user (451)",
      { setup: (s) => s.block("r-blocked"), user: "r-blocked" },
      {
        category: "PERMISSION_DENIED",
        httpStatus: 451,
        retryable: false,
        message: "Leanplum refuses requests for this user: it is blocked (451): Unavailable For Legal Reasons",
      },
    ],
    [
      "a wrong client key (403 Invalid access key)",
      { env: { LEANPLUM_CLIENT_KEY: "not-the-key" } },
      {
        category: "AUTHENTICATION_FAILED",
        httpStatus: 403,
        retryable: false,
        message: "Leanplum refused the app id or client key (403): Invalid access key",
      },
    ],
    [
      "the export key in place of the production key (403)",
      { env: { LEANPLUM_CLIENT_KEY: SANDBOX_EXPORT_KEY, LEANPLUM_EXPORT_KEY: "" } },
      { category: "AUTHENTICATION_FAILED", httpStatus: 403 },
    ],
    [
      "another 403",
      { setup: (s) => s.injectResponse(envelope(403, { success: false, error: { message: "Forbidden" } })) },
      { category: "PERMISSION_DENIED", httpStatus: 403, retryable: false, message: "Leanplum refused the request (403): Forbidden" },
    ],
    [
      "a concurrent request for the user (429)",
      { setup: (s) => s.injectResponse(envelope(429, { success: false, error: { message: SANDBOX_MESSAGES.concurrent } })) },
      { category: "RATE_LIMITED", httpStatus: 429, retryable: true },
    ],
    [
      "devMode's per-user rate (429)",
      { setup: (s) => s.injectResponse(envelope(429, { success: false, error: { message: SANDBOX_MESSAGES.devModeRateLimit } })) },
      {
        category: "RATE_LIMITED",
        httpStatus: 429,
        message:
          "Leanplum rejected the request with 429 (another request for this user was in flight, or devMode's 1 request per second per user was exceeded): Per device rate limit exceeded.",
      },
    ],
    [
      "success:false with HTTP 200",
      {
        setup: (s) => s.injectResponse(envelope(200, { success: false, error: { message: "You cannot export data older than 60 days" } })),
      },
      {
        category: "VALUE_REJECTED",
        httpStatus: 200,
        retryable: false,
        message: "Leanplum rejected the request: You cannot export data older than 60 days",
      },
    ],
    [
      "success:true with an error (received, skipped)",
      { setup: (s) => s.injectResponse(envelope(200, { success: true, error: { message: "Something was wrong" } })) },
      { category: "VALUE_REJECTED", httpStatus: 200, message: "Leanplum rejected the request: Something was wrong" },
    ],
    [
      "success:true with an unknown warning",
      {
        setup: (s) =>
          s.injectResponse(
            envelope(200, { success: true, warning: { message: "Past event detected (731 days ago). Rewriting timestamp." } }),
          ),
      },
      {
        category: "VALUE_REJECTED",
        httpStatus: 200,
        message: "Leanplum skipped the request: Past event detected (731 days ago). Rewriting timestamp.",
      },
    ],
    [
      "a rate-limit message inside a 200",
      { setup: (s) => s.injectResponse(envelope(200, { success: false, error: { message: "Too Many Requests." } })) },
      { category: "RATE_LIMITED", httpStatus: 200, retryable: true },
    ],
    [
      "a 400",
      { setup: (s) => s.injectResponse(envelope(400, { success: false, error: { message: "Invalid userAttributes" } })) },
      {
        category: "VALUE_REJECTED",
        httpStatus: 400,
        retryable: false,
        message: "Leanplum rejected the request (400): Invalid userAttributes",
      },
    ],
    [
      "a 500 for a repeat-safe SET",
      { setup: (s) => s.injectFault({ kind: "status", status: 500 }) },
      {
        category: "VENDOR_UNAVAILABLE",
        httpStatus: 500,
        retryable: true,
        message: "Leanplum answered 500: sandbox fault 500; whether the request was applied is unknown",
      },
    ],
    [
      "a 503 for an INCREMENT (not safe to repeat)",
      { setup: (s) => s.injectFault({ kind: "status", status: 503 }), operations: [increment("n")] },
      { category: "VENDOR_UNAVAILABLE", httpStatus: 503, retryable: false },
    ],
    [
      "a truncated JSON body with 200",
      { setup: (s) => s.injectFault({ kind: "malformed" }) },
      {
        category: "VENDOR_UNAVAILABLE",
        httpStatus: 200,
        message: "Leanplum answered 200, but not with its response envelope (a body that is not JSON); whether it was applied is unknown",
      },
    ],
    [
      "JSON without the envelope",
      { setup: (s) => s.injectResponse({ status: 200, body: { ok: true } }) },
      {
        category: "VENDOR_UNAVAILABLE",
        message: "Leanplum answered 200, but not with its response envelope (JSON of another shape); whether it was applied is unknown",
      },
    ],
    [
      "an element without success",
      { setup: (s) => s.injectResponse(envelope(200, { warning: { message: "x" } })) },
      { category: "VENDOR_UNAVAILABLE", httpStatus: 200 },
    ],
    [
      "an empty response list",
      { setup: (s) => s.injectResponse(envelope(200)) },
      {
        category: "VENDOR_UNAVAILABLE",
        message:
          "Leanplum answered 0 response elements for 1 actions, so they cannot be matched to the actions; whether they were applied is unknown",
      },
    ],
    [
      "an empty body",
      { setup: (s) => s.injectResponse({ status: 200, body: "" }) },
      {
        category: "VENDOR_UNAVAILABLE",
        message: "Leanplum answered 200, but not with its response envelope (an empty body); whether it was applied is unknown",
      },
    ],
    ["a reset connection", { setup: (s) => s.injectFault({ kind: "reset" }) }, { category: "VENDOR_UNAVAILABLE" }],
    [
      "no answer within the timeout",
      { setup: (s) => s.injectFault({ kind: "hang", ms: 5_000 }), env: { LEANPLUM_TIMEOUT_MS: "200" } },
      { category: "VENDOR_UNAVAILABLE", retryable: true, message: "Leanplum did not answer within 200 ms" },
    ],
    [
      "no answer within the timeout, for an INCREMENT",
      { setup: (s) => s.injectFault({ kind: "hang", ms: 5_000 }), env: { LEANPLUM_TIMEOUT_MS: "200" }, operations: [increment("n")] },
      {
        category: "VENDOR_UNAVAILABLE",
        retryable: false,
        message: "Leanplum did not answer within 200 ms; the update may or may not have been applied",
      },
    ],
    [
      "a wrong API path (404)",
      { env: { LEANPLUM_API_URL: "SANDBOX/wrong" } },
      {
        category: "VENDOR_UNAVAILABLE",
        httpStatus: 404,
        retryable: false,
        message: "Leanplum answered 404; check LEANPLUM_API_URL: Not found",
      },
    ],
  ];

  it.each(cases)("%s", async (_name, spec, expected) => {
    spec.setup?.(sandbox);
    const env = Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, v.replace("SANDBOX", sandbox.url)]));
    const { adapter: local } = adapterFor(sandbox, env);
    try {
      const cmd = command(spec.user ?? "r-user", spec.operations ?? [set("a", "b")], {
        ...(spec.createIfMissing === undefined ? {} : { createIfMissing: spec.createIfMissing }),
      });
      expect(failureOf(await local.update(cmd, context()))).toMatchObject({ vendor: "leanplum", ...expected });
    } finally {
      local.close();
    }
  });

  it("reports both an error and a warning of one element, the error first", async () => {
    sandbox.injectResponse(envelope(200, { success: true, error: { message: "E" }, warning: { message: SANDBOX_MESSAGES.userNotFound } }));
    const failure = failureOf(await adapter.update(command("r-both", [set("a", "b")]), context()));
    expect([failure.category, ...failure.related.map((f) => f.category)]).toEqual(["VALUE_REJECTED", "USER_NOT_FOUND"]);
  });

  it("answers a refused connection as unavailable and safe to retry, even for an INCREMENT: nothing was sent", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { adapter: local } = adapterFor(sandbox, { LEANPLUM_API_URL: `http://127.0.0.1:${port}/api` });
    const failure = failureOf(await local.update(command("r-refused", [increment("n")]), context()));
    local.close();
    expect(failure).toMatchObject({
      category: "VENDOR_UNAVAILABLE",
      retryable: true,
      vendorCode: "ECONNREFUSED",
      message: "could not connect to Leanplum (ECONNREFUSED); nothing was sent",
    });
  });

  it("never passes a credential on, even when Leanplum's message holds one (behind the runtime's scrubbing)", async () => {
    sandbox.injectResponse(envelope(403, { success: false, error: { message: `Invalid access key ${SANDBOX_CLIENT_KEY}` } }));
    const { adapter: local, calls } = adapterFor(sandbox);
    const scrubbed = withScrubbedFailures(local, new SecretScrubber([{ value: SANDBOX_CLIENT_KEY }]));
    const failure = failureOf(await scrubbed.update(command("r-secret", [set("a", "b")]), context()));
    local.close();
    expect(failure.message).toBe("Leanplum refused the app id or client key (403): Invalid access key [redacted]");
    expect(JSON.stringify(calls)).not.toContain(SANDBOX_CLIENT_KEY);
    expect(calls).toEqual([expect.objectContaining({ vendor: "leanplum", operation: "setUserAttributes", method: "POST", status: 403 })]);
  });
});

describe("per-user serialization", () => {
  it("sends concurrent updates for one user one at a time, in arrival order, so Leanplum never answers 429", async () => {
    sandbox.setLatency(100);
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) => adapter.update(command("q-1", [set("seq", String(i + 1))]), context())),
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true, true, true]);
    const journal = sandbox.journal();
    expect(journal.map((e) => e.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(journal.map((e) => (e.body as { userAttributes: { seq: string } }).userAttributes.seq)).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(sandbox.user("q-1")?.attributes).toEqual({ seq: "6" });
    const config = sandboxConfig(sandbox);
    const lock = userSerializerFor(config.apiUrl, config.appId).lock;
    expect(lock instanceof KeyedMutex && lock.activeKeys).toBe(0);
  });

  it("serializes reads with writes for the same user", async () => {
    sandbox.setLatency(50);
    const [write, reads] = await Promise.all([
      adapter.update(command("q-2", [set("a", "b")]), context()),
      adapter.readProfiles(["q-2"], context()),
      adapter.update(command("q-2", [set("c", "d")]), context()),
    ]);
    expect(write.ok).toBe(true);
    expect(reads.get("q-2")?.ok).toBe(true);
    expect(sandbox.journal().filter((e) => e.status === 429)).toEqual([]);
  });

  it("gives up a wait in the queue when the caller aborts, sending nothing, and keeps the order for the rest", async () => {
    sandbox.setLatency(200);
    const controller = new AbortController();
    const first = adapter.update(command("q-abort", [set("step", "first")]), context());
    while (!sandbox.isBusy("q-abort")) await new Promise((r) => setTimeout(r, 5));
    const aborted = adapter.update(command("q-abort", [set("step", "aborted")]), { ...context(), signal: controller.signal });
    const third = adapter.update(command("q-abort", [set("step", "third")]), context());
    // Not an Error: the caller must get its own reason back to recognise its cancellation.
    controller.abort("cancelled by test");
    await expect(aborted).rejects.toBe("cancelled by test");
    expect([(await first).ok, (await third).ok]).toEqual([true, true]);
    expect(sandbox.journal().map((e) => [(e.body as { userAttributes: { step: string } }).userAttributes.step, e.status])).toEqual([
      ["first", 200],
      ["third", 200],
    ]);
  });

  it("keeps different users concurrent", async () => {
    const local = await startLeanplumSandbox({ latencyMs: 300 });
    const { adapter: localAdapter } = adapterFor(local);
    try {
      const outcomes = await Promise.all(["p-1", "p-2", "p-3"].map((u) => localAdapter.update(command(u, [set("a", "b")]), context())));
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect(local.peakConcurrency()).toBeGreaterThan(1);
    } finally {
      localAdapter.close();
      await local.close();
    }
  });

  it("spaces devMode requests for one user by Leanplum's one second, so none is refused", async () => {
    const devMode = { options: { devMode: true } };
    const outcomes = await Promise.all([
      adapter.update(command("q-dev", [set("a", "1")], devMode), context()),
      adapter.update(command("q-dev", [set("a", "2")], devMode), context()),
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(sandbox.journal().map((e) => e.status)).toEqual([200, 200]);
  });
});

describe("check (for bulk jobs)", () => {
  it("reports what Leanplum refuses for any user, but not the sample user's own id", () => {
    expect(adapter.check(command("x".repeat(500), [set("ok", "v")]))).toEqual([]);
    expect(adapter.check(command("u", [set("1", "v")])).map((f) => [f.category, f.attribute])).toEqual([["VALUE_REJECTED", "1"]]);
  });
});

describe("multi", () => {
  it("sets one attribute for 120 users in three calls of at most 50 users", async () => {
    const userIds = Array.from({ length: 120 }, (_, i) => `bulk-${i}`);
    const outcomes = await adapter.setForMany(userIds, { attribute: "tier", value: { kind: "string", value: "gold" } }, context());
    expect([...outcomes.keys()]).toEqual(userIds);
    expect([...outcomes.values()].every((o) => o.ok && o.httpStatus === 200)).toBe(true);
    const journal = sandbox.journal();
    expect(journal.map((e) => e.query)).toEqual([{ action: "multi" }, { action: "multi" }, { action: "multi" }]);
    const bodies = journal.map((e) => e.body as { data: Array<{ userId: string }>; time: number });
    expect(bodies.map((b) => b.data.length).sort((a, b) => a - b)).toEqual([20, 50, 50]);
    const first = bodies.find((b) => b.data[0]!.userId === "bulk-0")!;
    expect(Number.isInteger(first.time)).toBe(true);
    expect({ ...first, time: 0, data: first.data.slice(0, 2) }).toEqual({
      ...CREDENTIALS,
      time: 0,
      data: [
        { action: "setUserAttributes", userId: "bulk-0", userAttributes: { tier: "gold" } },
        { action: "setUserAttributes", userId: "bulk-1", userAttributes: { tier: "gold" } },
      ],
    });
    expect(sandbox.user("bulk-119")?.attributes).toEqual({ tier: "gold" });
  });

  it("maps each element back to its command, and answers unmappable commands without sending them", async () => {
    sandbox.seedUser("m-text", { n: "text" });
    sandbox.block("m-blocked");
    const outcomes = await adapter.updateMany(
      [
        command("m-ok", [set("a", "b")]),
        command("m-missing", [set("a", "b")], { createIfMissing: false }),
        command("m-bad", [set("-bad", "b")]),
        command("m-blocked", [set("a", "b")]),
        command("m-text", [increment("n")]),
      ],
      context(),
    );
    expect(outcomes.map((o) => (o.ok ? "ok" : [o.failure.category, o.failure.attribute ?? null]))).toEqual([
      "ok",
      ["USER_NOT_FOUND", null],
      ["VALUE_REJECTED", "-bad"],
      ["PERMISSION_DENIED", null],
      ["VALUE_REJECTED", "n"],
    ]);
    const [entry, ...rest] = sandbox.journal();
    expect(rest).toEqual([]);
    expect((entry!.body as { data: Array<{ userId: string }> }).data.map((d) => d.userId)).toEqual([
      "m-ok",
      "m-missing",
      "m-blocked",
      "m-text",
    ]);
  });

  it.each([
    ["51 users", Array.from({ length: 51 }, (_, i) => `lim-${i}`)],
    ["501 actions", Array.from({ length: 501 }, (_, i) => `lim-${i % 3}`)],
  ])("refuses %s as a programming error, sending nothing", async (_name, users) => {
    const actions = users.map((userId) => ({ action: "setUserAttributes" as const, args: { userId }, repeatSafe: true, attributes: [] }));
    await expect(adapter.client.multi(actions, context())).rejects.toThrow(RangeError);
    expect(sandbox.journal()).toEqual([]);
  });

  it("gives every action the whole call's failure, retryable only where repeating is safe", async () => {
    sandbox.injectFault({ kind: "status", status: 503 });
    const outcomes = await adapter.updateMany([command("f-1", [set("a", "b")]), command("f-2", [increment("n")])], context());
    expect(outcomes.map((o) => (o.ok ? "ok" : [o.failure.category, o.failure.retryable]))).toEqual([
      ["VENDOR_UNAVAILABLE", true],
      ["VENDOR_UNAVAILABLE", false],
    ]);
  });

  it("refuses to guess when the element count differs from the action count", async () => {
    sandbox.injectResponse(envelope(200, { success: true }));
    const outcomes = await adapter.updateMany([command("c-1", [set("a", "b")]), command("c-2", [set("a", "b")])], context());
    expect(outcomes.map((o) => (o.ok ? "ok" : o.failure.message))).toEqual([
      "Leanplum answered 1 response elements for 2 actions, so they cannot be matched to the actions; whether they were applied is unknown",
      "Leanplum answered 1 response elements for 2 actions, so they cannot be matched to the actions; whether they were applied is unknown",
    ]);
  });
});

describe("read-back (exportUser)", () => {
  it("reads back what was written, with Leanplum's quirks normalized and noted", async () => {
    const written = await adapter.update(
      command(
        "777",
        [
          set("plan", "gold"),
          { kind: "SET", attribute: "vip", value: { kind: "boolean", value: true } },
          { kind: "SET", attribute: "age", value: { kind: "int", value: 21 } },
          { kind: "SET", attribute: "since", value: { kind: "dateTime", value: new Date("2012-04-23T18:25:00Z") } },
          { kind: "SET", attribute: "topics", value: { kind: "stringList", value: ["a", "b"] } },
        ],
        { profile: { locale: "en_US", timezone: "America/Los_Angeles" } },
      ),
      context(),
    );
    expect(written.ok).toBe(true);
    sandbox.clearJournal();
    const profiles = await adapter.readProfiles(["777"], context());
    expect(profiles.get("777")).toEqual({
      ok: true,
      profile: {
        vendor: "leanplum",
        userId: "777",
        attributes: [
          { name: "plan", value: { kind: "string", value: "gold" } },
          { name: "vip", value: { kind: "boolean", value: true } },
          { name: "age", value: { kind: "int", value: 21 } },
          { name: "since", value: { kind: "string", value: "2012-04-23T18:25:00Z" } },
          { name: "topics", value: { kind: "stringList", value: ["a", "b"] } },
        ],
        profile: { locale: "en_US", timezone: "America/Los_Angeles" },
        tags: [],
        notes: [
          {
            code: "BOOLEAN_FROM_STRING",
            attribute: "vip",
            message: 'Leanplum returns booleans as the strings "True"/"False": "True" was read as true',
          },
          {
            code: "DATE_READ_AS_STRING",
            attribute: "since",
            message: "Leanplum returns dates as ISO-8601 strings with no type: read as a string",
          },
          {
            code: "NUMBER_KIND_INFERRED",
            message:
              "Leanplum keeps no int/float distinction: whole numbers within the 32-bit range are read as int (age), other numbers as float",
          },
        ],
      },
    });
    const [entry, ...rest] = sandbox.journal();
    expect(rest).toEqual([]);
    expect([entry!.method, entry!.path, entry!.body]).toEqual(["GET", "/api", undefined]);
    expect(entry!.query).toEqual({
      action: "exportUser",
      appId: SANDBOX_APP_ID,
      clientKey: SANDBOX_EXPORT_KEY,
      apiVersion: "1.0.6",
      userId: "777",
    });
  });

  it("answers one outcome per distinct id, a missing user as USER_NOT_FOUND", async () => {
    const profiles = await adapter.readProfiles(["1", "1", "absent"], context());
    expect([...profiles.keys()]).toEqual(["1", "absent"]);
    expect(profiles.get("1")?.ok).toBe(true);
    expect(profiles.get("absent")).toEqual({
      ok: false,
      failure: expect.objectContaining({ category: "USER_NOT_FOUND", httpStatus: 200, retryable: false }),
    });
    expect(sandbox.journal()).toHaveLength(2);
  });

  it("answers VENDOR_NOT_CONFIGURED without a request when LEANPLUM_EXPORT_KEY is missing", async () => {
    const { adapter: local } = adapterFor(sandbox, { LEANPLUM_EXPORT_KEY: "" });
    const profiles = await local.readProfiles(["1", "2"], context());
    local.close();
    expect([...profiles.values()].map((o) => (o.ok ? "ok" : [o.failure.category, o.failure.message]))).toEqual([
      ["VENDOR_NOT_CONFIGURED", "reading Leanplum profiles needs the data-export key: LEANPLUM_EXPORT_KEY is missing in this deployment"],
      ["VENDOR_NOT_CONFIGURED", "reading Leanplum profiles needs the data-export key: LEANPLUM_EXPORT_KEY is missing in this deployment"],
    ]);
    expect(sandbox.journal()).toEqual([]);
  });

  it("answers a wrong export key as AUTHENTICATION_FAILED, without the key in the failure or the call log", async () => {
    const { adapter: local, calls } = adapterFor(sandbox, { LEANPLUM_EXPORT_KEY: "wrong-export-key" });
    const outcome = (await local.readProfiles(["1"], context())).get("1");
    local.close();
    expect(outcome).toEqual({ ok: false, failure: expect.objectContaining({ category: "AUTHENTICATION_FAILED", httpStatus: 403 }) });
    expect(JSON.stringify({ outcome, calls })).not.toContain("wrong-export-key");
  });
});
