import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { FailureCategory } from "../../../domain/failures.js";
import { RequestScope } from "../../../domain/scope.js";
import { NO_RETRIES, type HttpResult } from "../../../http/client.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import { SandboxServer, type SandboxFault } from "../../../sandbox/kit.js";
import type { DeliveryOutcome } from "../../../domain/results.js";
import { credentialKey } from "../../../pacing/pacer.js";
import { UserComAdapter } from "../adapter.js";
import { readUserComConfig, SANDBOX_API_KEY, SANDBOX_KEY_WITHOUT_PERMISSION } from "../config.js";
import { failureFor, fieldMessages, type CallDescription } from "../errors.js";
import { startUserComSandbox } from "../sandbox.js";
import { command, failureOf, startHarness, type Harness } from "./support.js";

/** These adapters run with test timeouts of a few hundred ms; a 429 test's pause must delay, not refuse, the next test. */
const UNBOUNDED_WAITS = { maxWaitMs: 60_000 };

describe("User.com statuses → failure categories (against the sandbox)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { USERCOM_TIMEOUT_MS: "300" } });
  });
  afterEach(() => {
    h.sandbox.clearFaults();
    h.sandbox.clearJournal();
  });
  afterAll(() => h.close());

  async function withKey(apiKey: string) {
    const result = readUserComConfig({ USERCOM_API_URL: `${h.sandbox.url}/api/public`, USERCOM_API_KEY: apiKey });
    if (result.status !== "configured") throw new Error("config");
    const adapter = new UserComAdapter(result.config, { pacers: new PacerRegistry(UNBOUNDED_WAITS), retry: NO_RETRIES });
    try {
      return await adapter.update(command({ profile: { city: "Oslo" } }), h.context());
    } finally {
      adapter.close();
    }
  }

  it.each<[string, string, FailureCategory, number]>([
    ["an unknown key", "f".repeat(64), "AUTHENTICATION_FAILED", 401],
    ["a key without permission", SANDBOX_KEY_WITHOUT_PERMISSION, "PERMISSION_DENIED", 403],
  ])("%s → %s", async (_label, key, category, status) => {
    const failure = failureOf(await withKey(key));
    expect(failure).toMatchObject({ category, httpStatus: status, retryable: false });
    expect(failure.message).not.toContain(key);
  });

  it("401 names the variable to check and the vendor's reason, never the key", async () => {
    const key = "0123456789abcdef".repeat(4);
    const failure = failureOf(await withKey(key));
    expect(failure.message).toBe(
      'User.com rejected the API key (USERCOM_API_KEY) while updating user "1": Invalid token. Nothing was applied.',
    );
  });

  it("404 for an unknown custom id → USER_NOT_FOUND", async () => {
    const failure = failureOf(await h.adapter.update(command({ userId: "ghost", profile: { city: "Oslo" } }), h.context()));
    expect(failure).toMatchObject({ category: "USER_NOT_FOUND", httpStatus: 404, retryable: false });
  });

  it.each<[string, Parameters<typeof command>[0], { attribute: string; message: string }]>([
    [
      "an invalid email (standard field)",
      { profile: { email: "nope" } },
      {
        attribute: "email",
        message: 'User.com refused "email" while updating user "1": email: Enter a valid email address. Nothing was applied.',
      },
    ],
    [
      "a string for an integer attribute",
      { operations: [{ kind: "SET", attribute: "logins", value: { kind: "string", value: "many" } }] },
      {
        attribute: "logins",
        message: 'User.com refused "logins" while updating user "1": logins: A valid integer is required. Nothing was applied.',
      },
    ],
    [
      "a date-time for a date attribute",
      { operations: [{ kind: "SET", attribute: "birthday", value: { kind: "dateTime", value: new Date("1990-05-01T00:00:00Z") } }] },
      {
        attribute: "birthday",
        message:
          'User.com refused "birthday" while updating user "1": birthday: Date has wrong format. Use one of these formats instead: YYYY-MM-DD. Nothing was applied.',
      },
    ],
  ])("400 for %s → VALUE_REJECTED naming the attribute, with the vendor's field message", async (_label, partial, expected) => {
    const failure = failureOf(await h.adapter.update(command(partial), h.context()));
    expect(failure).toMatchObject({ category: "VALUE_REJECTED", httpStatus: 400, attribute: expected.attribute, retryable: false });
    expect(failure.message).toBe(expected.message);
  });

  it("a 400 with several field messages becomes one failure per field", async () => {
    const failure = failureOf(
      await h.adapter.update(
        command({
          profile: { email: "nope" },
          operations: [
            { kind: "SET", attribute: "logins", value: { kind: "string", value: "many" } },
            { kind: "SET", attribute: "vip", value: { kind: "string", value: "yes" } },
          ],
        }),
        h.context(),
      ),
    );
    expect([failure, ...failure.related].map((f) => [f.category, f.attribute, f.operation])).toEqual([
      ["VALUE_REJECTED", "email", undefined],
      ["VALUE_REJECTED", "logins", "SET"],
      ["VALUE_REJECTED", "vip", "SET"],
    ]);
  });

  it.each<[string, SandboxFault, FailureCategory, boolean]>([
    ["500", { kind: "status", status: 500 }, "VENDOR_UNAVAILABLE", true],
    ["502", { kind: "status", status: 502 }, "VENDOR_UNAVAILABLE", true],
    ["504", { kind: "status", status: 504 }, "VENDOR_UNAVAILABLE", true],
    ["a timeout", { kind: "hang", ms: 5_000 }, "VENDOR_UNAVAILABLE", true],
    ["a connection reset", { kind: "reset" }, "VENDOR_UNAVAILABLE", true],
    ["429 without Retry-After", { kind: "rate-limit" }, "RATE_LIMITED", true],
  ])("%s → %s (retryable %p)", async (_label, fault, category, retryable) => {
    h.sandbox.injectFault(fault);
    const failure = failureOf(await h.adapter.update(command({ profile: { city: "Oslo" } }), h.context()));
    expect(failure.category).toBe(category);
    expect(failure.retryable).toBe(retryable);
  });

  it("a timeout says the outcome of the PUT is unknown", async () => {
    h.sandbox.injectFault({ kind: "hang", ms: 5_000 });
    const failure = failureOf(await h.adapter.update(command({ profile: { city: "Oslo" } }), h.context()));
    expect(failure.message).toBe(
      'User.com did not answer within 300 ms while updating user "1". Nothing else was applied. Whether the update (set profile fields city) took effect is unknown.',
    );
  });

  it("a 200 whose body is not the user object is never read as success", async () => {
    h.sandbox.injectFault({ kind: "malformed" });
    const failure = failureOf(await h.adapter.update(command({ profile: { city: "Oslo" } }), h.context()));
    expect(failure.category).toBe("VENDOR_UNAVAILABLE");
    expect(failure.message).toBe(
      'User.com answered 200 while updating user "1", but not with the updated user object (a body that is not JSON). Nothing else was applied. Whether the update (set profile fields city) took effect is unknown.',
    );
  });
});

