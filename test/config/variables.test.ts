import { describe, expect, it } from "@jest/globals";
import { parseAppConfig } from "../../src/config/app-config.js";
import {
  httpUrl,
  httpsUrl,
  list,
  oneOf,
  positiveNumber,
  readVariable,
  readVariables,
  schemeUrl,
  text,
  timeZone,
  variable,
  type Env,
  type VariableSchema,
} from "../../src/config/variables.js";

/** What one reader makes of `value` as variable X: its value and the problems reported. */
function read<T>(schema: VariableSchema<T>, value: string | undefined): { value: T; problems: string[] } {
  const problems: string[] = [];
  return { value: readVariable({ X: value }, "X", schema, problems), problems };
}

describe("the readers", () => {
  it("read an http(s) URL: trailing slashes go, and every problem of one URL is reported at once", () => {
    expect(read(httpUrl({ default: "https://a.test/v1" }), undefined)).toEqual({ value: "https://a.test/v1", problems: [] });
    expect(read(httpUrl(), " https://a.test/api// ")).toEqual({ value: "https://a.test/api", problems: [] });
    expect(read(httpUrl(), "")).toEqual({ value: undefined, problems: [] });
    expect(read(httpUrl({ required: "is required here" }), " ")).toEqual({ value: "", problems: ["X is required here"] });
    expect(read(httpUrl({ example: "https://a.test" }), "mailto:x@a.test").problems).toEqual([
      'X must be an http(s) URL such as https://a.test; got "mailto:x@a.test"',
    ]);
    // A refused URL is kept as written, so that rules between variables still see it set.
    expect(read(httpUrl({ credentialsIn: "X_KEY", noQuery: true }), "https://u:p@a.test/?k=1")).toEqual({
      value: "https://u:p@a.test/?k=1",
      problems: ["X must not contain credentials; use X_KEY", 'X must not contain a query or fragment; got "https://***@a.test/?k=1"'],
    });
    // A quoted URL never shows what stood before its "@": a password, as often as not.
    expect(read(httpUrl(), "ftp://user:s3cret@a.test/x").problems).toEqual(['X must be an http(s) URL; got "ftp://***@a.test/x"']);
    expect(read(httpUrl({ noQuery: "the adapter adds one" }), "https://a.test/#top").problems).toEqual([
      "X must not contain a query or fragment; the adapter adds one",
    ]);
  });

  it("read URLs of other schemes without quoting them (they carry passwords), and https-or-loopback ones", () => {
    const redis = schemeUrl(["redis", "rediss"]);
    expect(read(redis, "rediss://:pw@cache.test:6380")).toEqual({ value: "rediss://:pw@cache.test:6380", problems: [] });
    expect(read(redis, "http://:pw@cache.test").problems).toEqual(["X must start with redis:// or rediss://"]);
    expect(read(redis, "pw@cache").problems).toEqual(["X must be a redis:// or rediss:// URL"]);
    expect(read(httpsUrl(), "http://localhost:8080/jwks")).toEqual({ value: "http://localhost:8080/jwks", problems: [] });
    expect(read(httpsUrl(), "http://keys.test/jwks").problems).toEqual(["X must use https (plain http only on loopback)"]);
    expect(read(httpsUrl(), "keys").problems).toEqual(['X must be a URL; got "keys"']);
    // Keys are public: a password in the URL would only end up in logs.
    expect(read(httpsUrl(), "https://u:s3cret@keys.test/jwks").problems).toEqual(["X must not contain credentials"]);
    expect(read(httpsUrl(), "https://u:s3cret@[bad/jwks").problems).toEqual(['X must be a URL; got "https://***@[bad/jwks"']);
  });

  it("read an enumeration: two choices or more, numbers, any case, quoted, and a fallback", () => {
    expect(read(oneOf(["a", "b", "c"], "a"), "d").problems).toEqual(['X must be one of a, b, c; got "d"']);
    expect(read(oneOf([1, 2], 2), " 1 ")).toEqual({ value: 1, problems: [] });
    expect(read(oneOf([1, 2], 2), "3")).toEqual({ value: 2, problems: ['X must be 1 or 2; got "3"'] });
    expect(read(oneOf(["PUT", "POST"], "PUT", { ignoreCase: true }), "post").value).toBe("POST");
    expect(read(oneOf(["on", "off"], undefined, { quoted: true }), "maybe").problems).toEqual(['X must be "on" or "off"; got "maybe"']);
    expect(read(oneOf(["on", "off"], undefined), undefined).value).toBeUndefined();
  });

  it("read a comma-separated list, reporting every bad entry", () => {
    const digits = list((entry) => (/^\d+$/.test(entry) ? [Number(entry)] : { problem: `entry "${entry}" must be digits` }), "7");
    expect(read(digits, undefined)).toEqual({ value: [7], problems: [] });
    expect(read(digits, "")).toEqual({ value: [], problems: [] });
    expect(read(digits, " 1, ,2 ,")).toEqual({ value: [1, 2], problems: [] });
    expect(read(digits, "1,a,2,b").problems).toEqual(['X entry "a" must be digits', 'X entry "b" must be digits']);
    const named = list((entry) => ({ problem: `: "${entry}" is unknown` }));
    expect(read(named, "p").problems).toEqual(['X: "p" is unknown']);
    const whole = list((entry) => ({ problem: `Y says no to ${entry}`, whole: true }));
    expect(read(whole, "p").problems).toEqual(["Y says no to p"]);
  });

  it("read text with a rule, numbers, and time zones", () => {
    const prefix = text("def", { accepts: /^[a-z]+$/, message: "must be lower-case letters" });
    expect(read(prefix, " ")).toEqual({ value: "def", problems: [] });
    expect(read(prefix, "A-1")).toEqual({ value: "A-1", problems: ["X must be lower-case letters"] });
    expect(read(positiveNumber(8, { whole: true }), "1.5").problems).toEqual(['X must be a whole number; got "1.5"']);
    expect(read(positiveNumber(8, { whole: true }), "0").problems).toEqual(['X must be a positive number; got "0"']);
    expect(read(positiveNumber(), " ")).toEqual({ value: undefined, problems: [] });
    expect(read(timeZone("Asia/Shanghai"), "europe/warsaw")).toEqual({ value: "Europe/Warsaw", problems: [] });
  });

  it("document each variable with the reader's default unless told otherwise, and keep its flags", () => {
    expect(variable("d", positiveNumber(5))).toMatchObject({ description: "d", default: "5" });
    expect(variable("d", text())).not.toHaveProperty("default");
    expect(variable("d", text(), { default: "(prose)", secret: true, credential: true })).toMatchObject({
      default: "(prose)",
      secret: true,
      credential: true,
    });
  });

  it("read a whole spec, reporting every problem of every variable in its order", () => {
    const spec = {
      A: variable("a", positiveNumber(1)),
      B: variable("b", oneOf(["x", "y"], "x")),
      C: variable("c", httpUrl({ default: "https://c.test" })),
    };
    const problems: string[] = [];
    const env: Env = { A: "-1", B: "z", C: "ftp://c.test" };
    expect(readVariables(spec, env, problems)).toEqual({ A: 1, B: "x", C: "ftp://c.test" });
    expect(problems).toEqual([
      'A must be a positive number; got "-1"',
      'B must be x or y; got "z"',
      'C must be an http(s) URL; got "ftp://c.test"',
    ]);
  });
});

