import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import config from "../../examples/client/codegen.js";
import {
  followDelivery,
  possibleTypes,
  retryFailures,
  setForMany,
  updateAttributes,
  viewDelivery,
} from "../../examples/client/src/attributes.js";
import { startTestSubgraph, type TestSubgraph } from "../support/subgraph.js";

/** examples/client: generated documents match schema.graphql and the operations, and the example works. */
describe("client example", () => {
  it("has its generated files up to date (npm run examples:codegen)", async () => {
    // The committed configuration, regenerated into a temporary directory by the codegen CLI (in
    // a child process: codegen loads its presets in ways Jest's module system does not support).
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const out = await mkdtemp(path.join(tmpdir(), "codegen-"));
    try {
      const outputs = Object.keys(config.generates);
      const relocated = Object.fromEntries(Object.entries(config.generates).map(([target, output]) => [path.join(out, target), output]));
      const configFile = path.join(out, "codegen.json");
      await writeFile(configFile, JSON.stringify({ ...config, generates: relocated }));
      const bin = path.join(root, "node_modules/@graphql-codegen/cli/esm/bin.js");
      await promisify(execFile)(process.execPath, [bin, "--config", configFile, "--silent"], { cwd: root });
      const files = async (dir: string) => (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".ts")).sort();
      const generatedDir = path.join(root, "examples/client/src/gql");
      expect(outputs.every((target) => target.startsWith("examples/client/src/gql/"))).toBe(true);
      expect(await files(path.join(out, "examples/client/src/gql"))).toEqual(await files(generatedDir));
      for (const file of await files(generatedDir)) {
        const fresh = await readFile(path.join(out, "examples/client/src/gql", file), "utf8");
        const committed = await readFile(path.join(generatedDir, file), "utf8");
        expect({ file, fresh: committed === fresh }).toEqual({ file, fresh: true });
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);

  it("lists every union and interface member for Apollo Client's possibleTypes", () => {
    expect(possibleTypes.AttributesVendorDeliveryResult).toContain("AttributesVendorDeliverySuccess");
    expect(possibleTypes.AttributesVendorDeliveryResult).toContain("AttributesRateLimitedError");
    expect(possibleTypes.AttributesUpdateResult).toEqual([
      "AttributesIdempotencyKeyInProgressError",
      "AttributesIdempotencyKeyReusedError",
      "AttributesIdempotencyStoreFullError",
      "AttributesInvalidInputError",
      "AttributesNotAuthorizedError",
      "AttributesSharedStateUnavailableError",
      "AttributesUpdateSuccess",
    ]);
    expect(possibleTypes.AttributesVendorError).not.toContain("AttributesInvalidInputError");
    expect(Object.keys(possibleTypes).filter((name) => name.startsWith("_"))).toEqual([]);
  });

  describe("against the sandbox subgraph", () => {
    let subgraph: TestSubgraph;
    beforeAll(async () => {
      subgraph = await startTestSubgraph({
        sandboxUserIds: ["1", "2", "3"],
        delivery: { baseDelayMs: 50, maxDelayMs: 200 },
      });
    });
    afterAll(() => subgraph.close());

    it("reads each vendor's delivery by __typename", async () => {
      const view = await updateAttributes(subgraph.url, {
        userId: "1",
        operations: [{ op: "INCREMENT", attribute: "logins", value: { int: 1 } }],
      });
      expect(view).toEqual({
        kind: "done",
        replayed: false,
        deliveries: [
          { vendor: "CARNIVAL", ok: false, text: expect.stringMatching(/^not saved \(logins\): /) },
          { vendor: "JIGUANG", ok: false, text: expect.stringMatching(/^not saved \(logins\): .*not declared/) },
          { vendor: "LEANPLUM", ok: true, text: "saved" },
          { vendor: "USERCOM", ok: false, text: expect.stringMatching(/^not saved \(logins\): /) },
        ],
      });
    });

    it("turns request-level errors into their own view", async () => {
      const view = await updateAttributes(subgraph.url, {
        userId: "1",
        operations: [{ op: "SET", attribute: "plan", value: { string: "a", int: 1 } }],
      });
      expect(view).toEqual({ kind: "invalid", problems: [{ field: "input.operations.0.value", message: expect.any(String) }] });
    });

    it("offers a retry only where one can help", () => {
      const base = { vendor: "CARNIVAL" as const, code: "RATE_LIMITED" as const, message: "slow down", attribute: null };
      expect(viewDelivery({ __typename: "AttributesRateLimitedError", ...base, retryable: true, retryAfterSeconds: 3 })).toMatchObject({
        ok: false,
        retryInSeconds: 3,
      });
      expect(
        viewDelivery({
          __typename: "AttributesVendorUnavailableError",
          ...base,
          code: "VENDOR_UNAVAILABLE",
          retryable: false,
          retryAfterSeconds: null,
        }),
      ).toEqual({
        vendor: "CARNIVAL",
        ok: false,
        text: "may or may not have been saved: slow down",
      });
    });

    it("follows a GUARANTEED update queued while the vendor is down until the vendor takes it", async () => {
      subgraph.sandbox("carnival").goDown(0.5);
      const view = await updateAttributes(subgraph.url, {
        userId: "2",
        vendors: ["CARNIVAL"],
        delivery: "GUARANTEED",
        operations: [{ op: "SET", attribute: "plan", value: { string: "queued-gold" } }],
      });
      expect(view).toEqual({
        kind: "done",
        replayed: false,
        deliveries: [
          { vendor: "CARNIVAL", ok: false, text: expect.stringMatching(/^queued for a retry \(/), deliveryId: expect.any(String) },
        ],
      });
      const deliveryId = view.kind === "done" ? view.deliveries[0]!.deliveryId! : "";
      expect(await followDelivery(subgraph.url, deliveryId, { pollMs: 50 })).toEqual({ vendor: "CARNIVAL", ok: true, text: "saved" });
    });

    it("runs a bulk job to the end", async () => {
      const job = await setForMany(
        subgraph.url,
        { userIds: ["1", "2", "3"], attribute: "plan", value: { string: "gold" } },
        { pollMs: 20 },
      );
      expect(job.status).toBe("SUCCEEDED");
      expect(job.progress.map((p) => [p.vendor, p.succeeded, p.pending])).toEqual([
        ["CARNIVAL", 3, 0],
        ["JIGUANG", 3, 0],
        ["LEANPLUM", 3, 0],
        ["USERCOM", 3, 0],
      ]);
    });

    it("retries a bulk job's failures, and says when there is nothing to retry", async () => {
      const job = await setForMany(subgraph.url, { userIds: ["1", "404"], attribute: "plan", value: { string: "gold" } }, { pollMs: 20 });
      expect(job.status).toBe("PARTIALLY_FAILED");
      // User 404 exists nowhere: not a retryable failure.
      expect(await retryFailures(subgraph.url, job.id)).toEqual({ kind: "nothing", message: expect.stringMatching(/nothing to retry/) });
      const retried = await retryFailures(subgraph.url, job.id, { codes: ["USER_NOT_FOUND"] });
      expect(retried).toMatchObject({ kind: "started", retryOf: job.id });
      if (retried.kind === "started") expect(retried.job.progress.every((p) => p.total === 1)).toBe(true);
    });
  });
});