describe("User.com statuses the default sandbox does not produce", () => {
  it("429 with Retry-After → RATE_LIMITED with retryAfterSeconds, and the shared pacer holds every caller back", async () => {
    const h = await startHarness();
    try {
      h.sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 7 });
      const failure = failureOf(await h.adapter.update(command({ profile: { city: "Oslo" } }), h.context()));
      expect(failure).toMatchObject({ category: "RATE_LIMITED", httpStatus: 429, retryAfterSeconds: 7, retryable: true });
      // The pacer is the one the runtime shares per credential: the next caller now waits about 7 s.
      expect(h.pacers.get(credentialKey("usercom", SANDBOX_API_KEY), 10_000).peekDelayMs()).toBeGreaterThan(6_000);
    } finally {
      await h.close();
    }
  });

  it("the sandbox's own 429 over its rate carries Retry-After: 1", async () => {
    const h = await startHarness({ sandbox: { rateLimitPerSecond: 1 } });
    try {
      await h.adapter.update(command({ profile: { city: "Oslo" } }), h.context());
      const failure = failureOf(await h.adapter.update(command({ profile: { city: "Bergen" } }), h.context()));
      expect(failure).toMatchObject({ category: "RATE_LIMITED", retryAfterSeconds: 1 });
      expect(failure.message).toContain("Request was throttled");
    } finally {
      await h.close();
    }
  });

  it("406 for a version the app does not accept → VENDOR_UNAVAILABLE pointing at USERCOM_API_VERSION", async () => {
    const h = await startHarness({ env: { USERCOM_API_VERSION: "1" }, sandbox: { acceptedVersions: [2] } });
    try {
      const failure = failureOf(await h.adapter.update(command({ profile: { city: "Oslo" } }), h.context()));
      expect(failure).toMatchObject({ category: "VENDOR_UNAVAILABLE", httpStatus: 406, retryable: false });
      expect(failure.message).toContain("check USERCOM_API_VERSION");
    } finally {
      await h.close();
    }
  });

  it("a base URL without /api/public gets the web server's 404 page: a configuration problem, not an unknown user", async () => {
    const sandbox = await startUserComSandbox({ seedUserIds: ["1"] });
    const result = readUserComConfig({ USERCOM_API_URL: sandbox.url, USERCOM_API_KEY: SANDBOX_API_KEY });
    if (result.status !== "configured") throw new Error("config");
    const adapter = new UserComAdapter(result.config, { pacers: new PacerRegistry(UNBOUNDED_WAITS), retry: NO_RETRIES });
    try {
      const failure = failureOf(
        await adapter.update(command({ profile: { city: "Oslo" } }), { requestId: "t", scope: new RequestScope() }),
      );
      expect(failure).toMatchObject({ category: "VENDOR_UNAVAILABLE", httpStatus: 404, retryable: false });
      expect(failure.message).toContain("check USERCOM_API_URL");
    } finally {
      adapter.close();
      await sandbox.close();
    }
  });
});

