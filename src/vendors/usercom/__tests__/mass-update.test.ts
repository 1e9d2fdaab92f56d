import { afterEach, describe, expect, it } from "@jest/globals";
import type { DeliveryOutcome } from "../../../domain/results.js";
import type { BulkChange } from "../../../domain/vendor.js";
import { API, startHarness, type Harness } from "./support.js";

const MASS = `${API}/users/mass_update_custom_attributes/`;
const plan = (value: string): BulkChange => ({ attribute: "plan", value: { kind: "string", value } });
const summary = (outcomes: ReadonlyMap<string, DeliveryOutcome>) => [...outcomes].map(([id, o]) => [id, o.ok ? "ok" : o.failure.category]);

describe("mass update of one custom attribute (setForMany)", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("resolves custom ids, then sends internal ids in chunks of USERCOM_MASS_UPDATE_CHUNK_SIZE", async () => {
    h = await startHarness({ seed: ["a", "b", "c", "d", "e"], env: { USERCOM_MASS_UPDATE_CHUNK_SIZE: "2" } });
    const id = (c: string) => h!.sandbox.internalId(c)!;
    const outcomes = await h.adapter.setForMany(["a", "b", "c", "d", "e"], plan("gold"), h.context());
    expect(summary(outcomes)).toEqual([
      ["a", "ok"],
      ["b", "ok"],
      ["c", "ok"],
      ["d", "ok"],
      ["e", "ok"],
    ]);
    const calls = h.calls();
    expect(calls.filter((c) => c.method === "GET")).toHaveLength(5);
    expect(calls.filter((c) => c.path === MASS)).toEqual([
      { method: "PUT", path: MASS, body: { ids: [id("a"), id("b")], attribute: "plan", value: "gold" } },
      { method: "PUT", path: MASS, body: { ids: [id("c"), id("d")], attribute: "plan", value: "gold" } },
      { method: "PUT", path: MASS, body: { ids: [id("e")], attribute: "plan", value: "gold" } },
    ]);
    for (const c of ["a", "b", "c", "d", "e"]) {
      expect(h.sandbox.user(c)!.attributes).toEqual([{ value: "gold", name: "plan", name_std: "plan", id: expect.any(Number) }]);
    }
  });

  it("looks up the next chunk's ids while a mass update is in flight, with one mass update at a time", async () => {
    h = await startHarness({
      seed: ["a", "b", "c", "d", "e", "f"],
      env: { USERCOM_MASS_UPDATE_CHUNK_SIZE: "2" },
      sandbox: { massUpdateDelayMs: 150 },
    });
    const outcomes = await h.adapter.setForMany(["a", "b", "c", "d", "e", "f"], plan("gold"), h.context());
    expect(summary(outcomes).every(([, outcome]) => outcome === "ok")).toBe(true);
    // The journal is in answer order: c and d were looked up while the first mass update was held.
    const order = h.sandbox
      .journal()
      .map((entry) => (entry.path === MASS ? `mass:${(entry.body as { ids: number[] }).ids.length}` : entry.path.split("/").at(-2)));
    expect(order).toEqual(["a", "b", "c", "d", "mass:2", "e", "f", "mass:2", "mass:2"]);
    const massAt = h.sandbox
      .journal()
      .filter((entry) => entry.path === MASS)
      .map((entry) => entry.at);
    for (let i = 1; i < massAt.length; i++) expect(massAt[i]! - massAt[i - 1]!).toBeGreaterThanOrEqual(140);
  });

  it("cancelled during its look-ups, it waits for the mass update it already sent and reports those users, leaving out the rest", async () => {
    h = await startHarness({
      seed: ["a", "b", "c", "d"],
      env: { USERCOM_MASS_UPDATE_CHUNK_SIZE: "2" },
      // A long hold, so the first mass update is still in flight when the checks below run on a slow machine.
      sandbox: { massUpdateDelayMs: 1_000, lookupDelayMs: 40 },
    });
    const controller = new AbortController();
    const pending = h.adapter.setForMany(["a", "b", "c", "d"], plan("gold"), { ...h.context(), signal: controller.signal });
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    // Cancel once the first mass update is on its way and the next look-ups are running.
    while (h.sandbox.lookupStats().maxInFlight === 0 || h.sandbox.journal().filter((entry) => entry.method === "GET").length < 2)
      await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error("cancelled"));
    await new Promise((r) => setTimeout(r, 60));
    expect(settled).toBe(false); // the first mass update is still held by the sandbox
    // a and b were sent and applied: they are delivered, not cancelled; c and d were never sent, so they have no outcome.
    expect(summary(await pending)).toEqual([
      ["a", "ok"],
      ["b", "ok"],
    ]);
    expect(h.sandbox.user("c")!.attributes).toEqual([]);
    expect(h.sandbox.user("a")!.attributes).toEqual([expect.objectContaining({ name: "plan", value: "gold" })]);
    expect(h.sandbox.journal().filter((entry) => entry.path === MASS)).toHaveLength(1);
  });

  it.each([["PUT"], ["POST"]])("USERCOM_MASS_UPDATE_METHOD=%s is what goes out, and the sandbox takes both", async (method) => {
    h = await startHarness({ seed: ["a"], env: { USERCOM_MASS_UPDATE_METHOD: method } });
    const outcomes = await h.adapter.setForMany(["a"], plan("silver"), h.context());
    expect(summary(outcomes)).toEqual([["a", "ok"]]);
    expect(
      h
        .calls()
        .filter((c) => c.path === MASS)
        .map((c) => c.method),
    ).toEqual([method]);
  });

  it.each<[string, BulkChange, unknown]>([
    ["int", { attribute: "logins", value: { kind: "int", value: 7 } }, 7],
    ["float", { attribute: "ratio", value: { kind: "float", value: 0.5 } }, 0.5],
    ["boolean", { attribute: "vip", value: { kind: "boolean", value: false } }, false],
    ["dateTime", { attribute: "renews_at", value: { kind: "dateTime", value: new Date("2027-03-01T12:30:00Z") } }, "2027-03-01T12:30:00Z"],
  ])("a %s value goes out as %p", async (_kind, change, wire) => {
    h = await startHarness({ seed: ["a"] });
    const outcomes = await h.adapter.setForMany(["a"], change, h.context());
    expect(summary(outcomes)).toEqual([["a", "ok"]]);
    expect(h.calls().find((c) => c.path === MASS)!.body).toEqual({
      ids: [h.sandbox.internalId("a")],
      attribute: change.attribute,
      value: wire,
    });
  });

  it("an id that does not resolve fails alone; duplicates are one user; order follows the input", async () => {
    h = await startHarness({ seed: ["a", "b"] });
    const outcomes = await h.adapter.setForMany(["b", "ghost", "a", "b"], plan("gold"), h.context());
    expect(summary(outcomes)).toEqual([
      ["b", "ok"],
      ["ghost", "USER_NOT_FOUND"],
      ["a", "ok"],
    ]);
    expect(h.calls().filter((c) => c.method === "GET")).toHaveLength(3);
    expect(
      h
        .calls()
        .filter((c) => c.path === MASS)
        .map((c) => c.body),
    ).toEqual([{ ids: [h.sandbox.internalId("b"), h.sandbox.internalId("a")], attribute: "plan", value: "gold" }]);
  });

  it("a failed chunk fails its own users with the typed failure; other chunks succeed", async () => {
    h = await startHarness({ seed: ["a", "b", "c", "d"], env: { USERCOM_MASS_UPDATE_CHUNK_SIZE: "2" } });
    let seen = 0;
    h.sandbox.injectFault({ kind: "status", status: 503 }, { match: (r) => r.path === MASS && ++seen === 2 });
    const outcomes = await h.adapter.setForMany(["a", "b", "c", "d"], plan("gold"), h.context());
    expect(summary(outcomes)).toEqual([
      ["a", "ok"],
      ["b", "ok"],
      ["c", "VENDOR_UNAVAILABLE"],
      ["d", "VENDOR_UNAVAILABLE"],
    ]);
    const failure = outcomes.get("c");
    expect(failure).toMatchObject({ ok: false, failure: { httpStatus: 503, retryable: true } });
    expect(h.sandbox.user("c")!.attributes).toEqual([]);
  });

  it("a chunk refused with 400 names the vendor's field message", async () => {
    h = await startHarness({ seed: ["a", "b", "c"], sandbox: { massUpdateMaxIds: 2 } });
    const outcomes = await h.adapter.setForMany(["a", "b", "c"], plan("gold"), h.context());
    expect(summary(outcomes)).toEqual([
      ["a", "VALUE_REJECTED"],
      ["b", "VALUE_REJECTED"],
      ["c", "VALUE_REJECTED"],
    ]);
    const outcome = outcomes.get("a")!;
    expect(outcome.ok ? "" : outcome.failure.message).toBe(
      'User.com refused the request while mass-updating "plan" for 3 users: ids: Ensure this field has no more than 2 elements.',
    );
  });

  it("an attribute the app does not define fails every user as ATTRIBUTE_NOT_DEFINED (v2 rule)", async () => {
    h = await startHarness({ seed: ["a", "b"] });
    const outcomes = await h.adapter.setForMany(["a", "b"], { attribute: "shoe_size", value: { kind: "int", value: 44 } }, h.context());
    expect(summary(outcomes)).toEqual([
      ["a", "ATTRIBUTE_NOT_DEFINED"],
      ["b", "ATTRIBUTE_NOT_DEFINED"],
    ]);
    const outcome = outcomes.get("a")!;
    expect(outcome.ok ? undefined : outcome.failure.attribute).toBe("shoe_size");
  });

  it.each<[string, BulkChange, string]>([
    ["a list value", { attribute: "plan", value: { kind: "stringList", value: ["a"] } }, "UNSUPPORTED_OPERATION"],
    ["a standard field name", { attribute: "email", value: { kind: "string", value: "x@y.z" } }, "VALUE_REJECTED"],
    ["a 256-character name", { attribute: "n".repeat(256), value: { kind: "string", value: "x" } }, "VALUE_REJECTED"],
  ])("%s fails every user before anything is sent", async (_label, change, category) => {
    h = await startHarness({ seed: ["a", "b"] });
    const outcomes = await h.adapter.setForMany(["a", "b"], change, h.context());
    expect(summary(outcomes)).toEqual([
      ["a", category],
      ["b", category],
    ]);
    expect(h.calls()).toEqual([]);
  });

  it("an answer other than {status: ok} is never counted as success", async () => {
    h = await startHarness({ seed: ["a"] });
    h.sandbox.injectFault({ kind: "malformed" }, { match: (r) => r.path === MASS });
    const outcomes = await h.adapter.setForMany(["a"], plan("gold"), h.context());
    expect(summary(outcomes)).toEqual([["a", "VENDOR_UNAVAILABLE"]]);
  });
});
