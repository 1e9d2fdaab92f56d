import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { JwtAuthenticator } from "../../src/auth/caller.js";
import { chooseAuthenticator } from "../../src/auth/choose.js";
import { ConfigError, readAppConfig } from "../../src/config/app-config.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

const SECRET = "a-test-secret-of-at-least-32-characters!!";
const key = new TextEncoder().encode(SECRET);
const token = (claims: Record<string, unknown>, options: { sub?: string; expiresIn?: string; issuer?: string } = {}) => {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m");
  if (options.sub) jwt = jwt.setSubject(options.sub);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  return jwt.sign(key);
};
const bearer = async (claims: Record<string, unknown>, options: Parameters<typeof token>[1] = {}) => ({
  authorization: `Bearer ${await token(claims, options)}`,
});

const update = (userId: string) => ({
  input: { userId, vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "a", value: { int: 1 } }] },
});

describe("caller authorization (HS256)", () => {
  let subgraph: TestSubgraph;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({
      modules: [carnival],
      sandboxUserIds: ["1", "2"],
      authenticator: new JwtAuthenticator({ secret: SECRET, issuer: "https://auth.example.test" }),
    });
  });
  afterAll(() => subgraph.close());

  it("lets a caller update its own user", async () => {
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, update("1"), await bearer({}, { sub: "1", issuer: "https://auth.example.test" }));
    expect(result.data.updateAttributes.__typename).toBe("AttributesUpdateSuccess");
  });

  it.each([
    ["no token", () => Promise.resolve({}), /authentication required: no bearer token/],
    ["another user's id", async () => bearer({}, { sub: "2", issuer: "https://auth.example.test" }), /only act on its own user/],
    ["an expired token", async () => bearer({}, { sub: "1", issuer: "https://auth.example.test", expiresIn: "-1m" }), /expired/],
    ["a wrong issuer", async () => bearer({}, { sub: "1", issuer: "https://evil.example.test" }), /iss claim/],
    [
      "a token signed with another secret",
      async () => ({
        authorization: `Bearer ${await new SignJWT({})
          .setProtectedHeader({ alg: "HS256" })
          .setSubject("1")
          .sign(new TextEncoder().encode("x".repeat(40)))}`,
      }),
      /signature/,
    ],
    ["garbage", () => Promise.resolve({ authorization: "Bearer not.a.jwt" }), /not a valid JWT/],
    ["a Basic header", () => Promise.resolve({ authorization: "Basic dXNlcjpwdw==" }), /not a Bearer token/],
  ])("refuses %s with AttributesNotAuthorizedError and sends nothing", async (_case, headers, message) => {
    const before = subgraph.sandbox("carnival").requestCount();
    const result = await subgraph.gql(UPDATE_ATTRIBUTES, update("1"), await headers());
    expect(result.data.updateAttributes).toMatchObject({
      __typename: "AttributesNotAuthorizedError",
      code: "NOT_AUTHORIZED",
      message: expect.stringMatching(message),
    });
    expect(subgraph.sandbox("carnival").requestCount()).toBe(before);
  });

  it("lets attributes:write:any update any user, and read any user's profiles", async () => {
    const headers = await bearer({ scope: "openid attributes:write:any" }, { sub: "admin", issuer: "https://auth.example.test" });
    expect((await subgraph.gql(UPDATE_ATTRIBUTES, update("2"), headers)).data.updateAttributes.__typename).toBe("AttributesUpdateSuccess");
    const read = await subgraph.gql(
      `{ _entities(representations: [{ __typename: "User", id: "2" }]) { ... on User { attributeProfiles { __typename } } } }`,
      undefined,
      headers,
    );
    expect(read.data._entities[0].attributeProfiles).toEqual([{ __typename: "AttributesUnsupportedOperationError" }]);
  });

  it("applies the writing rule to reading a user's vendor profiles", async () => {
    const headers = await bearer({}, { sub: "1", issuer: "https://auth.example.test" });
    const read = await subgraph.gql(
      `{ _entities(representations: [{ __typename: "User", id: "2" }]) { ... on User { attributeProfiles { __typename ... on AttributesNotAuthorizedError { requiredScope } } } } }`,
      undefined,
      headers,
    );
    expect(read.data._entities[0].attributeProfiles).toEqual([
      { __typename: "AttributesNotAuthorizedError", requiredScope: "attributes:write:any" },
    ]);
  });

  it("requires attributes:bulk for bulk work, as scp arrays too", async () => {
    const bulk = `mutation { bulkSetCustomAttribute(input: { userIds: ["1"], attribute: "a", value: { int: 1 } }) { __typename ... on AttributesNotAuthorizedError { requiredScope } } }`;
    const without = await subgraph.gql(
      bulk,
      undefined,
      await bearer({ scope: "attributes:write:any" }, { sub: "ops", issuer: "https://auth.example.test" }),
    );
    expect(without.data.bulkSetCustomAttribute).toEqual({ __typename: "AttributesNotAuthorizedError", requiredScope: "attributes:bulk" });
    const withScope = await subgraph.gql(
      bulk,
      undefined,
      await bearer({ scp: ["attributes:bulk"] }, { sub: "ops", issuer: "https://auth.example.test" }),
    );
    expect(withScope.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
    const job = await subgraph.gql(
      `{ attributeBulkJob(id: "x") { __typename } }`,
      undefined,
      await bearer({}, { sub: "1", issuer: "https://auth.example.test" }),
    );
    expect(job.data.attributeBulkJob.__typename).toBe("AttributesNotAuthorizedError");
  });
});

