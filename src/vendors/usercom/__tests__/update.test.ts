import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { dispatchUpdate } from "../../../domain/dispatch.js";
import type { AttributeOperation } from "../../../domain/operations.js";
import type { ProfileFields } from "../../../domain/profile.js";
import { SANDBOX_API_KEY } from "../config.js";
import { API, command, failureOf, startHarness, successOf, type Harness } from "./support.js";

describe("User.com update on the wire", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { USERCOM_UNKNOWN_ATTRIBUTES: "create" }, sandbox: { unknownAttributes: "create" } });
  });
  afterEach(() => {
    h.sandbox.clearJournal();
    h.sandbox.clearFaults();
  });
  afterAll(() => h.close());

  it("sends PUT /users-by-id/:custom_id/ with the token, the version header and a JSON body", async () => {
    successOf(await h.adapter.update(command({ profile: { email: "ann@example.org" } }), h.context()));
    const [entry] = h.sandbox.journal();
    expect(entry!.method).toBe("PUT");
    expect(entry!.path).toBe(`${API}/users-by-id/1/`);
    expect(entry!.headers.authorization).toBe(`Token ${SANDBOX_API_KEY}`);
    expect(entry!.headers.accept).toBe("*/*; version=2");
    expect(entry!.headers["content-type"]).toMatch(/^application\/json/);
    expect(entry!.body).toEqual({ email: "ann@example.org" });
  });

  it.each<[keyof ProfileFields, string, string]>([
    ["email", "ann@example.org", "email"],
    ["firstName", "Ann", "first_name"],
    ["lastName", "Lee", "last_name"],
    ["phone", "+48123456789", "phone_number"],
    ["city", "Warsaw", "city"],
    ["region", "Mazovia", "region"],
    ["country", "Poland", "country"],
    ["timezone", "Europe/Warsaw", "timezone"],
  ])("profile field %s goes out as %p under %s", async (field, value, key) => {
    const outcome = await h.adapter.update(command({ profile: { [field]: value } }), h.context());
    expect(successOf(outcome).warnings).toEqual([]);
    expect(h.calls()).toEqual([{ method: "PUT", path: `${API}/users-by-id/1/`, body: { [key]: value } }]);
    expect(h.sandbox.user("1")![key]).toBe(value);
  });

  it.each<[string, AttributeOperation & { kind: "SET" }, unknown]>([
    ["string", { kind: "SET", attribute: "plan", value: { kind: "string", value: "gold" } }, { plan: "gold" }],
    ["int", { kind: "SET", attribute: "logins", value: { kind: "int", value: 42 } }, { logins: 42 }],
    ["float", { kind: "SET", attribute: "ratio", value: { kind: "float", value: 0.25 } }, { ratio: 0.25 }],
    ["boolean", { kind: "SET", attribute: "vip", value: { kind: "boolean", value: true } }, { vip: true }],
    [
      "dateTime",
      { kind: "SET", attribute: "renews_at", value: { kind: "dateTime", value: new Date("2027-01-31T09:00:00Z") } },
      { renews_at: "2027-01-31T09:00:00Z" },
    ],
    [
      "dateTime with milliseconds",
      { kind: "SET", attribute: "renews_at", value: { kind: "dateTime", value: new Date("2027-01-31T09:00:00.250Z") } },
      { renews_at: "2027-01-31T09:00:00.250Z" },
    ],
  ])("a %s custom attribute is a top-level key", async (_kind, operation, body) => {
    successOf(await h.adapter.update(command({ operations: [operation] }), h.context()));
    expect(h.calls()).toEqual([{ method: "PUT", path: `${API}/users-by-id/1/`, body }]);
  });

  it("sends profile fields, custom attributes and tags in one PUT, then removals in order", async () => {
    const outcome = await h.adapter.update(
      command({
        userId: "2",
        profile: { firstName: "Ann" },
        operations: [
          { kind: "SET", attribute: "plan", value: { kind: "string", value: "gold" } },
          { kind: "UNSET", attribute: "logins" },
          { kind: "UNSET", attribute: "vip" },
        ],
        tags: { add: ["verified", "beta"], remove: ["trial"] },
      }),
      h.context(),
    );
    expect(successOf(outcome).httpStatus).toBe(200);
    expect(h.calls()).toEqual([
      { method: "PUT", path: `${API}/users-by-id/2/`, body: { first_name: "Ann", plan: "gold", tags: ["verified", "beta"] } },
      { method: "POST", path: `${API}/users-by-id/2/remove_attribute/`, body: { attribute: "logins" } },
      { method: "POST", path: `${API}/users-by-id/2/remove_attribute/`, body: { attribute: "vip" } },
      { method: "POST", path: `${API}/users-by-id/2/remove_tag/`, body: { name: "trial" } },
    ]);
  });

  it("UNSET alone removes the attribute through remove_attribute", async () => {
    h.sandbox.addUser("unset-me", { attributes: { plan: "gold", logins: 3 } });
    successOf(await h.adapter.update(command({ userId: "unset-me", operations: [{ kind: "UNSET", attribute: "plan" }] }), h.context()));
    expect(h.calls()).toEqual([{ method: "POST", path: `${API}/users-by-id/unset-me/remove_attribute/`, body: { attribute: "plan" } }]);
    expect(h.sandbox.user("unset-me")!.attributes).toEqual([{ value: 3, name: "logins", name_std: "logins", id: expect.any(Number) }]);
  });

  it("tags are add-only in the PUT and removed through remove_tag", async () => {
    h.sandbox.addUser("tagged", { tags: ["old", "keep"] });
    successOf(await h.adapter.update(command({ userId: "tagged", tags: { add: ["new"], remove: ["old"] } }), h.context()));
    expect(h.calls()).toEqual([
      { method: "PUT", path: `${API}/users-by-id/tagged/`, body: { tags: ["new"] } },
      { method: "POST", path: `${API}/users-by-id/tagged/remove_tag/`, body: { name: "old" } },
    ]);
    expect((h.sandbox.user("tagged")!.tags as Array<{ name: string }>).map((t) => t.name)).toEqual(["keep", "new"]);
  });

  it("encodes the custom id as one path segment", async () => {
    h.sandbox.addUser("a b/c?d");
    successOf(await h.adapter.update(command({ userId: "a b/c?d", profile: { city: "Kraków" } }), h.context()));
    expect(h.calls()).toEqual([{ method: "PUT", path: `${API}/users-by-id/a%20b%2Fc%3Fd/`, body: { city: "Kraków" } }]);
  });

  it.each([["."], [".."]])("refuses the custom id %p, which a URL path cannot carry, and sends nothing", async (userId) => {
    const failure = failureOf(await h.adapter.update(command({ userId, profile: { city: "Oslo" } }), h.context()));
    expect(failure.category).toBe("VALUE_REJECTED");
    expect(h.calls()).toEqual([]);
  });

  it.each<[string, AttributeOperation]>([
    ["SET_ONCE", { kind: "SET_ONCE", attribute: "plan", value: { kind: "string", value: "gold" } }],
    ["INCREMENT", { kind: "INCREMENT", attribute: "logins", value: { kind: "int", value: 1 } }],
    ["ADD_TO_SET", { kind: "ADD_TO_SET", attribute: "plan", value: { kind: "string", value: "gold" } }],
    ["REMOVE_FROM_SET", { kind: "REMOVE_FROM_SET", attribute: "plan", value: { kind: "string", value: "gold" } }],
    ["SET with a list", { kind: "SET", attribute: "plan", value: { kind: "stringList", value: ["a", "b"] } }],
  ])("%s is refused by the capability check, typed, with nothing sent", async (_label, operation) => {
    const [outcome] = await dispatchUpdate(command({ operations: [operation] }), [h.vendor], h.context());
    const failure = failureOf(outcome);
    expect(failure.category).toBe("UNSUPPORTED_OPERATION");
    expect(failure.attribute).toBe(operation.attribute);
    expect(failure.operation).toBe(operation.kind);
    expect(h.calls()).toEqual([]);
  });

  it("locale has no User.com field: refused before anything is sent", async () => {
    const [outcome] = await dispatchUpdate(command({ profile: { locale: "pl-PL", city: "Warsaw" } }), [h.vendor], h.context());
    expect(failureOf(outcome)).toMatchObject({ category: "UNSUPPORTED_OPERATION", attribute: "locale" });
    expect(h.calls()).toEqual([]);
  });

  it.each<[keyof ProfileFields, number, boolean]>([
    ["firstName", 40, true],
    ["firstName", 41, false],
    ["lastName", 40, true],
    ["lastName", 41, false],
  ])("%s of %i characters: accepted=%p (User.com allows 40)", async (field, length, accepted) => {
    const outcome = await h.adapter.update(command({ profile: { [field]: "é".repeat(length) } }), h.context());
    if (accepted) {
      successOf(outcome);
      expect(h.calls()).toHaveLength(1);
    } else {
      expect(failureOf(outcome)).toMatchObject({ category: "VALUE_REJECTED", attribute: field });
      expect(h.calls()).toEqual([]);
    }
  });

  it.each([["email"], ["first_name"], ["First Name"], ["tags"], ["attributes"], ["user_id"], ["custom_id"], ["id"]])(
    "the custom attribute name %p collides with the user object's own fields: refused, nothing sent",
    async (name) => {
      const outcome = await h.adapter.update(
        command({ operations: [{ kind: "SET", attribute: name, value: { kind: "string", value: "x" } }] }),
        h.context(),
      );
      expect(failureOf(outcome)).toMatchObject({ category: "VALUE_REJECTED", attribute: name, operation: "SET" });
      expect(h.calls()).toEqual([]);
    },
  );

  it.each([
    [255, true],
    [256, false],
  ])("an attribute name of %i characters: accepted=%p", async (length, accepted) => {
    const name = "a".repeat(length);
    const outcome = await h.adapter.update(
      command({ operations: [{ kind: "SET", attribute: name, value: { kind: "string", value: "x" } }] }),
      h.context(),
    );
    if (accepted) {
      successOf(outcome);
      expect(h.calls()).toEqual([{ method: "PUT", path: `${API}/users-by-id/1/`, body: { [name]: "x" } }]);
    } else {
      expect(failureOf(outcome)).toMatchObject({ category: "VALUE_REJECTED", attribute: name });
      expect(h.calls()).toEqual([]);
    }
  });

  it("two names that are the same User.com attribute are refused rather than one overwriting the other", async () => {
    const outcome = await h.adapter.update(
      command({
        operations: [
          { kind: "SET", attribute: "Plan Tier", value: { kind: "string", value: "a" } },
          { kind: "SET", attribute: "plan_tier", value: { kind: "string", value: "b" } },
        ],
      }),
      h.context(),
    );
    expect(failureOf(outcome)).toMatchObject({ category: "VALUE_REJECTED", attribute: "plan_tier" });
    expect(h.calls()).toEqual([]);
  });

  it("reports the key User.com keeps an attribute under when it differs from the name sent", async () => {
    const outcome = await h.adapter.update(
      command({ operations: [{ kind: "SET", attribute: "Favourite Colour", value: { kind: "string", value: "teal" } }] }),
      h.context(),
    );
    expect(successOf(outcome).warnings).toEqual([
      {
        code: "ATTRIBUTE_KEY",
        attribute: "Favourite Colour",
        message: 'User.com keeps "Favourite Colour" under the key "favourite_colour"; reading the profile back reports that name',
      },
    ]);
  });

  it("reports a standard field User.com stored differently (DRF trims whitespace) as a warning", async () => {
    const outcome = await h.adapter.update(command({ profile: { city: "  Gdańsk " } }), h.context());
    expect(successOf(outcome).warnings).toEqual([
      { code: "STORED_DIFFERENTLY", attribute: "city", message: 'User.com stored city as "Gdańsk" (sent "  Gdańsk ")' },
    ]);
  });

  it("warns that an integral float may create an integer attribute when User.com creates attributes", async () => {
    const outcome = await h.adapter.update(
      command({ operations: [{ kind: "SET", attribute: "weight", value: { kind: "float", value: 3 } }] }),
      h.context(),
    );
    expect(successOf(outcome).warnings.map((w) => w.code)).toEqual(["INTEGRAL_FLOAT"]);
    expect(h.calls()[0]!.body).toEqual({ weight: 3 });
  });

  describe("partial application", () => {
    it("a PUT refused with 400 applies nothing, and says so", async () => {
      const outcome = await h.adapter.update(
        command({
          userId: "3",
          profile: { email: "not-an-email" },
          operations: [{ kind: "UNSET", attribute: "plan" }],
          tags: { add: [], remove: ["x"] },
        }),
        h.context(),
      );
      const failure = failureOf(outcome);
      expect(failure.category).toBe("VALUE_REJECTED");
      expect(failure.attribute).toBe("email");
      expect(failure.message).toBe(
        'User.com refused "email" while updating user "3": email: Enter a valid email address. Nothing was applied. Not attempted: removing attribute "plan"; removing tag "x".',
      );
      expect(h.calls().map((c) => c.method)).toEqual(["PUT"]);
    });

    it("a removal that fails after the PUT applied names what was applied and what was not attempted", async () => {
      h.sandbox.addUser("partial", { attributes: { plan: "silver", logins: 1 }, tags: ["trial"] });
      h.sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { match: (r) => r.path.endsWith("/remove_attribute/") });
      const outcome = await h.adapter.update(
        command({
          userId: "partial",
          profile: { firstName: "Ann" },
          operations: [
            { kind: "SET", attribute: "plan", value: { kind: "string", value: "gold" } },
            { kind: "UNSET", attribute: "logins" },
          ],
          tags: { add: ["vip"], remove: ["trial"] },
        }),
        h.context(),
      );
      const failure = failureOf(outcome);
      expect(failure.category).toBe("RATE_LIMITED");
      expect(failure.message).toBe(
        'User.com is rate limiting this API key (removing attribute "logins" from user "partial"): rate limit exceeded. ' +
          'Applied before this failure: set profile fields firstName; set attributes "plan"; added tags "vip". Not attempted: removing tag "trial".',
      );
      expect(h.calls().map((c) => `${c.method} ${c.path}`)).toEqual([
        `PUT ${API}/users-by-id/partial/`,
        `POST ${API}/users-by-id/partial/remove_attribute/`,
      ]);
      // The state matches the message exactly.
      const user = h.sandbox.user("partial")!;
      expect(user.first_name).toBe("Ann");
      expect((user.attributes as Array<{ name: string; value: unknown }>).map((a) => [a.name, a.value])).toEqual([
        ["plan", "gold"],
        ["logins", 1],
      ]);
      expect((user.tags as Array<{ name: string }>).map((t) => t.name)).toEqual(["trial", "vip"]);
    });

    it("a removal whose outcome is unknown (5xx) says that it may have taken effect", async () => {
      h.sandbox.addUser("unknown-outcome", { tags: ["a", "b"] });
      h.sandbox.injectFault({ kind: "status", status: 502 }, { match: (r) => r.path.endsWith("/remove_tag/") });
      const outcome = await h.adapter.update(command({ userId: "unknown-outcome", tags: { add: [], remove: ["a", "b"] } }), h.context());
      const failure = failureOf(outcome);
      expect(failure.category).toBe("VENDOR_UNAVAILABLE");
      expect(failure.retryable).toBe(true);
      expect(failure.message).toBe(
        'User.com answered 502 while removing tag "a" from user "unknown-outcome": sandbox fault 502. Nothing else was applied. Whether removing tag "a" took effect is unknown. Not attempted: removing tag "b".',
      );
    });

    it("an unknown user fails typed, and createIfMissing is explained rather than ignored", async () => {
      const outcome = await h.adapter.update(command({ userId: "nobody", profile: { city: "Oslo" }, createIfMissing: true }), h.context());
      const failure = failureOf(outcome);
      expect(failure.category).toBe("USER_NOT_FOUND");
      expect(failure.httpStatus).toBe(404);
      expect(failure.message).toBe(
        'User.com has no user with custom id "nobody": Not found. Nothing was applied. User.com\'s update by custom id never creates users, so createIfMissing cannot be honoured.',
      );
    });
  });
});
