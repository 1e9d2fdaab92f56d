import { describe, expect, it } from "@jest/globals";
import { formatJiguangDateTime } from "../datetime.js";
import { parseJsonKeepingLongs, parseLong, serializeWithCuid } from "../long-json.js";
import { buildWrite } from "../mapper.js";
import { command } from "./support.js";

describe("DATETIME as yyyy-MM-dd HH:mm:ss in the configured zone", () => {
  it.each([
    // The documentation's example, in the default zone (UTC+8 all year: China has no DST).
    ["2023-12-11T16:56:23Z", "Asia/Shanghai", "2023-12-12 00:56:23"],
    ["2024-07-01T16:00:00Z", "Asia/Shanghai", "2024-07-02 00:00:00"],
    ["2024-02-29T12:00:00Z", "UTC", "2024-02-29 12:00:00"],
    ["2024-03-01T00:00:00Z", "Asia/Kolkata", "2024-03-01 05:30:00"],
    // America/New_York springs forward at 02:00 EST on 2024-03-10: 01:59:59 EST is followed by 03:00:00 EDT.
    ["2024-03-10T06:59:59Z", "America/New_York", "2024-03-10 01:59:59"],
    ["2024-03-10T07:00:00Z", "America/New_York", "2024-03-10 03:00:00"],
    // Europe/London falls back at 02:00 BST on 2024-10-27.
    ["2024-10-26T23:59:59Z", "Europe/London", "2024-10-27 00:59:59"],
    ["2024-10-27T02:00:00Z", "Europe/London", "2024-10-27 02:00:00"],
    ["0001-01-01T00:00:00Z", "UTC", "0001-01-01 00:00:00"],
    ["9999-12-31T15:59:59Z", "Asia/Shanghai", "9999-12-31 23:59:59"],
  ])("%s in %s → %s", (iso, zone, expected) => {
    expect(formatJiguangDateTime(new Date(iso), zone)).toEqual({ ok: true, text: expected, truncatedMs: false, ambiguous: false });
  });

  it.each([
    // New York falls back at 02:00 EDT on 2024-11-03: 01:30 happens at 05:30Z and again at 06:30Z.
    ["2024-11-03T05:30:00Z", "America/New_York", "2024-11-03 01:30:00"],
    ["2024-11-03T06:30:00Z", "America/New_York", "2024-11-03 01:30:00"],
    ["2024-10-27T01:15:00Z", "Europe/London", "2024-10-27 01:15:00"],
    ["2024-10-27T00:15:00Z", "Europe/London", "2024-10-27 01:15:00"],
  ])("%s in %s is the repeated wall clock %s: flagged ambiguous", (iso, zone, expected) => {
    expect(formatJiguangDateTime(new Date(iso), zone)).toEqual({ ok: true, text: expected, truncatedMs: false, ambiguous: true });
  });

  it("drops milliseconds and says so", () => {
    expect(formatJiguangDateTime(new Date("2024-01-01T00:00:00.999Z"), "UTC")).toEqual({
      ok: true,
      text: "2024-01-01 00:00:00",
      truncatedMs: true,
      ambiguous: false,
    });
    expect(formatJiguangDateTime(new Date("1969-12-31T23:59:59.500Z"), "UTC")).toEqual({
      ok: true,
      text: "1969-12-31 23:59:59",
      truncatedMs: true,
      ambiguous: false,
    });
  });

  it.each([["-000001-06-01T00:00:00Z"], ["+010000-01-01T00:00:00Z"], ["9999-12-31T16:00:00Z"]])(
    "refuses %s, which has no 4-digit year there",
    (iso) => {
      expect(formatJiguangDateTime(new Date(iso), "Asia/Shanghai")).toMatchObject({ ok: false });
    },
  );

  it("a mapped command carries the ambiguity and the precision loss as warnings", () => {
    const result = buildWrite(
      command("1", [{ op: "SET", attribute: "seen_at", value: { dateTime: new Date("2024-11-03T05:30:00.120Z") } }]),
      { timeZone: "America/New_York" },
    );
    expect(result.ok && result.write.data).toEqual({ seen_at: "2024-11-03 01:30:00" });
    expect(result.ok && result.write.warnings.map((w) => w.code)).toEqual([
      "RULE_NOT_VERIFIED",
      "DATETIME_PRECISION",
      "DATETIME_AMBIGUOUS",
    ]);
  });
});

describe("Longs", () => {
  it.each([
    ["1", "1"],
    ["10362473", "10362473"],
    ["9007199254740993", "9007199254740993"],
    ["9223372036854775807", "9223372036854775807"],
    ["9223372036854775808", undefined],
    ["0", undefined],
    ["01", undefined],
    ["-1", undefined],
    ["+1", undefined],
    ["1e3", undefined],
    [" 1", undefined],
    ["", undefined],
  ])("parseLong(%j) → %j", (text, expected) => {
    expect(parseLong(text)).toBe(expected);
  });

  it("serializes the CUID as a JSON integer with every digit", () => {
    expect(serializeWithCuid(parseLong("9223372036854775807")!, { a: [1, "x"], b: '引号"' })).toBe(
      '{"cuid":9223372036854775807,"data":{"a":[1,"x"],"b":"引号\\""}}',
    );
  });

  it("parses JSON like JSON.parse, but keeps unsafe integers as bigint", () => {
    const text = '{"a":9223372036854775807,"b":-9007199254740993,"c":12,"d":1.5e3,"e":[true,false,null,"s\\u00e9\\n"],"f":{}}';
    expect(parseJsonKeepingLongs(text)).toEqual({
      a: 9223372036854775807n,
      b: -9007199254740993n,
      c: 12,
      d: 1500,
      e: [true, false, null, "sé\n"],
      f: {},
    });
    const proto = parseJsonKeepingLongs('{"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(["__proto__"]);
  });

  it.each(['{"a":1', '{"a":01}', "[1,]", '"\\x"', "tru", "1 2", '{"a" 1}', "", "[".repeat(1000)])(
    "rejects %j as JSON.parse would",
    (text) => {
      expect(() => parseJsonKeepingLongs(text)).toThrow(SyntaxError);
    },
  );
});