describe("answers that are 2xx but not what the endpoint documents (a bare kit server plays User.com)", () => {
  async function against(body: unknown, run: (adapter: UserComAdapter) => Promise<unknown>) {
    const server = new SandboxServer({ name: "usercom-odd", handler: () => ({ status: 200, body }) });
    await server.listen();
    const result = readUserComConfig({ USERCOM_API_URL: `${server.url}/api/public`, USERCOM_API_KEY: SANDBOX_API_KEY });
    if (result.status !== "configured") throw new Error("config");
    const adapter = new UserComAdapter(result.config, { pacers: new PacerRegistry(UNBOUNDED_WAITS), retry: NO_RETRIES });
    try {
      return await run(adapter);
    } finally {
      adapter.close();
      await server.close();
    }
  }
  const context = () => ({ requestId: "t", scope: new RequestScope() });

  it("a look-up answered with another user's object is not used (its id would write to the wrong user)", async () => {
    const outcomes = (await against({ id: 5, custom_id: "someone-else", attributes: [], tags: [] }, (a) =>
      a.setForMany(["me"], { attribute: "plan", value: { kind: "string", value: "x" } }, context()),
    )) as Map<string, DeliveryOutcome>;
    const failure = failureOf(outcomes.get("me"));
    expect(failure.category).toBe("VENDOR_UNAVAILABLE");
    expect(failure.message).toBe(
      'User.com answered the look-up of "me" with the user whose custom_id is "someone-else"; the answer was not used',
    );
  });

  it("a PUT answered with a user object lacking the attributes list: the outcome is unknown, never success", async () => {
    const outcome = (await against({ id: 5, custom_id: "1" }, (a) =>
      a.update(command({ operations: [{ kind: "SET", attribute: "plan", value: { kind: "string", value: "x" } }] }), context()),
    )) as DeliveryOutcome;
    const failure = failureOf(outcome);
    expect(failure.category).toBe("VENDOR_UNAVAILABLE");
    expect(failure.message).toBe(
      'User.com answered 200 while updating user "1", but not with the user object with an `attributes` list (JSON of another shape). Nothing else was applied. Whether the update (set attributes "plan") took effect is unknown.',
    );
  });

  it.each<[string, unknown]>([
    ["an empty object", {}],
    ["a status other than ok", { status: "error" }],
  ])("a removal answered with %s is not a success", async (_label, body) => {
    const outcome = (await against(body, (a) => a.update(command({ tags: { add: [], remove: ["t"] } }), context()))) as DeliveryOutcome;
    expect(failureOf(outcome).category).toBe("VENDOR_UNAVAILABLE");
  });

  it("a removal answered with {status: ok} is a success", async () => {
    const outcome = (await against({ status: "ok" }, (a) =>
      a.update(command({ tags: { add: [], remove: ["t"] } }), context()),
    )) as DeliveryOutcome;
    expect(outcome.ok).toBe(true);
  });
});