describe("caller authorization (JWKS)", () => {
  it("verifies tokens against keys served from a JWKS URL", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const jwks = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    try {
      const authenticator = new JwtAuthenticator({ jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` });
      const good = await new SignJWT({ scope: "attributes:bulk" })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setSubject("7")
        .setExpirationTime("5m")
        .sign(privateKey);
      const caller = await authenticator.authenticate(`Bearer ${good}`);
      expect(caller).toEqual({ kind: "authenticated", subject: "7", scopes: new Set(["attributes:bulk"]) });
      const other = await generateKeyPair("RS256");
      const forged = await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("7").sign(other.privateKey);
      expect(await authenticator.authenticate(`Bearer ${forged}`)).toMatchObject({ kind: "anonymous" });
    } finally {
      jwks.closeAllConnections();
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    }
  });
});

describe("token expiry (AUTH_REQUIRE_EXP, AUTH_CLOCK_SKEW_SECONDS)", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const signed = (exp: number | undefined) => {
    const jwt = new SignJWT({ scope: "attributes:bulk" }).setProtectedHeader({ alg: "HS256" }).setSubject("1").setIssuedAt();
    return (exp === undefined ? jwt : jwt.setExpirationTime(exp)).sign(key);
  };

  it("refuses a token without exp by default, naming the problem without echoing the token", async () => {
    const subgraph = await startTestSubgraph({
      modules: [carnival],
      sandboxUserIds: ["1"],
      // As main.ts builds it: from the documented defaults.
      authenticator: chooseAuthenticator(readAppConfig({ AUTH_JWT_SECRET: SECRET }).auth, false).authenticator,
    });
    try {
      const jwt = await signed(undefined);
      const result = await subgraph.gql(UPDATE_ATTRIBUTES, update("1"), { authorization: `Bearer ${jwt}` });
      expect(result.data.updateAttributes).toMatchObject({
        __typename: "AttributesNotAuthorizedError",
        code: "NOT_AUTHORIZED",
        message: "authentication required: the token has no exp claim: tokens must expire (AUTH_REQUIRE_EXP)",
      });
      const body = JSON.stringify(result);
      for (const part of jwt.split(".")) expect(body).not.toContain(part);
      expect(subgraph.sandbox("carnival").requestCount()).toBe(0);
    } finally {
      await subgraph.close();
    }
  });

  it("accepts an exp just past within the clock skew, refuses one beyond it", async () => {
    const authenticator = new JwtAuthenticator({ secret: SECRET, clockSkewSeconds: 30 });
    expect(await authenticator.authenticate(`Bearer ${await signed(now() - 10)}`)).toMatchObject({ kind: "authenticated", subject: "1" });
    expect(await authenticator.authenticate(`Bearer ${await signed(now() - 120)}`)).toEqual({
      kind: "anonymous",
      problem: "the token has expired",
    });
    const strict = new JwtAuthenticator({ secret: SECRET, clockSkewSeconds: 0 });
    expect(await strict.authenticate(`Bearer ${await signed(now() - 10)}`)).toEqual({
      kind: "anonymous",
      problem: "the token has expired",
    });
  });

  it("accepts a token without exp when AUTH_REQUIRE_EXP=false", async () => {
    const settings = readAppConfig({ AUTH_JWT_SECRET: SECRET, AUTH_REQUIRE_EXP: "false" }).auth;
    const caller = await chooseAuthenticator(settings, true).authenticator.authenticate(`Bearer ${await signed(undefined)}`);
    expect(caller).toMatchObject({ kind: "authenticated", subject: "1" });
  });

  it("validates the expiry settings and documents their defaults", () => {
    expect(readAppConfig({ AUTH_JWT_SECRET: SECRET }).auth.jwt).toMatchObject({ requireExp: true, clockSkewSeconds: 30 });
    expect(() => readAppConfig({ AUTH_REQUIRE_EXP: "sometimes" })).toThrow(/AUTH_REQUIRE_EXP must be true or false/);
    expect(() => readAppConfig({ AUTH_CLOCK_SKEW_SECONDS: "301" })).toThrow(/AUTH_CLOCK_SKEW_SECONDS must be an integer from 0 to 300/);
    expect(() => readAppConfig({ AUTH_CLOCK_SKEW_SECONDS: "-1" })).toThrow(/AUTH_CLOCK_SKEW_SECONDS/);
  });
});

describe("start-up rule", () => {
  it("refuses to start live vendors without authentication unless AUTH_DISABLED=true", () => {
    expect(() => chooseAuthenticator(readAppConfig({}).auth, true)).toThrow(ConfigError);
    expect(chooseAuthenticator(readAppConfig({ AUTH_DISABLED: "true" }).auth, true).warning).toMatch(/AUTH_DISABLED=true/);
    expect(chooseAuthenticator(readAppConfig({}).auth, false).warning).toMatch(/SANDBOX MODE WITHOUT AUTHORIZATION/);
    expect(chooseAuthenticator(readAppConfig({ AUTH_JWT_SECRET: SECRET }).auth, true).warning).toBeUndefined();
  });

  it("validates the auth settings", () => {
    expect(() => readAppConfig({ AUTH_JWT_SECRET: "short" })).toThrow(/at least 32 characters/);
    expect(() => readAppConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: "https://x.test/jwks" })).toThrow(/not both/);
    expect(() => readAppConfig({ AUTH_JWKS_URL: "http://example.test/jwks" })).toThrow(/must use https/);
    expect(() => readAppConfig({ AUTH_DISABLED: "true", AUTH_JWT_SECRET: SECRET })).toThrow(/contradicts/);
  });
});
