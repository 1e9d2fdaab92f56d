import { afterEach, describe, expect, it } from "@jest/globals";
import type { AttributeOperation } from "../../../domain/operations.js";
import { API, command, failureOf, startHarness, successOf, type Harness } from "./support.js";

const set = (attribute: string, value: string): AttributeOperation => ({ kind: "SET", attribute, value: { kind: "string", value } });

describe("unknown custom attributes: both doc versions' rules", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("refuse (v2 default): User.com's 400 for the undefined attribute becomes ATTRIBUTE_NOT_DEFINED, nothing applied", async () => {
    h = await startHarness();
    const failure = failureOf(
      await h.adapter.update(command({ profile: { city: "Oslo" }, operations: [set("shoe_size", "44")] }), h.context()),
    );
    expect(failure).toMatchObject({
      category: "ATTRIBUTE_NOT_DEFINED",
      attribute: "shoe_size",
      operation: "SET",
      httpStatus: 400,
      retryable: false,
    });
    expect(failure.message).toBe(
      'User.com refused "shoe_size" while updating user "1": shoe_size: Custom attribute "shoe_size" does not exist. Create it in the app settings first. Nothing was applied.',
    );
    expect(h.sandbox.user("1")!.city).toBeNull();
  });

  it("refuse with a declared catalog: an undeclared name fails before anything is sent", async () => {
    h = await startHarness({ env: { USERCOM_KNOWN_ATTRIBUTES: "plan:string,logins:integer" } });
    const failure = failureOf(await h.adapter.update(command({ operations: [set("plan", "gold"), set("shoe_size", "44")] }), h.context()));
    expect(failure).toMatchObject({ category: "ATTRIBUTE_NOT_DEFINED", attribute: "shoe_size" });
    expect(h.calls()).toEqual([]);
  });

  it("refuse with a declared catalog: UNSET of an undeclared name fails before anything is sent", async () => {
    h = await startHarness({ env: { USERCOM_KNOWN_ATTRIBUTES: "plan" } });
    const failure = failureOf(await h.adapter.update(command({ operations: [{ kind: "UNSET", attribute: "shoe_size" }] }), h.context()));
    expect(failure).toMatchObject({ category: "ATTRIBUTE_NOT_DEFINED", attribute: "shoe_size", operation: "UNSET" });
    expect(h.calls()).toEqual([]);
  });

  it.each<[string, AttributeOperation, string]>([
    ["a string for an integer", set("logins", "many"), 'User.com\'s attribute "logins" is of type integer; it takes an int, got string'],
    [
      "a date-time with a time of day for a date",
      { kind: "SET", attribute: "birthday", value: { kind: "dateTime", value: new Date("1990-05-01T10:00:00Z") } },
      'User.com\'s attribute "birthday" is a date without time; 1990-05-01T10:00:00Z has a time of day that would be lost (send midnight UTC)',
    ],
  ])("a declared type refuses %s before sending", async (_label, operation, message) => {
    h = await startHarness({ env: { USERCOM_KNOWN_ATTRIBUTES: "logins:integer,birthday:date" } });
    const failure = failureOf(await h.adapter.update(command({ operations: [operation] }), h.context()));
    expect(failure).toMatchObject({ category: "VALUE_REJECTED", attribute: operation.attribute, message });
    expect(h.calls()).toEqual([]);
  });

  it("a declared date attribute takes a midnight-UTC date-time as YYYY-MM-DD", async () => {
    h = await startHarness({ env: { USERCOM_KNOWN_ATTRIBUTES: "birthday:date" } });
    successOf(
      await h.adapter.update(
        command({
          operations: [{ kind: "SET", attribute: "birthday", value: { kind: "dateTime", value: new Date("1990-05-01T00:00:00Z") } }],
        }),
        h.context(),
      ),
    );
    expect(h.calls()).toEqual([{ method: "PUT", path: `${API}/users-by-id/1/`, body: { birthday: "1990-05-01" } }]);
  });

  it("refuse, when User.com answers 200 but ignores the attribute: ATTRIBUTE_NOT_DEFINED, and the message says what did apply", async () => {
    h = await startHarness({ sandbox: { unknownAttributes: "ignore" } });
    const failure = failureOf(
      await h.adapter.update(
        command({ profile: { city: "Oslo" }, operations: [set("plan", "gold"), set("shoe_size", "44")], tags: { add: [], remove: ["x"] } }),
        h.context(),
      ),
    );
    expect(failure).toMatchObject({ category: "ATTRIBUTE_NOT_DEFINED", attribute: "shoe_size", httpStatus: 200 });
    expect(failure.message).toBe(
      'User.com accepted the update but does not hold "shoe_size" afterwards: the attribute is not defined in the app, and undefined attributes are ignored. ' +
        'The rest of the update was applied: set profile fields city; set attributes "plan". Not attempted: removing tag "x".',
    );
    expect(h.calls().map((c) => c.method)).toEqual(["PUT"]);
  });

  it("create (v1 default): the attribute is created on the fly and reads back", async () => {
    h = await startHarness({ env: { USERCOM_API_VERSION: "1" } });
    const context = h.context();
    successOf(await h.adapter.update(command({ operations: [set("shoe_size", "44")] }), context));
    expect(h.sandbox.attributeDefinitions()).toContainEqual({ name: "shoe_size", nameStd: "shoe_size", type: "string" });
    const read = (await h.adapter.readProfiles(["1"], context)).get("1");
    expect(read).toMatchObject({ ok: true, profile: { attributes: [{ name: "shoe_size", value: { kind: "string", value: "44" } }] } });
  });

  it("create configured with v2: the adapter sends, and a refusing app still maps to ATTRIBUTE_NOT_DEFINED", async () => {
    h = await startHarness({ env: { USERCOM_UNKNOWN_ATTRIBUTES: "create", USERCOM_KNOWN_ATTRIBUTES: "plan" } });
    // The catalog does not restrict names under "create": the PUT goes out, and the app's 400 is read.
    const failure = failureOf(await h.adapter.update(command({ operations: [set("shoe_size", "44")] }), h.context()));
    expect(failure).toMatchObject({ category: "ATTRIBUTE_NOT_DEFINED", attribute: "shoe_size" });
    expect(h.calls().map((c) => c.method)).toEqual(["PUT"]);
  });

  it("UNSET of an attribute the app does not define → ATTRIBUTE_NOT_DEFINED from remove_attribute's 400", async () => {
    h = await startHarness();
    const failure = failureOf(await h.adapter.update(command({ operations: [{ kind: "UNSET", attribute: "shoe_size" }] }), h.context()));
    expect(failure).toMatchObject({ category: "ATTRIBUTE_NOT_DEFINED", attribute: "shoe_size", operation: "UNSET", httpStatus: 400 });
  });
});

describe("API versions", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it.each<[string, string | undefined, string]>([
    ["2", "*/*; version=2", "custom_id"],
    ["1", undefined, "user_id"],
  ])("USERCOM_API_VERSION=%s sends Accept %p, and User.com answers with %s", async (version, accept, idField) => {
    h = await startHarness({ env: { USERCOM_API_VERSION: version } });
    successOf(await h.adapter.update(command({ operations: [set("plan", "gold")] }), h.context()));
    const [entry] = h.sandbox.journal();
    expect(entry!.headers.accept).toBe(accept);
    expect(entry!.response).toMatchObject({ [idField]: "1" });
  });
});
