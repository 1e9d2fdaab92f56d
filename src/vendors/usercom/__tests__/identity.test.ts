import { afterEach, describe, expect, it } from "@jest/globals";
import { RequestScope } from "../../../domain/scope.js";
import { API, startHarness, type Harness } from "./support.js";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i + 1}`);

describe("custom id → internal id look-ups", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("N concurrent look-ups sharing one request scope cost N distinct GETs; duplicates cost nothing", async () => {
    h = await startHarness({ seed: ids(6) });
    const context = h.context();
    const asked = ["u1", "u2", "u1", "u3", "u2", "u4", "u5", "u6", "u6", "u1"];
    // One caller per user, as GraphQL resolves a list of users: each asks for its own user.
    const results = await Promise.all(asked.map(async (id) => (await h!.adapter.readProfiles([id], context)).get(id)!));
    expect(results.map((r) => (r.ok ? r.profile.userId : r.failure.category))).toEqual(asked);
    const gets = h.calls().map((c) => `${c.method} ${c.path}`);
    expect([...gets].sort()).toEqual(["u1", "u2", "u3", "u4", "u5", "u6"].map((id) => `GET ${API}/users-by-id/${id}/`));
    // Asked again later in the same request: answered from the request's cache.
    await Promise.all(["u1", "u4"].map((id) => h!.adapter.readProfiles([id], context)));
    expect(h.calls()).toHaveLength(6);
  });

  it("id resolution and read-back share one cache: a mass update after a read needs no look-up, a read after it re-reads", async () => {
    h = await startHarness({ seed: ids(2) });
    const context = h.context();
    await h.adapter.readProfiles(["u1", "u2"], context);
    expect(h.calls().map((c) => c.method)).toEqual(["GET", "GET"]);
    h.sandbox.clearJournal();
    await h.adapter.setForMany(["u1", "u2"], { attribute: "plan", value: { kind: "string", value: "gold" } }, context);
    expect(h.calls()).toEqual([
      {
        method: "PUT",
        path: `${API}/users/mass_update_custom_attributes/`,
        body: { ids: [h.sandbox.internalId("u1"), h.sandbox.internalId("u2")], attribute: "plan", value: "gold" },
      },
    ]);
    h.sandbox.clearJournal();
    // The cached objects predate the write: they are dropped, so the read shows the new value.
    const after = await h.adapter.readProfiles(["u1", "u2"], context);
    expect(h.calls().map((c) => c.method)).toEqual(["GET", "GET"]);
    expect([...after.values()].map((o) => (o.ok ? o.profile.attributes : o.failure.category))).toEqual([
      [{ name: "plan", value: { kind: "string", value: "gold" } }],
      [{ name: "plan", value: { kind: "string", value: "gold" } }],
    ]);
  });

  it("a new request scope asks again (nothing is cached across requests)", async () => {
    h = await startHarness({ seed: ["u1"] });
    await h.adapter.readProfiles(["u1"], h.context());
    await h.adapter.readProfiles(["u1"], h.context(new RequestScope()));
    expect(h.calls().filter((c) => c.method === "GET")).toHaveLength(2);
  });

  it.each([
    [1, 1],
    [3, 2],
  ])(
    "with USERCOM_LOOKUP_CONCURRENCY=%i, 12 look-ups never have more than that in flight (and do overlap: at least %i)",
    async (concurrency, atLeast) => {
      h = await startHarness({ seed: ids(12), sandbox: { lookupDelayMs: 25 }, env: { USERCOM_LOOKUP_CONCURRENCY: String(concurrency) } });
      const outcomes = await h.adapter.readProfiles(ids(12), h.context());
      expect([...outcomes.values()].every((o) => o.ok)).toBe(true);
      expect(h.calls()).toHaveLength(12);
      expect(h.sandbox.lookupStats().maxInFlight).toBeLessThanOrEqual(concurrency);
      expect(h.sandbox.lookupStats().maxInFlight).toBeGreaterThanOrEqual(atLeast);
    },
  );

  it("unknown ids are reported per user; other failures are typed as what they are, not as 'not found'", async () => {
    h = await startHarness({ seed: ["u1", "u2"] });
    h.sandbox.injectFault({ kind: "status", status: 503 }, { match: (r) => r.path === `${API}/users-by-id/u2/` });
    const outcomes = await h.adapter.readProfiles(["u1", "ghost", "u2"], h.context());
    expect([...outcomes].map(([id, o]) => [id, o.ok ? "ok" : o.failure.category])).toEqual([
      ["u1", "ok"],
      ["ghost", "USER_NOT_FOUND"],
      ["u2", "VENDOR_UNAVAILABLE"],
    ]);
  });

  it("a retryable failure is not cached: a later attempt in the same request asks again", async () => {
    h = await startHarness({ seed: ["u1"] });
    const context = h.context();
    h.sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 });
    const first = await h.adapter.readProfiles(["u1"], context);
    expect(first.get("u1")).toMatchObject({ ok: false, failure: { category: "RATE_LIMITED" } });
    const second = await h.adapter.readProfiles(["u1"], context);
    expect(second.get("u1")!.ok).toBe(true);
    // A definite answer (not found) is kept for the request.
    await h.adapter.readProfiles(["ghost"], context);
    await h.adapter.readProfiles(["ghost"], context);
    expect(h.calls().map((c) => c.path)).toEqual([`${API}/users-by-id/u1/`, `${API}/users-by-id/u1/`, `${API}/users-by-id/ghost/`]);
  });

  it("a look-up cancelled while waiting for the pacer is never sent, and its users get no outcome (the bulk engine counts them cancelled)", async () => {
    h = await startHarness({ seed: ["u1", "u2"], env: { USERCOM_RATE_LIMIT: "0.5" } });
    const controller = new AbortController();
    const context = { ...h.context(), signal: controller.signal };
    const pending = h.adapter.setForMany(["u1", "u2"], { attribute: "plan", value: { kind: "string", value: "x" } }, context);
    controller.abort(new Error("cancelled"));
    expect([...(await pending).keys()]).toEqual([]);
    expect(h.calls().filter((c) => c.path.includes("/u2/") || c.path.includes("mass_update"))).toEqual([]);
  });

  it("a look-up that throws for another reason than a cancel gives its users a typed INTERNAL failure, and the error goes to the logs", async () => {
    const reported: Array<[string, string]> = [];
    h = await startHarness({
      seed: ["u1"],
      onUnexpectedError: (error, requestId) => void reported.push([(error as Error).message, requestId]),
    });
    // A bug on our side, not a vendor answer: the client throws.
    (h.adapter as unknown as { client: { getUser: () => never } }).client.getUser = () => {
      throw new Error("bug in the client");
    };
    const context = h.context();
    const profiles = await h.adapter.readProfiles(["u1"], context);
    expect(profiles.get("u1")).toMatchObject({ ok: false, failure: { category: "INTERNAL", retryable: false } });
    expect(reported).toEqual([["bug in the client", context.requestId]]);
  });

  it("a look-up that throws for another reason during a cancel is still a typed INTERNAL failure, not taken for the cancel", async () => {
    const reported: string[] = [];
    h = await startHarness({ seed: ["u1", "u2"], onUnexpectedError: (error) => void reported.push((error as Error).message) });
    const controller = new AbortController();
    (h.adapter as unknown as { client: { getUser: () => never } }).client.getUser = () => {
      controller.abort(new Error("cancelled")); // the job is cancelled while the look-up fails
      throw new Error("bug in the client");
    };
    const results = await h.adapter.setForMany(
      ["u1", "u2"],
      { attribute: "plan", value: { kind: "string", value: "x" } },
      {
        ...h.context(),
        signal: controller.signal,
      },
    );
    expect(results.get("u1")).toMatchObject({ ok: false, failure: { category: "INTERNAL", retryable: false } });
    expect(results.get("u2")).toMatchObject({ ok: false, failure: { category: "INTERNAL", retryable: false } });
    expect(reported).toEqual(["bug in the client", "bug in the client"]);
  });
});
