import http from "node:http";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { contentCodings, mediaTypeOf } from "../../src/server/http-server.js";
import { carnival } from "../../src/vendors/carnival/index.js";
import type { CarnivalSandbox } from "../../src/vendors/carnival/sandbox.js";
import { collect, request, within, type Answer } from "../support/http-client.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

const MAX_BODY_BYTES = 16_384;

const post = (url: string, body: Buffer | string, headers: Record<string, string>): Promise<Answer> => request(url, { body, headers });

/**
 * What a router may send: compressed bodies (Apollo Router compresses subgraph requests with
 * gzip, deflate or br), and Content-Type headers with parameters. Bodies are inflated as they
 * arrive, with the body limit applied to the inflated bytes.
 */
describe("request bodies", () => {
  let subgraph: TestSubgraph;
  let sandbox: CarnivalSandbox;
  beforeAll(async () => {
    subgraph = await startTestSubgraph({ modules: [carnival], maxBodyBytes: MAX_BODY_BYTES, sandboxUserIds: ["1"] });
    sandbox = subgraph.sandbox<CarnivalSandbox>("carnival");
  });
  afterAll(() => subgraph.close());

  const mutation = (plan: string) =>
    JSON.stringify({
      query: UPDATE_ATTRIBUTES,
      variables: { input: { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: plan } }] } },
    });
  const delivered = (answer: Answer) => answer.body?.data?.updateAttributes?.deliveries?.[0]?.__typename;
  const planAtVendor = () => sandbox.devices("1")?.[0]?.plan?.value;

  describe("Content-Encoding", () => {
    it.each([
      ["gzip", gzipSync],
      ["deflate", deflateSync],
      ["br", brotliCompressSync],
      ["GZIP", gzipSync],
      ["x-gzip", gzipSync],
    ] as const)("inflates a %s body and runs the mutation end to end", async (encoding, compress) => {
      const plan = `plan-${encoding}`;
      const answer = await post(subgraph.url, compress(Buffer.from(mutation(plan))), {
        "content-type": "application/json",
        "content-encoding": encoding,
      });
      expect({ status: answer.status, delivered: delivered(answer) }).toEqual({
        status: 200,
        delivered: "AttributesVendorDeliverySuccess",
      });
      expect(planAtVendor()).toBe(plan);
    });

    it("undoes several codings, last applied first ('gzip, br' is gzip, then brotli)", async () => {
      const body = brotliCompressSync(gzipSync(Buffer.from(mutation("plan-chain"))));
      const answer = await post(subgraph.url, body, { "content-type": "application/json", "content-encoding": "gzip, br" });
      expect({ status: answer.status, delivered: delivered(answer) }).toEqual({
        status: 200,
        delivered: "AttributesVendorDeliverySuccess",
      });
      expect(planAtVendor()).toBe("plan-chain");
    });

    it("takes identity as no coding", async () => {
      const answer = await post(subgraph.url, mutation("plan-identity"), {
        "content-type": "application/json",
        "content-encoding": "identity",
      });
      expect(delivered(answer)).toBe("AttributesVendorDeliverySuccess");
    });

    it("answers a zip bomb (a few KB inflating far past the limit) with 413", async () => {
      // 10 MiB of spaces inside a JSON string: ~10 KB of gzip, under the limit before inflation.
      const bomb = gzipSync(Buffer.from(`{"query":"{ __typename }","x":"${" ".repeat(10 * 1_048_576)}"}`), { level: 9 });
      expect(bomb.length).toBeLessThan(MAX_BODY_BYTES);
      const answer = await post(subgraph.url, bomb, { "content-type": "application/json", "content-encoding": "gzip" });
      expect(answer.status).toBe(413);
      expect(answer.body).toEqual({
        errors: [{ message: `request body exceeds ${MAX_BODY_BYTES} bytes`, extensions: { code: "PAYLOAD_TOO_LARGE" } }],
      });
    });

    it("stops inflating at the limit: the 413 comes while the bomb is still being sent", async () => {
      // The first part of a gzip stream whose inflated size already exceeds the limit; the
      // request is never ended. A server that inflated (or read) the whole body first would
      // never answer; this one answers as soon as the inflated bytes pass the limit.
      const bomb = gzipSync(Buffer.alloc(64 * 1_048_576, 0x20), { level: 9 });
      const firstPart = bomb.subarray(0, 4096);
      const unfinished = http.request(subgraph.url, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": "gzip", "transfer-encoding": "chunked" },
      });
      try {
        const answered = new Promise<Answer>((resolve, reject) => {
          unfinished.on("response", (response) => void collect(response).then(resolve, reject));
          unfinished.on("error", reject);
        });
        unfinished.write(firstPart);
        const answer = await within(answered, "an answer before the body ends");
        expect(answer.status).toBe(413);
        expect(answer.body.errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
        expect(unfinished.writableEnded).toBe(false);
      } finally {
        unfinished.destroy();
      }
    });

    it("applies the limit to the compressed bytes too", async () => {
      const incompressible = gzipSync(Buffer.from(Array.from({ length: MAX_BODY_BYTES * 2 }, (_, i) => (i * 7919) % 256)), { level: 0 });
      const answer = await post(subgraph.url, incompressible, { "content-type": "application/json", "content-encoding": "gzip" });
      expect(answer.status).toBe(413);
    });

    it("answers an unknown coding with 415, naming the codings it accepts", async () => {
      const answer = await post(subgraph.url, mutation("plan-zstd"), { "content-type": "application/json", "content-encoding": "zstd" });
      expect(answer.status).toBe(415);
      expect(answer.headers["accept-encoding"]).toBe("gzip, deflate, br");
      expect(answer.body).toEqual({
        errors: [
          {
            message: 'unsupported Content-Encoding "zstd"; supported: gzip, deflate, br, identity',
            extensions: { code: "UNSUPPORTED_MEDIA_TYPE" },
          },
        ],
      });
    });

    it.each([
      ["a corrupt", Buffer.from("certainly not gzip data")],
      ["a truncated", gzipSync(Buffer.from('{"query":"{ __typename }"}')).subarray(0, 12)],
    ])("answers %s gzip body with 400", async (_case, body) => {
      const answer = await post(subgraph.url, body, { "content-type": "application/json", "content-encoding": "gzip" });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ errors: [{ message: "request body is not valid gzip data", extensions: { code: "BAD_REQUEST" } }] });
    });

    it("keeps serving on the same connection after refusing a body", async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const send = (body: Buffer, headers: Record<string, string>) => request(subgraph.url, { body, headers, agent });
        const bomb = gzipSync(Buffer.alloc(8 * 1_048_576, 0x20), { level: 9 });
        const refused = await send(bomb, { "content-type": "application/json", "content-encoding": "gzip" });
        expect(refused.status).toBe(413);
        const after = await send(gzipSync(mutation("plan-after")), { "content-type": "application/json", "content-encoding": "gzip" });
        expect(delivered(after)).toBe("AttributesVendorDeliverySuccess");
      } finally {
        agent.destroy();
      }
    });
  });

  describe("Content-Type", () => {
    it.each(["application/json; charset=utf-8", 'Application/JSON ; Charset="UTF-8"', "application/graphql-response+json"])(
      "parses %s as JSON",
      async (contentType) => {
        const answer = await post(subgraph.url, mutation("plan-typed"), { "content-type": contentType });
        expect({ status: answer.status, delivered: delivered(answer) }).toEqual({
          status: 200,
          delivered: "AttributesVendorDeliverySuccess",
        });
      },
    );

    it("answers a JSON body in another charset with 415", async () => {
      const answer = await post(subgraph.url, mutation("plan-latin1"), { "content-type": "application/json; charset=iso-8859-1" });
      expect(answer.status).toBe(415);
      expect(answer.body).toEqual({
        errors: [
          {
            message: 'unsupported charset "iso-8859-1" for a JSON body; send UTF-8',
            extensions: { code: "UNSUPPORTED_MEDIA_TYPE" },
          },
        ],
      });
      expect(planAtVendor()).not.toBe("plan-latin1");
    });

    it("does not parse a type that merely contains 'json' as JSON", async () => {
      const answer = await post(subgraph.url, mutation("plan-jsonish"), { "content-type": "text/jsonish" });
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0].message).toMatch(/POST body missing, invalid Content-Type/);
      expect(planAtVendor()).not.toBe("plan-jsonish");
    });

    it("leaves Apollo's CSRF prevention in place for simple content types", async () => {
      const answer = await post(subgraph.url, mutation("plan-csrf"), { "content-type": "text/plain" });
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0].message).toMatch(/Cross-Site Request Forgery/);
      expect(planAtVendor()).not.toBe("plan-csrf");
    });
  });
});

