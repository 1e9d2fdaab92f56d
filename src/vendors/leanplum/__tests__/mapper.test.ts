import { describe, expect, it } from "@jest/globals";
import type { UpdateCommand } from "../../../domain/command.js";
import type { AttributeOperation } from "../../../domain/operations.js";
import { chunkForMulti, splitApiUrl } from "../client.js";
import { buildAction, profileFromExport, type LeanplumAction } from "../mapper.js";
import { nameProblem } from "../names.js";
import { parseLeanplumOptions } from "../options.js";
import { command } from "./support.js";
import { MAPPING_VECTORS } from "./vectors.js";

const set = (attribute: string, value = "x"): AttributeOperation => ({ kind: "SET", attribute, value: { kind: "string", value } });

function failuresOf(cmd: UpdateCommand) {
  const built = buildAction(cmd);
  if (built.ok) throw new Error("expected the mapping to fail");
  return built.failures;
}

describe("buildAction", () => {
  it.each(MAPPING_VECTORS)("%s", (_name, cmd, expected) => {
    const built = buildAction(cmd);
    expect(built.ok).toBe(true);
    if (built.ok) expect(built.action.args).toEqual(expected);
  });

  it("omits createDisposition when the caller leaves it open, so Leanplum's default (CreateIfNeeded) applies", () => {
    const built = buildAction(command("u", [set("a")]));
    expect(built.ok && "createDisposition" in built.action.args).toBe(false);
  });

  it.each([
    ["SET", [set("a")], {}, true],
    [
      "UNSET and REMOVE_FROM_SET",
      [
        { kind: "UNSET", attribute: "a" },
        { kind: "REMOVE_FROM_SET", attribute: "b", value: { kind: "string", value: "x" } },
      ],
      {},
      true,
    ],
    ["INCREMENT", [{ kind: "INCREMENT", attribute: "a", value: { kind: "int", value: 1 } }], {}, false],
    [
      "ADD_TO_SET (dedup by Leanplum is unconfirmed)",
      [{ kind: "ADD_TO_SET", attribute: "a", value: { kind: "string", value: "x" } }],
      {},
      false,
    ],
    ["newUserId", [set("a")], { newUserId: "other" }, false],
    ["an event countIncrement", [set("a")], { events: [{ name: "e", countIncrement: 1 }] }, false],
    ["a state count overwrite", [set("a")], { states: [{ name: "s", count: 1 }] }, true],
  ] as const)("marks %s as repeat-safe: %s", (_name, operations, options, safe) => {
    const built = buildAction(command("u", [...operations] as AttributeOperation[], { options }));
    expect(built.ok && built.action.repeatSafe).toBe(safe);
  });

  it.each([
    ["SET_ONCE", { kind: "SET_ONCE", attribute: "a", value: { kind: "string", value: "x" } }],
    ["a float INCREMENT", { kind: "INCREMENT", attribute: "a", value: { kind: "float", value: 1.5 } }],
    ["an intList SET", { kind: "SET", attribute: "a", value: { kind: "intList", value: [1] } }],
    ["a booleanList SET", { kind: "SET", attribute: "a", value: { kind: "booleanList", value: [true] } }],
    ["a stringList ADD_TO_SET", { kind: "ADD_TO_SET", attribute: "a", value: { kind: "stringList", value: ["x", "y"] } }],
  ] as const)("refuses %s as UNSUPPORTED_OPERATION", (_name, operation) => {
    const failures = failuresOf(command("u", [operation]));
    expect(failures.map((f) => [f.category, f.attribute, f.operation])).toEqual([["UNSUPPORTED_OPERATION", "a", operation.kind]]);
  });

  it("refuses profile fields Leanplum has no argument for", () => {
    const failures = failuresOf(command("u", [], { profile: { email: "a@example.com" } }));
    expect(failures.map((f) => [f.category, f.attribute])).toEqual([["UNSUPPORTED_OPERATION", "email"]]);
  });

  it("names every attribute whose name Leanplum would refuse, in one answer", () => {
    const failures = failuresOf(command("u", [set("ok"), set("-bad"), set("12")]));
    expect(failures.map((f) => [f.category, f.attribute, f.operation])).toEqual([
      ["VALUE_REJECTED", "-bad", "SET"],
      ["VALUE_REJECTED", "12", "SET"],
    ]);
    expect(failures[0]!.message).toBe('Leanplum attribute name "-bad" must not start with "." or "-"');
  });

  it("does not apply the naming rules to string values (commas, numbers and slashes are ordinary text)", () => {
    expect(buildAction(command("u", [set("note", "1,2|3/")])).ok).toBe(true);
  });

  it.each([
    ["a userId over 400 characters", command("x".repeat(401), [set("a")]), "userId must be at most 400 characters; it has 401"],
    [
      "a newUserId equal to userId",
      command("u", [set("a")], { options: { newUserId: "u" } }),
      "newUserId is the same as userId; omit it, or give the id the user should take",
    ],
  ])("refuses %s", (_name, cmd, message) => {
    expect(failuresOf(cmd).map((f) => [f.category, f.message])).toEqual([["VALUE_REJECTED", message]]);
  });
});

