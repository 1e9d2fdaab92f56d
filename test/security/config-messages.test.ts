import { describe, expect, it } from "@jest/globals";
import { APP_ENV, parseAppConfig } from "../../src/config/app-config.js";
import { vendorModules } from "../../src/vendors/index.js";

/**
 * Configuration problems reach the log and the console at start-up, so they must never show a
 * secret: neither a secret variable's value, however it is malformed, nor a password written into
 * a URL, whichever variable it is given to. Every variable of the application and of every
 * registered vendor is tried. (Other values are quoted on purpose: they say what was wrong.)
 */
const SECRET = "S3CR3T-9f2c";
const PLAIN = [`${SECRET}`, ` ${SECRET} `, `${SECRET}\n`, `a,${SECRET},b`];
const IN_URLS = [
  `https://user:${SECRET}@host.test/?q=1#f`,
  `ftp://user:${SECRET}@host.test/x`,
  `redis://:${SECRET}@`,
  `rediss://user:${SECRET}@host.test:notaport`,
  `http://user:${SECRET}@[bad`,
];

const variables = [
  ...Object.entries(APP_ENV).map(([name, { secret }]) => ({
    name,
    secret: secret === true,
    read: (env: Record<string, string>) => parseAppConfig(env).problems,
  })),
  ...vendorModules.flatMap((module) =>
    Object.entries(module.env).map(([name, { secret }]) => ({
      name,
      secret: secret === true,
      // With the vendor's credentials set, so that every variable of it is read and checked.
      read: (env: Record<string, string>) => {
        const result = module.readConfig({ ...module.sandboxEnv("http://127.0.0.1:1"), ...env });
        return result.status === "invalid" ? result.problems : [];
      },
    })),
  ),
];

describe("configuration problems never show a secret", () => {
  it.each(variables.map((v) => [v.name, v] as const))("%s", (_name, variable) => {
    for (const value of [...IN_URLS, ...(variable.secret ? PLAIN : [])]) {
      const problems = variable.read({ [variable.name]: value });
      expect({ value, leaked: problems.filter((p) => p.includes(SECRET)) }).toEqual({ value, leaked: [] });
    }
  });

  it("still reports the malformed values (the check above is not vacuous)", () => {
    expect(variables.filter((v) => v.secret).length).toBeGreaterThanOrEqual(vendorModules.length);
    expect(parseAppConfig({ PORT: `https://user:${SECRET}@host.test` }).problems).toEqual([
      'PORT must be an integer from 0 to 65535; got "https://***@host.test"',
    ]);
    expect(parseAppConfig({ REDIS_URL: `ftp://user:${SECRET}@host.test` }).problems).toEqual([
      "REDIS_URL must start with redis:// or rediss://",
    ]);
    const usercom = vendorModules.find((m) => m.id === "usercom")!;
    const result = usercom.readConfig({
      ...usercom.sandboxEnv("http://127.0.0.1:1"),
      USERCOM_API_URL: `https://user:${SECRET}@host.test/?q=1`,
    });
    expect(result.status === "invalid" && result.problems.length).toBe(2);
  });
});