describe("header parsing", () => {
  it("reads media types with parameters, case and +json suffixes", () => {
    expect(mediaTypeOf("application/json")).toEqual({ json: true });
    expect(mediaTypeOf("application/json;charset=UTF-8")).toEqual({ json: true, charset: "UTF-8" });
    expect(mediaTypeOf("application/vnd.api+json")).toEqual({ json: true });
    expect(mediaTypeOf("text/jsonish")).toEqual({ json: false });
    expect(mediaTypeOf("application/x-json-seq")).toEqual({ json: false });
    expect(mediaTypeOf("+json")).toEqual({ json: false });
    expect(mediaTypeOf(undefined)).toEqual({ json: false });
  });

  it("lists content codings in the order applied, identity left out, unknown ones named", () => {
    expect(contentCodings("gzip")).toEqual(["gzip"]);
    expect(contentCodings("gzip, br")).toEqual(["gzip", "br"]);
    expect(contentCodings(" identity ")).toEqual([]);
    expect(contentCodings("X-GZIP,deflate")).toEqual(["gzip", "deflate"]);
    expect(contentCodings("gzip, zstd")).toBe("zstd");
    expect(contentCodings("gzip, gzip, gzip, gzip")).toBe("gzip, gzip, gzip, gzip");
  });
});
