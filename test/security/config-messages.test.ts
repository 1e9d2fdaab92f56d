import { describe, expect, it } from "@jest/globals";
import { APP_ENV, parseAppConfig } from "../../src/config/app-config.js";
import { secretValues } from "../../src/runtime.js";
import { vendorModules } from "../../src/vendors/index.js";

/**
 * Configuration problems reach the log and the console at start-up, so they must never show a
 * secret: neither a secret variable's value, however it is malformed, nor a password written into
 * a URL, whichever variable it is given to. Every variable of the application and of every
 * registered vendor is tried. (Other values are quoted on purpose: they say what was wrong.)
 */
const SECRET = "S3CR3T-9f2c";
/** Passwords as generated secrets and hands write them: base64's "/", an unencoded "@", "#", a space, a quote. */
const PASSWORDS = [SECRET, `${SECRET}/x+y=`, `p@${SECRET}`, `${SECRET}#x`, `pa ${SECRET}`, `${SECRET}"x`];
const PLAIN = [`${SECRET}`, ` ${SECRET} `, `${SECRET}\n`, `a,${SECRET},b`];
const IN_URLS = PASSWORDS.flatMap((password) => [
  `https://user:${password}@host.test/?q=1#f`,
  `ftp://user:${password}@host.test/x`,
  `redis://:${password}@`,
  `rediss://user:${password}@host.test:notaport`,
  `http://user:${password}@[bad`,
  ` https://user:${password}@host.test `,
]);

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

describe("the secrets the scrubber is given", () => {
  it("hold each secret as the adapters send it (trimmed) and as written, and a Basic pair with the user as sent", () => {
    for (const module of vendorModules) {
      const secretNames = Object.entries(module.env)
        .filter(([, v]) => v.secret)
        .map(([name]) => name);
      expect(secretNames.length).toBeGreaterThan(0);
      // Every variable with a newline or spaces around it, as a secret mounted from a file has.
      const env: Record<string, string> = Object.fromEntries(
        Object.entries(module.sandboxEnv("http://127.0.0.1:1")).map(([name, value]) => [name, ` ${value ?? ""}\n`]),
      );
      const values = secretValues([module], env);
      expect(secretNames.filter((n) => env[n]).length).toBeGreaterThan(0);
      for (const name of secretNames.filter((n) => env[n])) {
        expect(values.map((v) => v.value)).toEqual(expect.arrayContaining([env[name]!.trim(), env[name]]));
      }
      for (const value of values.filter((v) => v.basicUser !== undefined)) expect(value.basicUser).toBe(value.basicUser!.trim());
    }
  });
});
