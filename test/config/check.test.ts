import { describe, expect, it } from "@jest/globals";
import { checkConfiguration } from "../../src/config/check.js";
import { vendorModules } from "../../src/vendors/index.js";

const JWT = { AUTH_JWT_SECRET: "x".repeat(32) };

describe("the configuration check before start-up", () => {
  it("reports the problems of every stage at once: application, vendor and authorization", () => {
    const check = checkConfiguration(vendorModules, { PORT: "abc", USERCOM_API_KEY: "k".repeat(64), CARNIVAL_CIRCUIT_COOLDOWN_MS: "1" });
    expect(check.ok).toBe(false);
    const problems = check.ok ? [] : check.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT must be an integer/),
        expect.stringMatching(/^User\.com: .*USERCOM_API_URL/),
        expect.stringMatching(/^CARNIVAL_CIRCUIT_COOLDOWN_MS must be an integer/),
        expect.stringMatching(/live vendors are configured but caller authentication is not/),
      ]),
    );
  });

  it("refuses to fall back to sandboxes in production, naming every vendor's credential variables", () => {
    const check = checkConfiguration(vendorModules, { NODE_ENV: "production", ...JWT });
    expect(check.ok).toBe(false);
    const [problem] = check.ok ? [] : check.problems;
    for (const name of [
      "CARNIVAL_API_KEY",
      "JIGUANG_PROJECT_ID",
      "JIGUANG_PROJECT_SECRET",
      "LEANPLUM_APP_ID",
      "LEANPLUM_CLIENT_KEY",
      "USERCOM_API_KEY",
    ]) {
      expect(problem).toContain(name);
    }
    expect(problem).toContain("SANDBOX=true");
  });

  it("names the likely typo that left every vendor unconfigured", () => {
    const check = checkConfiguration(vendorModules, { NODE_ENV: "production", CARNIVAL_APIKEY: "live-key", ...JWT });
    expect(check.ok ? [] : check.problems).toEqual([
      expect.stringContaining("CARNIVAL_APIKEY is not a Carnival variable (did you mean CARNIVAL_API_KEY?)"),
    ]);
  });

  it("runs production on sandboxes only when SANDBOX=true says so, and warns", () => {
    const check = checkConfiguration(vendorModules, { NODE_ENV: "production", SANDBOX: "true" });
    expect(check).toMatchObject({ ok: true, warnings: [expect.stringContaining("SANDBOX=true in production")] });
  });

  it("accepts production with one live vendor and authorization, warning about a half-configured one", () => {
    const check = checkConfiguration(vendorModules, {
      NODE_ENV: "production",
      CARNIVAL_API_KEY: "live-key-123456",
      LEANPLUM_TIMEOUT_MS: "5000",
      ...JWT,
    });
    expect(check).toMatchObject({
      ok: true,
      warnings: [expect.stringContaining("LEANPLUM_TIMEOUT_MS is set but Leanplum is not configured")],
    });
  });

  it("keeps the embedded default: no variables at all start on sandboxes outside production", () => {
    expect(checkConfiguration(vendorModules, {})).toMatchObject({ ok: true, warnings: [] });
  });
});
