import { describe, expect, it } from "@jest/globals";
import type { UpdateCommand } from "../../../domain/command.js";
import type { AttributeValue } from "../../../domain/values.js";
import { buildRequest, normalizeKey } from "../mapper.js";

function command(...ops: Array<[string, AttributeValue]>): UpdateCommand {
  return {
    userId: "u-1",
    operations: ops.map(([attribute, value]) => ({ kind: "SET" as const, attribute, value })),
    profile: {},
    tags: { add: [], remove: [] },
    vendorOptions: {},
  };
}

describe("Carnival key normalization", () => {
  // The documentation's own examples, verbatim.
  it.each([
    [" my_string_key ", "my_string_key"],
    ["my_string_key~~~~", "my_string_key"],
    ["my string.key", "my_string_key"],
    ["already-valid_Key9", "already-valid_Key9"],
    ["~~~", ""],
    ["é-ok", "-ok"],
  ])("%j becomes %j", (raw, normalized) => {
    expect(normalizeKey(raw)).toBe(normalized);
  });
});

describe("Carnival wire mapping", () => {
  it("maps every type to the documented {type, value} shape", () => {
    const built = buildRequest(
      command(
        ["favorite_song", { kind: "string", value: "Drive My Car" }],
        ["release_date", { kind: "dateTime", value: new Date("1965-12-03T01:15:00Z") }],
        ["starred_tracks", { kind: "intList", value: [1, 6, 11] }],
        ["vip", { kind: "boolean", value: true }],
        ["my_float_key", { kind: "float", value: 2.14 }],
        ["my_floats_key", { kind: "floatList", value: [23.2, 3.141] }],
        ["my_strings_key", { kind: "stringList", value: ["Hello", "there"] }],
        ["my_dates_key", { kind: "dateTimeList", value: [new Date("2012-04-23T18:25:00Z"), new Date("2012-05-23T18:25:00Z")] }],
        ["my_integer_key", { kind: "int", value: 123 }],
      ),
    );
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.request.body).toEqual({
      user: {
        custom: {
          favorite_song: { type: "string", value: "Drive My Car" },
          release_date: { type: "date", value: "1965-12-03T01:15:00Z" },
          starred_tracks: { type: "integer", value: [1, 6, 11] },
          vip: { type: "boolean", value: true },
          my_float_key: { type: "float", value: 2.14 },
          my_floats_key: { type: "float", value: [23.2, 3.141] },
          my_strings_key: { type: "string", value: ["Hello", "there"] },
          my_dates_key: { type: "date", value: ["2012-04-23T18:25:00Z", "2012-05-23T18:25:00Z"] },
          my_integer_key: { type: "integer", value: 123 },
        },
      },
    });
    expect(built.request.warnings).toEqual([]);
  });

  it("sends a normalized key and reports the normalization as a warning", () => {
    const built = buildRequest(command(["my string.key", { kind: "string", value: "x" }]));
    expect(built.ok && built.request.body.user.custom).toEqual({ my_string_key: { type: "string", value: "x" } });
    expect(built.ok && built.request.warnings).toEqual([
      { code: "KEY_NORMALIZED", attribute: "my string.key", message: expect.stringContaining('"my_string_key"') },
    ]);
  });

  it.each<[string, AttributeValue, RegExp]>([
    ["a 256-character string", { kind: "string", value: "é".repeat(256) }, /truncates strings to 255 characters; got 256/],
    ["−2,147,483,648", { kind: "int", value: -2_147_483_648 }, /discards integers outside/],
    ["2,147,483,648", { kind: "int", value: 2_147_483_648 }, /discards integers outside/],
    ["a 51-element array", { kind: "intList", value: Array.from({ length: 51 }, (_, i) => i) }, /truncates arrays to 50 elements; got 51/],
    ["a boolean array", { kind: "booleanList", value: [true, false] }, /does not accept boolean arrays/],
    ["a float beyond single precision", { kind: "float", value: 1e39 }, /out of their range/],
    ["a float that would become 0", { kind: "float", value: 1e-50 }, /would become 0/],
    ["an over-long string inside a list", { kind: "stringList", value: ["ok", "x".repeat(300)] }, /got 300/],
  ])("rejects %s instead of letting Carnival alter it", (_case, value, message) => {
    const built = buildRequest(command(["attr", value]));
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.failures).toEqual([
      expect.objectContaining({ category: "VALUE_REJECTED", attribute: "attr", message: expect.stringMatching(message) }),
    ]);
  });

  it("accepts the boundary values exactly", () => {
    const built = buildRequest(
      command(
        ["max", { kind: "int", value: 2_147_483_647 }],
        ["min", { kind: "int", value: -2_147_483_647 }],
        ["s255", { kind: "string", value: "é".repeat(255) }],
        ["list50", { kind: "stringList", value: Array.from({ length: 50 }, () => "x") }],
      ),
    );
    expect(built.ok).toBe(true);
  });

  it("rejects keys Carnival would discard, truncate or merge", () => {
    const built = buildRequest(
      command(
        ["~~~", { kind: "string", value: "a" }],
        ["k".repeat(256), { kind: "string", value: "b" }],
        ["a b", { kind: "string", value: "c" }],
        ["a.b", { kind: "string", value: "d" }],
      ),
    );
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.failures.map((f) => [f.attribute, f.message])).toEqual([
      ["~~~", expect.stringContaining("would discard")],
      ["k".repeat(256), expect.stringContaining("truncates keys to 255")],
      ["a.b", expect.stringContaining('"a.b" and "a b" both become the Carnival key "a_b"')],
    ]);
  });

  it("refuses more than 50 attributes in one update (the 51st would be discarded)", () => {
    const ops = Array.from({ length: 51 }, (_, i): [string, AttributeValue] => [`a${i}`, { kind: "int", value: i }]);
    const built = buildRequest(command(...ops));
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.failures[0]!.message).toMatch(/at most 50 custom attributes per device/);
  });

  it("warns, without rejecting, when a float loses precision as single precision", () => {
    const built = buildRequest(command(["pi", { kind: "float", value: Math.PI }]));
    expect(built.ok && built.request.warnings).toEqual([
      { code: "FLOAT_PRECISION", attribute: "pi", message: expect.stringContaining("3.141593") },
    ]);
  });
});