describe("Leanplum naming rules", () => {
  it.each([
    ["plan", undefined],
    ["Interests", undefined],
    ["a.b-c/d", undefined],
    ["名前", undefined],
    ["x".repeat(139), undefined],
    ["1a", undefined],
    ["", "must not be empty"],
    ["x".repeat(140), "must be at most 139 characters; it has 140"],
    ["😀".repeat(140), "must be at most 139 characters; it has 140"],
    [".hidden", 'must not start with "." or "-"'],
    ["-minus", 'must not start with "." or "-"'],
    ["path/", 'must not end with "/"'],
    ["a,b", 'must not contain ","'],
    ["a|b", 'must not contain "|"'],
    ['a"b', 'must not contain "\\""'],
    ["a{b", 'must not contain "{"'],
    ["a\tb", "must not contain tabs, line breaks or other control characters"],
    ["a\nb", "must not contain tabs, line breaks or other control characters"],
    ["a\rb", "must not contain tabs, line breaks or other control characters"],
    ["a\u0000b", "must not contain tabs, line breaks or other control characters"],
    ["42", "must not be a number"],
    ["3.14", "must not be a number"],
    ["1e5", "must not be a number"],
    ["+7", "must not be a number"],
  ])("%j → %s", (name, problem) => {
    expect(nameProblem(name)).toBe(problem);
  });
});

describe("AttributesLeanplumOptionsInput parsing", () => {
  it("passes valid options through unchanged", () => {
    const raw = {
      deviceId: "d",
      unsubscribeCategoriesToAdd: ["1"],
      unsubscribeCategoriesToRemove: ["2"],
      unsubscribeChannelToAdd: "Email",
      unsubscribeChannelToRemove: "Webhook",
      newUserId: "n",
      events: [{ name: "Purchase", countIncrement: 1, value: 5, firstTime: new Date(0), lastTime: new Date(1000) }],
      states: [{ name: "Home", count: 2 }],
      devMode: false,
    };
    expect(parseLeanplumOptions(raw)).toEqual({ ok: true, value: raw });
  });

  it.each([
    ["an unknown option", { colour: "red" }, [["colour"], "unknown Leanplum option"]],
    ["a blank deviceId", { deviceId: " " }, [["deviceId"], "must not be blank"]],
    ["a newUserId over 400 characters", { newUserId: "n".repeat(401) }, [["newUserId"], "must be at most 400 characters; it has 401"]],
    [
      "an empty category list",
      { unsubscribeCategoriesToAdd: [] },
      [["unsubscribeCategoriesToAdd"], "must not be empty; omit the field instead"],
    ],
    [
      "a repeated category",
      { unsubscribeCategoriesToAdd: ["1", "1"] },
      [["unsubscribeCategoriesToAdd", "1"], '"1" is listed more than once'],
    ],
    [
      "a category both added and removed",
      { unsubscribeCategoriesToAdd: ["1"], unsubscribeCategoriesToRemove: ["1"] },
      [["unsubscribeCategoriesToRemove"], 'category "1" is also in unsubscribeCategoriesToAdd; one request cannot do both'],
    ],
    [
      "one channel both added and removed",
      { unsubscribeChannelToAdd: "Email", unsubscribeChannelToRemove: "Email" },
      [["unsubscribeChannelToRemove"], "is the same channel as unsubscribeChannelToAdd"],
    ],
    [
      "an event name Leanplum refuses",
      { events: [{ name: "a,b", count: 1 }] },
      [["events", "0", "name"], 'event name "a,b" must not contain ","'],
    ],
    [
      "an event with nothing to change",
      { events: [{ name: "e" }] },
      [["events", "0"], "set at least one of count, countIncrement, value, valueIncrement, firstTime, lastTime"],
    ],
    [
      "count with countIncrement",
      { events: [{ name: "e", count: 1, countIncrement: 1 }] },
      [["events", "0", "countIncrement"], "give count or countIncrement, not both"],
    ],
    [
      "value with valueIncrement",
      { events: [{ name: "e", value: 1, valueIncrement: 1 }] },
      [["events", "0", "valueIncrement"], "give value or valueIncrement, not both"],
    ],
    ["a negative count", { states: [{ name: "s", count: -1 }] }, [["states", "0", "count"], "must not be negative"]],
    ["a fractional count", { events: [{ name: "e", count: 1.5 }] }, [["events", "0", "count"], "must be an integer"]],
    ["a state value", { states: [{ name: "s", count: 1, value: 1 }] }, [["states", "0", "value"], "not a field of a state aggregate"]],
    [
      "lastTime before firstTime",
      { events: [{ name: "e", firstTime: new Date(2000), lastTime: new Date(1000) }] },
      [["events", "0", "lastTime"], "must not be before firstTime"],
    ],
    [
      "a repeated event",
      {
        events: [
          { name: "e", count: 1 },
          { name: "e", count: 2 },
        ],
      },
      [["events", "1", "name"], 'event "e" is already at events.0'],
    ],
    ["a devMode that is not a boolean", { devMode: "yes" }, [["devMode"], "must be a boolean"]],
  ])("refuses %s with a path relative to the options", (_name, raw, problem) => {
    expect(parseLeanplumOptions(raw)).toEqual({ ok: false, problems: [{ path: problem[0], message: problem[1] }] });
  });
});

