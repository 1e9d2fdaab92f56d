import { describe, expect, it } from "@jest/globals";
import type { Env } from "../../define-vendor.js";
import { readUserComConfig } from "../config.js";
import { usercom } from "../index.js";

const KEY = "k".repeat(64);
const URL_ = "https://acme.user.com/api/public";

describe("User.com configuration", () => {
  it("is absent without a key, whatever else is set", () => {
    expect(readUserComConfig({ USERCOM_API_URL: URL_ })).toEqual({ status: "absent" });
    expect(readUserComConfig({ USERCOM_API_KEY: "  " })).toEqual({ status: "absent" });
  });

  it("has documented defaults", () => {
    expect(readUserComConfig({ USERCOM_API_URL: `${URL_}/`, USERCOM_API_KEY: KEY })).toEqual({
      status: "configured",
      config: {
        baseUrl: URL_,
        apiKey: KEY,
        apiVersion: 2,
        unknownAttributes: "refuse",
        knownAttributes: [],
        lookupConcurrency: 4,
        massUpdateChunkSize: 100,
        massUpdateMethod: "PUT",
        timeoutMs: 10_000,
        ratePerSecond: 20,
      },
    });
  });

  it("every variable it reads is declared, with the key marked secret and a default where there is one", () => {
    expect(Object.keys(usercom.env).sort()).toEqual(
      [
        "USERCOM_API_KEY",
        "USERCOM_API_URL",
        "USERCOM_API_VERSION",
        "USERCOM_KNOWN_ATTRIBUTES",
        "USERCOM_LOOKUP_CONCURRENCY",
        "USERCOM_MASS_UPDATE_CHUNK_SIZE",
        "USERCOM_MASS_UPDATE_METHOD",
        "USERCOM_RATE_LIMIT",
        "USERCOM_TIMEOUT_MS",
        "USERCOM_UNKNOWN_ATTRIBUTES",
      ].sort(),
    );
    expect(
      Object.entries(usercom.env)
        .filter(([, v]) => v.secret)
        .map(([k]) => k),
    ).toEqual(["USERCOM_API_KEY"]);
    expect(usercom.env.USERCOM_API_URL!.default).toBeUndefined();
  });

  it.each<[string, Env, object]>([
    ["version 1 creates unknown attributes by default", { USERCOM_API_VERSION: "1" }, { apiVersion: 1, unknownAttributes: "create" }],
    [
      "an explicit policy wins over the version",
      { USERCOM_API_VERSION: "1", USERCOM_UNKNOWN_ATTRIBUTES: "refuse" },
      { unknownAttributes: "refuse" },
    ],
    ["POST for mass updates, any case", { USERCOM_MASS_UPDATE_METHOD: "post" }, { massUpdateMethod: "POST" }],
    [
      "a catalog of names and types",
      { USERCOM_KNOWN_ATTRIBUTES: " plan , logins:integer, Renews At:datetime, utm:source:string ," },
      {
        knownAttributes: [
          { name: "plan" },
          { name: "logins", type: "integer" },
          { name: "Renews At", type: "datetime" },
          { name: "utm:source", type: "string" },
        ],
      },
    ],
    ["look-ups in flight follow the rate when not set", { USERCOM_RATE_LIMIT: "2000" }, { lookupConcurrency: 40, ratePerSecond: 2000 }],
    ["but never fewer than 4", { USERCOM_RATE_LIMIT: "0.5" }, { lookupConcurrency: 4, ratePerSecond: 0.5 }],
    [
      "an explicit concurrency wins over the rate",
      { USERCOM_RATE_LIMIT: "2000", USERCOM_LOOKUP_CONCURRENCY: "16" },
      { lookupConcurrency: 16 },
    ],
    [
      "tuning numbers",
      { USERCOM_LOOKUP_CONCURRENCY: "8", USERCOM_MASS_UPDATE_CHUNK_SIZE: "250", USERCOM_RATE_LIMIT: "2.5", USERCOM_TIMEOUT_MS: "500" },
      { lookupConcurrency: 8, massUpdateChunkSize: 250, ratePerSecond: 2.5, timeoutMs: 500 },
    ],
  ])("%s", (_label, env, expected) => {
    const result = readUserComConfig({ USERCOM_API_URL: URL_, USERCOM_API_KEY: KEY, ...env });
    expect(result.status).toBe("configured");
    expect(result.status === "configured" ? result.config : undefined).toMatchObject(expected);
  });

  it.each<[string, Env, string]>([
    [
      "a key without a URL",
      { USERCOM_API_URL: undefined },
      "USERCOM_API_URL is required when USERCOM_API_KEY is set: every User.com app has its own host, e.g. https://acme.user.com/api/public",
    ],
    [
      "a URL that is not http(s)",
      { USERCOM_API_URL: "ftp://acme.user.com/api/public" },
      'USERCOM_API_URL must be an http(s) URL such as https://acme.user.com/api/public; got "ftp://acme.user.com/api/public"',
    ],
    [
      "credentials in the URL",
      { USERCOM_API_URL: "https://me:pw@acme.user.com/api/public" },
      "USERCOM_API_URL must not contain credentials; use USERCOM_API_KEY",
    ],
    ["an unknown version", { USERCOM_API_VERSION: "3" }, 'USERCOM_API_VERSION must be 1 or 2; got "3"'],
    ["an unknown policy", { USERCOM_UNKNOWN_ATTRIBUTES: "maybe" }, 'USERCOM_UNKNOWN_ATTRIBUTES must be "create" or "refuse"; got "maybe"'],
    ["an unknown method", { USERCOM_MASS_UPDATE_METHOD: "PATCH" }, 'USERCOM_MASS_UPDATE_METHOD must be PUT or POST; got "PATCH"'],
    [
      "a fractional chunk size",
      { USERCOM_MASS_UPDATE_CHUNK_SIZE: "2.5" },
      'USERCOM_MASS_UPDATE_CHUNK_SIZE must be a positive integer; got "2.5"',
    ],
    ["zero concurrency", { USERCOM_LOOKUP_CONCURRENCY: "0" }, 'USERCOM_LOOKUP_CONCURRENCY must be a positive integer; got "0"'],
    ["a negative rate", { USERCOM_RATE_LIMIT: "-1" }, 'USERCOM_RATE_LIMIT must be a positive number; got "-1"'],
    [
      "a misspelt catalog type",
      { USERCOM_KNOWN_ATTRIBUTES: "plan:strng" },
      'USERCOM_KNOWN_ATTRIBUTES: "plan:strng" has an unknown type "strng" (known: boolean, integer, float, fixed, string, date, datetime, json)',
    ],
  ])("%s is invalid with a clear message", (_label, env, problem) => {
    const result = readUserComConfig({ USERCOM_API_URL: URL_, USERCOM_API_KEY: KEY, ...env });
    expect(result).toEqual({ status: "invalid", problems: [problem] });
  });

  it("reports every bad variable at once, several problems of one URL and every bad catalog entry included", () => {
    const result = readUserComConfig({
      USERCOM_API_KEY: KEY,
      USERCOM_API_URL: "https://me:pw@acme.user.com/api/public?x=1",
      USERCOM_API_VERSION: "3",
      USERCOM_UNKNOWN_ATTRIBUTES: "maybe",
      USERCOM_KNOWN_ATTRIBUTES: "plan:strng, ok, :string, tier:nmber",
      USERCOM_LOOKUP_CONCURRENCY: "0",
      USERCOM_MASS_UPDATE_METHOD: "PATCH",
      USERCOM_RATE_LIMIT: "fast",
    });
    expect(result).toEqual({
      status: "invalid",
      problems: [
        "USERCOM_API_URL must not contain credentials; use USERCOM_API_KEY",
        'USERCOM_API_URL must not contain a query or fragment; got "https://***@acme.user.com/api/public?x=1"',
        'USERCOM_API_VERSION must be 1 or 2; got "3"',
        'USERCOM_UNKNOWN_ATTRIBUTES must be "create" or "refuse"; got "maybe"',
        'USERCOM_KNOWN_ATTRIBUTES: "plan:strng" has an unknown type "strng" (known: boolean, integer, float, fixed, string, date, datetime, json)',
        'USERCOM_KNOWN_ATTRIBUTES: attribute names have 1 to 255 characters; got ""',
        'USERCOM_KNOWN_ATTRIBUTES: "tier:nmber" has an unknown type "nmber" (known: boolean, integer, float, fixed, string, date, datetime, json)',
        'USERCOM_LOOKUP_CONCURRENCY must be a positive integer; got "0"',
        'USERCOM_MASS_UPDATE_METHOD must be PUT or POST; got "PATCH"',
        'USERCOM_RATE_LIMIT must be a positive number; got "fast"',
      ],
    });
  });

  it("describes its target without the key", () => {
    const result = readUserComConfig({ USERCOM_API_URL: URL_, USERCOM_API_KEY: KEY });
    if (result.status !== "configured") throw new Error("config");
    const text = usercom.describe(result.config);
    expect(text).toBe("https://acme.user.com/api/public (API version 2, unknown attributes: refuse)");
    expect(text).not.toContain(KEY);
  });
});
