import { describe, expect, it } from "@jest/globals";
import { readLeanplumConfig } from "../config.js";
import { leanplum } from "../index.js";

const BASE = { LEANPLUM_APP_ID: "app", LEANPLUM_CLIENT_KEY: "prod-key" };

describe("Leanplum configuration", () => {
  it("is absent when neither app id nor client key is set", () => {
    expect(readLeanplumConfig({})).toEqual({ status: "absent" });
  });

  it("uses the documented defaults", () => {
    expect(readLeanplumConfig(BASE)).toEqual({
      status: "configured",
      config: {
        apiUrl: "https://api.leanplum.com/api",
        appId: "app",
        clientKey: "prod-key",
        timeoutMs: 10_000,
        readConcurrency: 8,
      },
    });
  });

  it("reads every optional variable", () => {
    expect(
      readLeanplumConfig({
        ...BASE,
        LEANPLUM_API_URL: "http://127.0.0.1:9999/api/",
        LEANPLUM_EXPORT_KEY: "export-key",
        LEANPLUM_TIMEOUT_MS: "2500",
        LEANPLUM_RATE_LIMIT: "20",
        LEANPLUM_READ_CONCURRENCY: "3",
      }),
    ).toEqual({
      status: "configured",
      config: {
        apiUrl: "http://127.0.0.1:9999/api",
        appId: "app",
        clientKey: "prod-key",
        exportKey: "export-key",
        timeoutMs: 2500,
        ratePerSecond: 20,
        readConcurrency: 3,
      },
    });
  });

  it.each([
    ["only the app id", { LEANPLUM_APP_ID: "app" }, ["LEANPLUM_APP_ID is set but LEANPLUM_CLIENT_KEY is not; set both or neither"]],
    ["only the client key", { LEANPLUM_CLIENT_KEY: "k" }, ["LEANPLUM_CLIENT_KEY is set but LEANPLUM_APP_ID is not; set both or neither"]],
    [
      "only the export key",
      { LEANPLUM_EXPORT_KEY: "e" },
      ["LEANPLUM_EXPORT_KEY is set but LEANPLUM_APP_ID and LEANPLUM_CLIENT_KEY are not"],
    ],
    [
      "the production key as export key",
      { ...BASE, LEANPLUM_EXPORT_KEY: "prod-key" },
      ["LEANPLUM_EXPORT_KEY must be the data-export key, not the production key in LEANPLUM_CLIENT_KEY"],
    ],
    [
      "a URL with a query",
      { ...BASE, LEANPLUM_API_URL: "https://api.leanplum.com/api?appId=x" },
      ["LEANPLUM_API_URL must not contain a query or fragment; the adapter adds ?action="],
    ],
    ["a bad timeout", { ...BASE, LEANPLUM_TIMEOUT_MS: "soon" }, ['LEANPLUM_TIMEOUT_MS must be a positive number; got "soon"']],
    [
      "a fractional read concurrency",
      { ...BASE, LEANPLUM_READ_CONCURRENCY: "1.5" },
      ['LEANPLUM_READ_CONCURRENCY must be a whole number; got "1.5"'],
    ],
    ["a zero rate", { ...BASE, LEANPLUM_RATE_LIMIT: "0" }, ['LEANPLUM_RATE_LIMIT must be a positive number; got "0"']],
  ])("is invalid with %s", (_name, env, problems) => {
    expect(readLeanplumConfig(env)).toEqual({ status: "invalid", problems });
  });

  it("reports every bad variable at once, with the rules between them", () => {
    expect(
      readLeanplumConfig({
        LEANPLUM_CLIENT_KEY: "k",
        LEANPLUM_EXPORT_KEY: "k",
        LEANPLUM_API_URL: "https://api.leanplum.com/api?appId=x",
        LEANPLUM_TIMEOUT_MS: "soon",
        LEANPLUM_RATE_LIMIT: "0",
        LEANPLUM_READ_CONCURRENCY: "2.5",
      }),
    ).toEqual({
      status: "invalid",
      problems: [
        "LEANPLUM_API_URL must not contain a query or fragment; the adapter adds ?action=",
        'LEANPLUM_TIMEOUT_MS must be a positive number; got "soon"',
        'LEANPLUM_RATE_LIMIT must be a positive number; got "0"',
        'LEANPLUM_READ_CONCURRENCY must be a whole number; got "2.5"',
        "LEANPLUM_CLIENT_KEY is set but LEANPLUM_APP_ID is not; set both or neither",
        "LEANPLUM_EXPORT_KEY must be the data-export key, not the production key in LEANPLUM_CLIENT_KEY",
      ],
    });
  });

  it("declares every variable it reads, and marks both keys secret", () => {
    expect(Object.keys(leanplum.env).sort()).toEqual([
      "LEANPLUM_API_URL",
      "LEANPLUM_APP_ID",
      "LEANPLUM_CLIENT_KEY",
      "LEANPLUM_EXPORT_KEY",
      "LEANPLUM_RATE_LIMIT",
      "LEANPLUM_READ_CONCURRENCY",
      "LEANPLUM_TIMEOUT_MS",
    ]);
    const secrets = Object.entries(leanplum.env)
      .filter(([, v]) => v.secret)
      .map(([k]) => k);
    expect(secrets.sort()).toEqual(["LEANPLUM_CLIENT_KEY", "LEANPLUM_EXPORT_KEY"]);
  });

  it("describes its target without a secret", () => {
    const result = readLeanplumConfig({ ...BASE, LEANPLUM_EXPORT_KEY: "export-key" });
    if (result.status !== "configured") throw new Error("expected a configuration");
    const line = leanplum.describe(result.config);
    expect(line).toBe("https://api.leanplum.com/api (app app, read-back enabled)");
  });
});