describe("User.com error bodies (the format is undocumented: every plausible shape is read)", () => {
  const response = (status: number, json: unknown, headers: Record<string, string> = {}): HttpResult => ({
    kind: "response",
    status,
    headers,
    text: JSON.stringify(json),
    json,
    attempts: 1,
    repeatSafe: true,
  });
  const update: CallDescription = {
    kind: "update",
    customId: "1",
    origins: new Map([
      ["plan", { name: "plan", operation: "SET" as const }],
      ["first_name", { name: "firstName" }],
    ]),
  };

  it.each<[string, unknown, Array<{ field?: string; messages: string[] }>]>([
    [
      "DRF field lists",
      { plan: ["Not valid."], first_name: ["Too long."] },
      [
        { field: "plan", messages: ["Not valid."] },
        { field: "first_name", messages: ["Too long."] },
      ],
    ],
    ["DRF field strings", { plan: "Not valid." }, [{ field: "plan", messages: ["Not valid."] }]],
    ["an errors envelope with fields", { errors: { plan: ["Not valid."] } }, [{ field: "plan", messages: ["Not valid."] }]],
    ["an errors envelope with a list", { errors: ["Bad request.", "Really."] }, [{ messages: ["Bad request.", "Really."] }]],
    ["an errors envelope with a string", { errors: "Bad request." }, [{ messages: ["Bad request."] }]],
    ["a detail", { detail: "Invalid token." }, [{ messages: ["Invalid token."] }]],
    ["non-field errors", { non_field_errors: ["Invalid data."] }, [{ messages: ["Invalid data."] }]],
    ["nested fields", { address: { city: ["Required."] } }, [{ field: "address.city", messages: ["Required."] }]],
    ["no body", undefined, []],
  ])("%s", (_label, body, expected) => {
    expect(fieldMessages(body)).toEqual(expected);
  });

  it.each<[string, unknown, FailureCategory, string | undefined]>([
    [
      "a field message that the attribute does not exist",
      { plan: ['Custom attribute "plan" does not exist.'] },
      "ATTRIBUTE_NOT_DEFINED",
      "plan",
    ],
    ["the same inside an errors envelope", { errors: { plan: ["Unknown attribute."] } }, "ATTRIBUTE_NOT_DEFINED", "plan"],
    ["a whole-request message naming the attribute", { detail: 'Attribute "plan" is not defined.' }, "ATTRIBUTE_NOT_DEFINED", "plan"],
    ["an invalid value", { plan: ["Not a valid string."] }, "VALUE_REJECTED", "plan"],
    ["a standard field (never 'not defined')", { first_name: ["Does not exist."] }, "VALUE_REJECTED", "firstName"],
    ["a field the request did not send", { other: ["Bad."] }, "VALUE_REJECTED", undefined],
  ])("400 with %s", (_label, body, category, attribute) => {
    const failure = failureFor(response(400, body), update)!;
    expect(failure.category).toBe(category);
    expect(failure.attribute).toBe(attribute);
  });

  it.each<[number, FailureCategory, boolean]>([
    [401, "AUTHENTICATION_FAILED", false],
    [403, "PERMISSION_DENIED", false],
    [404, "USER_NOT_FOUND", false],
    [405, "VENDOR_UNAVAILABLE", false],
    [406, "VENDOR_UNAVAILABLE", false],
    [409, "VENDOR_UNAVAILABLE", false],
    [429, "RATE_LIMITED", true],
    [500, "VENDOR_UNAVAILABLE", true],
    [502, "VENDOR_UNAVAILABLE", true],
    [503, "VENDOR_UNAVAILABLE", true],
    [504, "VENDOR_UNAVAILABLE", true],
    [301, "VENDOR_UNAVAILABLE", false],
  ])("status %i → %s (retryable %p)", (status, category, retryable) => {
    const failure = failureFor(response(status, { detail: "x" }), update)!;
    expect([failure.category, failure.retryable, failure.httpStatus]).toEqual([category, retryable, status]);
  });

  it("Retry-After as an HTTP date becomes seconds", () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const failure = failureFor(response(429, { detail: "slow down" }, { "retry-after": at }), update)!;
    expect(failure.retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect(failure.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it.each<[string, CallDescription, unknown, FailureCategory, string | undefined]>([
    [
      "remove_attribute of an undefined attribute",
      { kind: "removeAttribute", customId: "1", attribute: "plan" },
      { attribute: ["Attribute does not exist."] },
      "ATTRIBUTE_NOT_DEFINED",
      "plan",
    ],
    [
      "mass update of an undefined attribute",
      { kind: "massUpdate", attribute: "plan", method: "PUT", ids: 2 },
      { attribute: ["Custom attribute does not exist."] },
      "ATTRIBUTE_NOT_DEFINED",
      "plan",
    ],
    [
      "mass update with a bad value",
      { kind: "massUpdate", attribute: "plan", method: "PUT", ids: 2 },
      { value: ["Not a valid string."] },
      "VALUE_REJECTED",
      "plan",
    ],
    [
      "mass update with an id that does not exist",
      { kind: "massUpdate", attribute: "plan", method: "PUT", ids: 2 },
      { ids: ['Invalid pk "9" - object does not exist.'] },
      "VALUE_REJECTED",
      undefined,
    ],
    [
      "a look-up (never VALUE_REJECTED: nothing was sent to reject)",
      { kind: "lookup", customId: "1" },
      { detail: "Bad id." },
      "VENDOR_UNAVAILABLE",
      undefined,
    ],
  ])("400 to %s", (_label, call, body, category, attribute) => {
    const failure = failureFor(response(400, body), call)!;
    expect([failure.category, failure.attribute]).toEqual([category, attribute]);
  });

  it("a 404 without a JSON body is a missing endpoint, not a missing user", () => {
    const failure = failureFor(
      { kind: "response", status: 404, headers: {}, text: "<h1>Not Found</h1>", json: undefined, attempts: 1, repeatSafe: true },
      { kind: "lookup", customId: "1" },
    )!;
    expect(failure.category).toBe("VENDOR_UNAVAILABLE");
  });

  it("transport faults name the call", () => {
    const failure = failureFor(
      { kind: "network", code: "ECONNREFUSED", mayHaveReachedVendor: false, attempts: 1, repeatSafe: true },
      { kind: "lookup", customId: "7" },
    )!;
    expect(failure).toMatchObject({ category: "VENDOR_UNAVAILABLE", vendorCode: "ECONNREFUSED" });
    expect(failure.message).toBe('could not connect to User.com (ECONNREFUSED); nothing was sent while looking up user "7"');
  });
});
