import { describe, expect, it } from "@jest/globals";
import { ConfigError, readAppConfig } from "../../src/config/app-config.js";
import { DEFAULT_DELIVERY_SETTINGS } from "../../src/delivery/types.js";
import { startVendors } from "../../src/runtime.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestSubgraph } from "../support/subgraph.js";

/** The problems readAppConfig refuses `env` with; fails the test when it accepts it. */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe("application configuration", () => {
  it("has documented defaults", () => {
    expect(readAppConfig({})).toMatchObject({ port: 4001, host: "0.0.0.0", sandbox: "auto", graphiql: true, introspection: true });
    expect(readAppConfig({ NODE_ENV: "production" })).toMatchObject({ graphiql: false, introspection: false });
    expect(readAppConfig({ SANDBOX_USER_IDS: "a, 3-5" }).sandboxUserIds).toEqual(["a", "3", "4", "5"]);
    expect(readAppConfig({}).logSync).toBe(false);
    expect(readAppConfig({ LOG_SYNC: "true" }).logSync).toBe(true);
  });

  it("reports every bad value at once, by name", () => {
    expect(() => readAppConfig({ PORT: "http", SANDBOX: "maybe", LOG_LEVEL: "loud" })).toThrow(ConfigError);
    expect(problemsOf({ PORT: "http", SANDBOX: "maybe", LOG_LEVEL: "loud", LOG_SYNC: "sometimes" })).toEqual([
      'PORT must be an integer from 0 to 65535; got "http"',
      'SANDBOX must be true or false; got "maybe"',
      'LOG_SYNC must be true or false; got "sometimes"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud"',
    ]);
    // Flags whose default depends on NODE_ENV read and report like every other flag.
    expect(problemsOf({ GRAPHIQL: "sometimes", INTROSPECTION: "maybe" })).toEqual([
      'GRAPHIQL must be true or false; got "sometimes"',
      'INTROSPECTION must be true or false; got "maybe"',
    ]);
    expect(readAppConfig({ NODE_ENV: "production", GRAPHIQL: "1" })).toMatchObject({ graphiql: true, introspection: false });
  });
});

describe("delivery configuration", () => {
  it("defaults to the documented settings and reads every DELIVERY_* variable", () => {
    expect(readAppConfig({}).delivery).toEqual(DEFAULT_DELIVERY_SETTINGS);
    expect(
      readAppConfig({
        DELIVERY_RETRY_WINDOW_SECONDS: "60",
        DELIVERY_MAX_ATTEMPTS: "5",
        DELIVERY_RETRY_BASE_DELAY_MS: "10",
        DELIVERY_RETRY_MAX_DELAY_MS: "20",
        DELIVERY_MAX_QUEUED: "7",
        DELIVERY_RETENTION_SECONDS: "120",
        DELIVERY_WORKER_CONCURRENCY: "2",
      }).delivery,
    ).toEqual({
      windowMs: 60_000,
      maxAttempts: 5,
      baseDelayMs: 10,
      maxDelayMs: 20,
      maxQueued: 7,
      retentionMs: 120_000,
      workerConcurrency: 2,
    });
  });

  it("refuses values out of range, by name", () => {
    expect(problemsOf({ DELIVERY_MAX_ATTEMPTS: "0", DELIVERY_RETRY_WINDOW_SECONDS: "soon" })).toEqual([
      expect.stringMatching(/^DELIVERY_RETRY_WINDOW_SECONDS must be an integer/),
      expect.stringMatching(/^DELIVERY_MAX_ATTEMPTS must be an integer from 1/),
    ]);
  });
});

describe("vendor start-up", () => {
  it("sandboxes every vendor when no credentials are set", async () => {
    const runtime = await startVendors([carnival], {}, { sandbox: "auto" });
    try {
      expect(runtime.summary).toEqual([
        { vendor: "carnival", mode: "sandbox", target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v6$/) },
      ]);
    } finally {
      await runtime.close();
    }
  });

  it("goes live when credentials are set, without starting a sandbox", async () => {
    const runtime = await startVendors(
      [carnival],
      { CARNIVAL_API_KEY: "live-key-123456", CARNIVAL_API_URL: "https://carnival.example.test/v6" },
      { sandbox: "auto" },
    );
    try {
      expect(runtime.summary).toEqual([{ vendor: "carnival", mode: "live", target: "https://carnival.example.test/v6" }]);
      expect(runtime.sandboxes.size).toBe(0);
      expect(runtime.secrets).toEqual([{ value: "live-key-123456", basicUser: "" }]);
    } finally {
      await runtime.close();
    }
  });

  it("refuses to start with an invalid vendor setting, naming the vendor and variable", async () => {
    await expect(
      startVendors([carnival], { CARNIVAL_API_KEY: "k-123456", CARNIVAL_RATE_LIMIT: "fast" }, { sandbox: "auto" }),
    ).rejects.toThrow('Carnival: CARNIVAL_RATE_LIMIT must be a positive number; got "fast"');
    await expect(
      startVendors([carnival], { CARNIVAL_API_KEY: "k-123456", CARNIVAL_API_URL: "https://user:pw@x.test" }, { sandbox: "auto" }),
    ).rejects.toThrow(/must not contain credentials/);
  });

  it("never logs or returns a configured secret", async () => {
    const secret = "carnival-live-secret-0123456789";
    const subgraph = await startTestSubgraph({
      modules: [carnival],
      sandbox: "auto",
      env: { CARNIVAL_API_KEY: secret, CARNIVAL_API_URL: "http://127.0.0.1:9/v6", CARNIVAL_TIMEOUT_MS: "500" },
    });
    try {
      const result = await subgraph.gql(
        `mutation { updateAttributes(input: { userId: "1", operations: [{ op: SET, attribute: "a", value: { int: 1 } }] }) { ... on AttributesUpdateSuccess { deliveries { __typename ... on AttributesVendorError { message vendorCode } } } } }`,
      );
      expect(result.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorUnavailableError");
      subgraph.logger.info({ leaked: secret }, `a line that mentions ${secret}`);
      expect(JSON.stringify(result)).not.toContain(secret);
      expect(subgraph.logLines.length).toBeGreaterThan(0);
      expect(subgraph.logLines.filter((line) => line.includes(secret))).toEqual([]);
      expect(subgraph.logLines.some((line) => line.includes("[redacted]"))).toBe(true);
    } finally {
      await subgraph.close();
    }
  });
});