describe("exportUser → profile", () => {
  it("maps values with their inferred kinds and says which inferences it made", () => {
    const profile = profileFromExport("123456", {
      success: true,
      userId: "123456",
      userAttributes: {
        plan: "gold",
        vip: "True",
        trial: "False",
        jsonTrue: true,
        age: 21,
        big: 4_294_967_296,
        score: 2.5,
        since: "2012-04-23T18:25:00Z",
        Interests: ["Technology", "Music"],
        cleared: null,
        odd: { nested: 1 },
      },
      locale: "en_US",
      country: "US",
      city: "",
      created: 1.446709787966e9,
    });
    expect(profile).toEqual({
      vendor: "leanplum",
      userId: "123456",
      attributes: [
        { name: "plan", value: { kind: "string", value: "gold" } },
        { name: "vip", value: { kind: "boolean", value: true } },
        { name: "trial", value: { kind: "boolean", value: false } },
        { name: "jsonTrue", value: { kind: "boolean", value: true } },
        { name: "age", value: { kind: "int", value: 21 } },
        { name: "big", value: { kind: "float", value: 4_294_967_296 } },
        { name: "score", value: { kind: "float", value: 2.5 } },
        { name: "since", value: { kind: "string", value: "2012-04-23T18:25:00Z" } },
        { name: "Interests", value: { kind: "stringList", value: ["Technology", "Music"] } },
        { name: "cleared", value: null },
        { name: "odd", value: { kind: "string", value: '{"nested":1}' } },
      ],
      profile: { locale: "en_US", country: "US" },
      tags: [],
      notes: [
        {
          code: "BOOLEAN_FROM_STRING",
          attribute: "vip",
          message: 'Leanplum returns booleans as the strings "True"/"False": "True" was read as true',
        },
        {
          code: "BOOLEAN_FROM_STRING",
          attribute: "trial",
          message: 'Leanplum returns booleans as the strings "True"/"False": "False" was read as false',
        },
        {
          code: "DATE_READ_AS_STRING",
          attribute: "since",
          message: "Leanplum returns dates as ISO-8601 strings with no type: read as a string",
        },
        {
          code: "VALUE_READ_AS_JSON",
          attribute: "odd",
          message: "Leanplum holds a value with no matching attribute kind: returned as its JSON text",
        },
        {
          code: "NUMBER_KIND_INFERRED",
          message:
            "Leanplum keeps no int/float distinction: whole numbers within the 32-bit range are read as int (age), other numbers as float (big, score)",
        },
      ],
    });
  });

  it.each([
    [[1, 2], { kind: "intList", value: [1, 2] }],
    [[1, 2.5], { kind: "floatList", value: [1, 2.5] }],
    [[true, false], { kind: "booleanList", value: [true, false] }],
    [[], { kind: "stringList", value: [] }],
    [["a", 1], { kind: "string", value: '["a",1]' }],
  ])("reads the list %j as %j", (raw, expected) => {
    expect(profileFromExport("u", { userAttributes: { a: raw } }).attributes).toEqual([{ name: "a", value: expected }]);
  });
});

describe("multi chunking", () => {
  const action = (userId: string, newUserId?: string): LeanplumAction => ({
    action: "setUserAttributes",
    args: { userId, ...(newUserId ? { newUserId } : {}) },
    repeatSafe: true,
    attributes: [],
  });

  it.each([
    ["120 users → 50, 50, 20", Array.from({ length: 120 }, (_, i) => action(`u${i}`)), [50, 50, 20]],
    ["600 actions for 3 users → 500, 100", Array.from({ length: 600 }, (_, i) => action(`u${i % 3}`)), [500, 100]],
    ["a re-identification counts both users", [...Array.from({ length: 49 }, (_, i) => action(`u${i}`)), action("x", "y")], [49, 1]],
    ["nothing → no chunk", [], []],
  ])("%s", (_name, actions, sizes) => {
    const chunks = chunkForMulti(actions);
    expect(chunks.map((c) => c.length)).toEqual(sizes);
    expect(chunks.flat()).toEqual(actions.map((_, i) => i));
  });
});

describe("API URL", () => {
  it.each([
    ["https://api.leanplum.com/api", { base: "https://api.leanplum.com/", path: "api" }],
    ["http://127.0.0.1:4000/prefix/api", { base: "http://127.0.0.1:4000/prefix/", path: "api" }],
    ["https://proxy.example.com", { base: "https://proxy.example.com/", path: "" }],
  ])("%s keeps its exact path (no trailing slash added)", (url, expected) => {
    expect(splitApiUrl(url)).toEqual(expected);
  });
});
