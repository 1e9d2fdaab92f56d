import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { decodeRecord, encodeRecord } from "../../src/delivery/codec.js";
import { DEFAULT_DELIVERY_SETTINGS, retryDelayMs, type DeliveryRecord } from "../../src/delivery/types.js";
import { record } from "./store-contract.js";

/** How JSON.stringify writes a lone surrogate (Redis's cjson refuses it, a paired one is written as is). */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/** Any code point, or a lone half of a surrogate pair (fast-check's "binary" never draws one). */
const UTF16_UNIT = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
);

/** A queued update is sent hours later exactly as it was validated: its JSON form loses nothing. */
describe("encodeRecord / decodeRecord", () => {
  const full: DeliveryRecord = record("leanplum", "ü-1", {
    owner: "caller-7",
    command: {
      userId: "ü-1",
      operations: [
        { kind: "SET", attribute: "birthday", value: { kind: "dateTime", value: new Date("1990-07-04T12:34:56.789Z") } },
        { kind: "SET", attribute: "visits", value: { kind: "dateTimeList", value: [new Date(0), new Date(-86_400_000)] } },
        { kind: "SET", attribute: "zero", value: { kind: "float", value: -0 } },
        { kind: "SET", attribute: "zeros", value: { kind: "floatList", value: [0, -0, 1.5] } },
        { kind: "SET", attribute: "bio", value: { kind: "string", value: `${"long ".repeat(200_000)}\u2028\u{1F600}"\\` } },
        { kind: "SET", attribute: "looks-like-a-tag", value: { kind: "string", value: '{"$date":"2020-01-01T00:00:00.000Z"}' } },
        { kind: "INCREMENT", attribute: "count", value: { kind: "int", value: Number.MAX_SAFE_INTEGER } },
        { kind: "UNSET", attribute: "gone" },
      ],
      profile: { email: "a@example.test", timezone: "Europe/Zurich" },
      tags: { add: ["vip"], remove: ["trial"] },
      createIfMissing: false,
      vendorOptions: { leanplum: { events: [{ name: "signup", lastTime: new Date("2024-01-01T00:00:00Z"), countIncrement: 1 }] } },
    },
    repeatSafe: false,
    reason: "BEHIND_EARLIER_DELIVERY",
    attempts: [
      { startedAt: 1_700_000_000_000, durationMs: 12.25, result: "lost" },
      {
        startedAt: 1_700_000_001_000,
        durationMs: 3,
        result: "failed",
        failure: {
          category: "RATE_LIMITED",
          vendor: "leanplum",
          message: "slow down",
          httpStatus: 429,
          retryable: true,
          retryAfterSeconds: 2,
          related: [{ category: "VALUE_REJECTED", vendor: "leanplum", message: "x", retryable: false, related: [] }],
        },
      },
    ],
    inFlightSince: 1_700_000_002_000,
  });

  it("round-trips a record with dates (in values, lists and vendor options), -0, and big strings", () => {
    const text = encodeRecord(full);
    const back = decodeRecord(text);
    expect(back).toEqual(full);
    const ops = back.command.operations as ReadonlyArray<{ attribute: string; value?: { value: unknown } }>;
    const value = (attribute: string) => ops.find((o) => o.attribute === attribute)!.value!.value;
    expect(value("birthday")).toBeInstanceOf(Date);
    expect((value("birthday") as Date).toISOString()).toBe("1990-07-04T12:34:56.789Z");
    expect((value("visits") as Date[]).map((d) => d.getTime())).toEqual([0, -86_400_000]);
    expect(Object.is(value("zero"), -0)).toBe(true);
    expect((value("zeros") as number[]).map((n) => Object.is(n, -0))).toEqual([false, true, false]);
    expect(value("bio")).toBe((full.command.operations[4] as { value: { value: string } }).value.value);
    // A string that looks like a tag stays a string: only objects are tags.
    expect(value("looks-like-a-tag")).toBe('{"$date":"2020-01-01T00:00:00.000Z"}');
    expect(value("count")).toBe(Number.MAX_SAFE_INTEGER);
    const options = back.command.vendorOptions.leanplum as { events: Array<{ lastTime: unknown }> };
    expect(options.events[0]!.lastTime).toEqual(new Date("2024-01-01T00:00:00Z"));
    // Encoding what was decoded gives the same text.
    expect(encodeRecord(back)).toBe(text);
  });

  it("writes plain JSON that any reader (Redis's Lua) can parse, with the numbers it indexes on", () => {
    const parsed = JSON.parse(encodeRecord(full)) as Record<string, unknown>;
    expect(parsed.nextAttemptAt).toBe(full.nextAttemptAt);
    expect(parsed.createdAt).toBe(full.createdAt);
  });

  it("round-trips a string that is not well-formed Unicode, writing no escape a strict JSON reader refuses", () => {
    const lone = record("carnival", "1", {
      command: {
        ...full.command,
        operations: [{ kind: "SET", attribute: "name", value: { kind: "stringList", value: ["a\uD800b", "\uDFFF", "ok \u{1F600}"] } }],
      },
    });
    const text = encodeRecord(lone);
    expect(text).not.toMatch(LONE_SURROGATE_ESCAPE);
    expect(text).toContain("\u{1F600}");
    const back = decodeRecord(text);
    expect(back).toEqual(lone);
    expect((back.command.operations[0] as unknown as { value: { value: string[] } }).value.value).toEqual([
      "a\uD800b",
      "\uDFFF",
      "ok \u{1F600}",
    ]);
  });

  it("round-trips any string and number values (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: UTF16_UNIT, maxLength: 200 }), fc.double(), fc.date({ noInvalidDate: true }), (text, number, date) => {
        const r = record("carnival", text, {
          command: {
            userId: text,
            operations: [
              { kind: "SET", attribute: text, value: { kind: "string", value: text } },
              { kind: "SET", attribute: "n", value: { kind: "float", value: Number.isFinite(number) ? number : 0 } },
              { kind: "SET", attribute: "d", value: { kind: "dateTime", value: date } },
            ],
            profile: {},
            tags: { add: [], remove: [] },
            vendorOptions: {},
          },
        });
        const encoded = encodeRecord(r);
        expect(encoded).not.toMatch(LONE_SURROGATE_ESCAPE);
        const back = decodeRecord(encoded);
        expect(back).toEqual(r);
        const n = (back.command.operations[1] as { value: { value: number } }).value.value;
        expect(Object.is(n, (r.command.operations[1] as { value: { value: number } }).value.value)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("retryDelayMs", () => {
  const settings = { baseDelayMs: 100, maxDelayMs: 1_000 };

  it("doubles from the base delay, with jitter between half the bound and the bound", () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, settings, undefined, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, settings, undefined, () => 1))).toEqual([100, 200, 400, 800]);
    expect(retryDelayMs(2, settings, undefined, () => 0.5)).toBe(150);
  });

  it("never waits longer than maxDelayMs, however many attempts were made", () => {
    expect(retryDelayMs(5, settings, undefined, () => 1)).toBe(1_000);
    expect(retryDelayMs(10_000, settings, undefined, () => 1)).toBe(1_000);
    expect(retryDelayMs(10_000, settings, undefined, () => 0)).toBe(500);
    expect(retryDelayMs(10_000, DEFAULT_DELIVERY_SETTINGS, undefined, () => 1)).toBe(DEFAULT_DELIVERY_SETTINGS.maxDelayMs);
  });

  it("never comes back sooner than the vendor's Retry-After, even beyond maxDelayMs", () => {
    expect(retryDelayMs(1, settings, 3, () => 1)).toBe(3_000);
    expect(retryDelayMs(20, settings, 60, () => 0)).toBe(60_000);
    // A Retry-After shorter than the backoff does not shorten it.
    expect(retryDelayMs(4, settings, 0, () => 1)).toBe(800);
  });

  it("stays within its bounds for any attempt, settings and draw (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.integer({ min: 1, max: 86_400_000 }),
        fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseDelayMs, maxDelayMs, retryAfter, draw) => {
          const delay = retryDelayMs(attempt, { baseDelayMs, maxDelayMs }, retryAfter, () => draw);
          const bound = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.max(Math.floor(bound / 2), (retryAfter ?? 0) * 1000));
          expect(delay).toBeLessThanOrEqual(Math.max(bound, (retryAfter ?? 0) * 1000));
        },
      ),
      { numRuns: 500 },
    );
  });
});
