import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { scrubbedError } from "../../src/app.js";
import { REDACTED, SecretScrubber, secretForms } from "../../src/http/redaction.js";
import { secretValues } from "../../src/runtime.js";
import { vendorModules } from "../../src/vendors/index.js";
import { BULK_MUTATION, waitForBulkJob } from "../support/bulk.js";
import { startTestSubgraph, UPDATE_ATTRIBUTES, type TestSubgraph } from "../support/subgraph.js";

/**
 * Vendors that echo the credentials they were sent (raw, URL-encoded, the Basic header's base64
 * pair) in their error text. Nothing of it may reach a caller or a log line: the harness's leak
 * scan (run on close) fails the suite otherwise, and each case first proves the echo happened.
 */
let subgraph: TestSubgraph;
beforeAll(async () => {
  subgraph = await startTestSubgraph({ sandboxUserIds: ["1", "2", "3"] });
});
afterAll(() => subgraph.close());

const READ_PROFILES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id attributeProfiles {
  __typename ... on AttributesVendorError { vendor code message }
} } } }`;

describe.each(vendorModules.map((m) => [m.displayName, m] as const))("%s echoing its credentials", (_name, module) => {
  const vendor = module.id.toUpperCase();
  const echoed = () =>
    JSON.stringify(
      subgraph
        .sandbox(module.id)
        .journal()
        .map((entry) => entry.response),
    );
  const credentials = () => {
    const sandbox = subgraph.sandbox(module.id);
    return secretForms(secretValues([module], module.sandboxEnv(sandbox.url)));
  };

  it("answers a single update's failure with the credentials redacted", async () => {
    const sandbox = subgraph.sandbox(module.id);
    sandbox.clearJournal();
    sandbox.injectFault({ kind: "echo-credentials" }, { count: 100 });
    try {
      const result = await subgraph.gql(UPDATE_ATTRIBUTES, {
        input: { userId: "1", vendors: [vendor], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] },
      });
      const delivery = result.data.updateAttributes.deliveries[0];
      expect(delivery.__typename).not.toBe("AttributesVendorDeliverySuccess");
      // The vendor really did echo a credential, in at least one of its forms.
      expect(credentials().some((form) => echoed().includes(form))).toBe(true);
      expect(delivery.message).toContain(REDACTED);
    } finally {
      sandbox.clearFaults();
    }
  });

  it("reports bulk failures with the credentials redacted", async () => {
    const sandbox = subgraph.sandbox(module.id);
    sandbox.injectFault({ kind: "echo-credentials" }, { count: 1_000 });
    try {
      const started = await subgraph.gql(BULK_MUTATION, {
        input: { userIds: ["1", "2", "3"], attribute: "plan", value: { string: "gold" }, vendors: [vendor] },
      });
      const job = await waitForBulkJob(
        subgraph,
        started.data.bulkSetCustomAttribute.id,
        "progress { failed } failures(first: 10) { edges { node { error { message } } } }",
      );
      expect(job.progress[0].failed).toBe(3);
      for (const edge of job.failures.edges) expect(edge.node.error.message).toContain(REDACTED);
    } finally {
      sandbox.clearFaults();
    }
  });

  if (module.capabilities.readProfile) {
    it("answers a profile read's failure with the credentials redacted", async () => {
      const sandbox = subgraph.sandbox(module.id);
      sandbox.injectFault({ kind: "echo-credentials" }, { count: 100 });
      try {
        const result = await subgraph.gql(READ_PROFILES, { reps: [{ __typename: "User", id: "1" }] });
        const profile = result.data._entities[0].attributeProfiles.find((p: { vendor?: string }) => p.vendor === vendor);
        expect(profile.message).toContain(REDACTED);
      } finally {
        sandbox.clearFaults();
      }
    });
  }
});

describe("the last guard on GraphQL errors", () => {
  it("scrubs every form of a secret from an error's message and extensions", () => {
    const scrubber = new SecretScrubber([{ value: "s3cret/key+value", basicUser: "project" }]);
    const basic = Buffer.from("project:s3cret/key+value").toString("base64");
    const formatted = scrubbedError(
      {
        message: `boom s3cret/key+value and ${encodeURIComponent("s3cret/key+value")}`,
        extensions: { code: "INTERNAL_SERVER_ERROR", header: `Basic ${basic}` },
      },
      scrubber,
    );
    expect(JSON.stringify(formatted)).not.toMatch(/s3cret|%2F|project:/);
    expect(JSON.stringify(formatted)).not.toContain(basic);
    expect(formatted.message).toBe(`boom ${REDACTED} and ${REDACTED}`);
  });
});