describe("the application's variables", () => {
  it("report every problem of the URL, list and text variables at once, by name", () => {
    const { problems } = parseAppConfig({
      SANDBOX_USER_IDS: "a, 9-3, 1-200000",
      CORS_ORIGINS: "https://ok.test, ftp://no.test, */x, https://u:s3cret@app.test",
      REDIS_URL: "http://:pw@cache.test",
      REDIS_KEY_PREFIX: "has space",
      REDIS_TLS_CA_FILE: "/ca.pem",
      AUTH_JWT_SECRET: "short",
      AUTH_JWKS_URL: "http://keys.test/jwks",
      SANDBOX: "perhaps",
    });
    expect(problems).toEqual([
      'SANDBOX must be true or false; got "perhaps"',
      "SANDBOX_USER_IDS range 9-3 must ascend and span at most 100000 ids",
      "SANDBOX_USER_IDS range 1-200000 must ascend and span at most 100000 ids",
      "AUTH_JWT_SECRET must be at least 32 characters",
      "AUTH_JWKS_URL must use https (plain http only on loopback)",
      'CORS_ORIGINS entry "ftp://no.test" must be an origin such as https://app.example.com, http://localhost:*, or *',
      'CORS_ORIGINS entry "*/x" must be an origin such as https://app.example.com, http://localhost:*, or *',
      'CORS_ORIGINS entry "https://***@app.test" must be an origin such as https://app.example.com, http://localhost:*, or *',
      "REDIS_URL must start with redis:// or rediss://",
      "REDIS_KEY_PREFIX must be 1 to 64 of A-Z a-z 0-9 _ . -",
      "set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both",
      "REDIS_TLS_CA_FILE needs a rediss:// REDIS_URL",
    ]);
  });

  it("reads them", () => {
    const { config, problems } = parseAppConfig({
      SANDBOX: "0",
      CORS_ORIGINS: "https://app.test, http://localhost:*",
      REDIS_URL: "rediss://:pw@cache.test:6380",
      REDIS_KEY_PREFIX: " tenant-1 ",
      REDIS_TLS_CA_FILE: "/ca.pem",
      AUTH_JWKS_URL: "https://keys.test/jwks",
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      sandbox: "off",
      corsOrigins: ["https://app.test", "http://localhost:*"],
      redis: { url: "rediss://:pw@cache.test:6380", keyPrefix: "tenant-1", tlsCaFile: "/ca.pem" },
      auth: { disabled: false, jwt: { jwksUrl: "https://keys.test/jwks" } },
    });
    expect(parseAppConfig({ SANDBOX: "TRUE" }).config.sandbox).toBe("force");
    expect(parseAppConfig({ REDIS_TLS_CA_FILE: "/ca.pem" }).problems).toEqual(["REDIS_TLS_CA_FILE is set but REDIS_URL is not"]);
  });
});
