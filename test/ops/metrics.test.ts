import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { UPDATE_ATTRIBUTES } from "../support/subgraph.js";
import { post, sample, scrape, startObservedSubgraph, type ObservedSubgraph } from "./observed.js";
import type { SandboxServer } from "../../src/sandbox/kit.js";
import { vendorModules } from "../../src/vendors/index.js";

const update = (url: string, input: Record<string, unknown>, headers: Record<string, string> = {}) =>
  post(url, UPDATE_ATTRIBUTES, { input }, headers);

async function waitForJob(url: string, id: string): Promise<any> {
  for (;;) {
    const result = await post(
      url,
      `query($id: ID!) { attributeBulkJob(id: $id) { ... on AttributesBulkJob { status progress { vendor succeeded failed cancelled } } } }`,
      { id },
    );
    const job = result.data.attributeBulkJob;
    if (!["QUEUED", "RUNNING"].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("GET /metrics", () => {
  let subgraph: ObservedSubgraph;
  beforeAll(async () => {
    subgraph = await startObservedSubgraph({ processMetrics: true, circuit: { failureThreshold: 2, cooldownMs: 60_000 } });
  });
  afterAll(() => subgraph.close());

  it("serves Prometheus text with process metrics and every vendor's mode and circuit", async () => {
    const response = await fetch(new URL("/metrics", subgraph.url));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(sample(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    for (const { id: vendor } of vendorModules) {
      expect({ vendor, sandbox: sample(text, "attributes_vendor_mode", { vendor, mode: "sandbox" }) }).toEqual({ vendor, sandbox: 1 });
      expect({ vendor, live: sample(text, "attributes_vendor_mode", { vendor, mode: "live" }) }).toEqual({ vendor, live: 0 });
      expect({ vendor, closed: sample(text, "attributes_circuit_state", { vendor, state: "closed" }) }).toEqual({ vendor, closed: 1 });
      expect({ vendor, open: sample(text, "attributes_circuit_state", { vendor, state: "open" }) }).toEqual({ vendor, open: 0 });
    }
  });

  it("counts vendor calls, deliveries by typed outcome and GraphQL operations by result type", async () => {
    const before = await scrape(subgraph.url);
    const delivered = (text: string) =>
      sample(text, "attributes_deliveries_total", { vendor: "carnival", outcome: "delivered", category: "none" }) ?? 0;
    const notFound = (text: string) =>
      sample(text, "attributes_deliveries_total", { vendor: "carnival", outcome: "failed", category: "USER_NOT_FOUND" }) ?? 0;
    const calls2xx = (text: string) =>
      sample(text, "attributes_vendor_requests_total", {
        vendor: "carnival",
        operation: "putUser",
        outcome: "response",
        status_class: "2xx",
      }) ?? 0;
    const calls4xx = (text: string) =>
      sample(text, "attributes_vendor_requests_total", {
        vendor: "carnival",
        operation: "putUser",
        outcome: "response",
        status_class: "4xx",
      }) ?? 0;

    const ok = await update(subgraph.url, {
      userId: "1",
      vendors: ["CARNIVAL"],
      operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
    });
    expect(ok.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorDeliverySuccess");
    const missing = await update(subgraph.url, {
      userId: "nobody",
      vendors: ["CARNIVAL"],
      operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
    });
    expect(missing.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorUserNotFoundError");
    const invalid = await update(subgraph.url, {
      userId: "1",
      operations: [{ op: "SET", attribute: "plan", value: { string: "a", int: 1 } }],
    });
    expect(invalid.data.updateAttributes.__typename).toBe("AttributesInvalidInputError");

    const after = await scrape(subgraph.url);
    expect(delivered(after) - delivered(before)).toBe(1);
    expect(notFound(after) - notFound(before)).toBe(1);
    expect(calls2xx(after) - calls2xx(before)).toBe(1);
    expect(calls4xx(after) - calls4xx(before)).toBe(1);
    expect(
      sample(after, "attributes_vendor_request_duration_seconds_count", { vendor: "carnival", operation: "putUser", outcome: "response" }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(after, "attributes_delivery_duration_seconds_count", { vendor: "carnival" })).toBeGreaterThanOrEqual(2);
    const operations = (text: string, result: string) =>
      sample(text, "attributes_graphql_operations_total", { type: "mutation", field: "updateAttributes", result }) ?? 0;
    expect(operations(after, "AttributesUpdateSuccess") - operations(before, "AttributesUpdateSuccess")).toBe(2);
    expect(operations(after, "AttributesInvalidInputError") - operations(before, "AttributesInvalidInputError")).toBe(1);
    expect(
      sample(after, "attributes_graphql_operation_duration_seconds_count", { type: "mutation", field: "updateAttributes" }),
    ).toBeGreaterThanOrEqual(3);
  });

  it("counts retries and the pacer's acquisitions per vendor", async () => {
    const sandbox = subgraph.runtime.sandboxes.get("usercom")!;
    sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }, { count: 1 });
    const before = await scrape(subgraph.url);
    const result = await update(subgraph.url, {
      userId: "2",
      vendors: ["USERCOM"],
      operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
    });
    expect(result.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorDeliverySuccess");
    const after = await scrape(subgraph.url);
    const retries = (text: string) =>
      [...text.matchAll(/^attributes_vendor_request_retries_total\{vendor="usercom",[^}]*\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    expect(retries(after) - retries(before)).toBe(1);
    const acquired = (text: string) => sample(text, "attributes_pacer_acquisitions_total", { vendor: "usercom" }) ?? 0;
    expect(acquired(after) - acquired(before)).toBeGreaterThanOrEqual(2);
    // Exposed for the vendor (their values depend on the machine's timing: present, finite, not negative).
    for (const name of ["attributes_pacer_wait_seconds_total", "attributes_pacer_backlog_seconds"]) {
      const value = sample(after, name, { vendor: "usercom" });
      expect({ name, exposed: typeof value === "number" && Number.isFinite(value) && value >= 0 }).toEqual({ name, exposed: true });
    }
  });

  it("shows a circuit opening and counts the transition", async () => {
    const sandbox: SandboxServer = subgraph.runtime.sandboxes.get("jiguang")!;
    sandbox.injectFault({ kind: "status", status: 503 }, { count: 20 });
    for (let i = 0; i < 2; i++) {
      const result = await update(subgraph.url, {
        userId: "1",
        vendors: ["JIGUANG"],
        operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }],
      });
      expect(result.data.updateAttributes.deliveries[0].__typename).toBe("AttributesVendorUnavailableError");
    }
    sandbox.clearFaults();
    const text = await scrape(subgraph.url);
    expect(sample(text, "attributes_circuit_state", { vendor: "jiguang", state: "open" })).toBe(1);
    expect(sample(text, "attributes_circuit_state", { vendor: "jiguang", state: "closed" })).toBe(0);
    expect(sample(text, "attributes_circuit_transitions_total", { vendor: "jiguang", state: "open" })).toBe(1);
    expect(sample(text, "attributes_deliveries_total", { vendor: "jiguang", outcome: "failed", category: "VENDOR_UNAVAILABLE" })).toBe(2);
  });

  it("follows bulk jobs: jobs by status, users by vendor and outcome, nothing left pending", async () => {
    const result = await post(
      subgraph.url,
      `mutation($input: AttributesBulkSetCustomAttributeInput!) { bulkSetCustomAttribute(input: $input) { __typename ... on AttributesBulkJob { id } } }`,
      { input: { userIds: ["1", "2", "3", "404"], attribute: "plan", value: { string: "gold" }, vendors: ["CARNIVAL", "USERCOM"] } },
    );
    expect(result.data.bulkSetCustomAttribute.__typename).toBe("AttributesBulkJob");
    const job = await waitForJob(subgraph.url, result.data.bulkSetCustomAttribute.id);
    expect(job.status).toBe("PARTIALLY_FAILED");
    const text = await scrape(subgraph.url);
    expect(sample(text, "attributes_bulk_jobs_total", { status: "QUEUED" })).toBe(1);
    expect(sample(text, "attributes_bulk_jobs_total", { status: "RUNNING" })).toBe(1);
    expect(sample(text, "attributes_bulk_jobs_total", { status: "PARTIALLY_FAILED" })).toBe(1);
    expect(sample(text, "attributes_bulk_jobs", { status: "RUNNING" })).toBe(0);
    expect(sample(text, "attributes_bulk_jobs", { status: "QUEUED" })).toBe(0);
    for (const vendor of ["carnival", "usercom"]) {
      expect({
        vendor,
        succeeded: sample(text, "attributes_bulk_users_total", { vendor, outcome: "succeeded", category: "none" }),
      }).toEqual({ vendor, succeeded: 3 });
      expect({
        vendor,
        failed: sample(text, "attributes_bulk_users_total", { vendor, outcome: "failed", category: "USER_NOT_FOUND" }),
      }).toEqual({ vendor, failed: 1 });
    }
    expect(text).not.toMatch(/^attributes_bulk_users_pending\{[^}]*\} [1-9]/m);
  });

  it("labels an operation with the type its first root field answered, aliases and fragments included", async () => {
    const before = await scrape(subgraph.url);
    const count = (text: string, type: string, field: string, result: string) =>
      sample(text, "attributes_graphql_operations_total", { type, field, result }) ?? 0;
    const input = { userId: "1", vendors: ["CARNIVAL"], operations: [{ op: "SET", attribute: "plan", value: { string: "gold" } }] };
    const invalid = { userId: "1", operations: [{ op: "SET", attribute: "plan", value: { string: "a", int: 1 } }] };
    // The first root field is aliased and reached through a fragment; the second answers another member.
    const result = await post(
      subgraph.url,
      `mutation($a: AttributesUpdateInput!, $b: AttributesUpdateInput!) { ...First second: updateAttributes(input: $b) { __typename } }
       fragment First on Mutation { first: updateAttributes(input: $a) { __typename } }`,
      { a: invalid, b: input },
    );
    expect(result.data).toEqual({
      first: { __typename: "AttributesInvalidInputError" },
      second: { __typename: "AttributesUpdateSuccess" },
    });
    await post(subgraph.url, `{ __typename }`);
    await post(subgraph.url, `query($id: ID!) { attributeBulkJob(id: $id) { __typename } }`, { id: "no-such-job" });
    const after = await scrape(subgraph.url);
    expect(
      count(after, "mutation", "updateAttributes", "AttributesInvalidInputError") -
        count(before, "mutation", "updateAttributes", "AttributesInvalidInputError"),
    ).toBe(1);
    expect(
      count(after, "mutation", "updateAttributes", "AttributesUpdateSuccess") -
        count(before, "mutation", "updateAttributes", "AttributesUpdateSuccess"),
    ).toBe(0);
    expect(count(after, "query", "__typename", "String") - count(before, "query", "__typename", "String")).toBe(1);
    const job = await post(subgraph.url, `query($id: ID!) { attributeBulkJob(id: $id) { __typename } }`, { id: "no-such-job" });
    const jobType = job.data.attributeBulkJob.__typename as string;
    const final = await scrape(subgraph.url);
    expect(count(final, "query", "attributeBulkJob", jobType) - count(before, "query", "attributeBulkJob", jobType)).toBe(2);
  });

  it("keeps caller-chosen text out of labels", async () => {
    await post(subgraph.url, `query Evil_Label_Injection { attributeVendors { vendor } }`);
    await post(subgraph.url, `{ noSuchField }`);
    const text = await scrape(subgraph.url);
    expect(text).not.toContain("Evil_Label_Injection");
    expect(text).not.toContain("noSuchField");
    expect(sample(text, "attributes_graphql_operations_total", { type: "unknown", field: "none", result: "error" })).toBe(1);
    expect(
      sample(text, "attributes_graphql_operations_total", { type: "query", field: "attributeVendors", result: "list" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("gives every app its own registry", async () => {
    const other = await startObservedSubgraph();
    try {
      const text = await scrape(other.url);
      expect(sample(text, "attributes_bulk_jobs_total", { status: "QUEUED" })).toBeUndefined();
      expect(sample(text, "process_cpu_user_seconds_total")).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
