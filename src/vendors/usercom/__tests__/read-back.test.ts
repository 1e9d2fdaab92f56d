import { afterEach, describe, expect, it } from "@jest/globals";
import type { ProfileReadOutcome } from "../../../domain/profile-read.js";
import { API, command, startHarness, successOf, type Harness } from "./support.js";

function profileOf(outcome: ProfileReadOutcome | undefined) {
  if (!outcome?.ok) throw new Error(`expected a profile, got ${JSON.stringify(outcome)}`);
  return outcome.profile;
}

describe("read-back from GET /users-by-id/:custom_id/", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("reads back what an update wrote, typed, with no extra call in the same request", async () => {
    h = await startHarness({ seed: ["7"] });
    const context = h.context();
    successOf(
      await h.adapter.update(
        command({
          userId: "7",
          profile: {
            email: "ann@example.org",
            firstName: "Ann",
            lastName: "Lee",
            phone: "+48123",
            city: "Warsaw",
            region: "Mazovia",
            country: "Poland",
            timezone: "Europe/Warsaw",
          },
          operations: [
            { kind: "SET", attribute: "plan", value: { kind: "string", value: "gold" } },
            { kind: "SET", attribute: "logins", value: { kind: "int", value: 42 } },
            { kind: "SET", attribute: "ratio", value: { kind: "float", value: 0.75 } },
            { kind: "SET", attribute: "vip", value: { kind: "boolean", value: true } },
            { kind: "SET", attribute: "renews_at", value: { kind: "dateTime", value: new Date("2027-01-31T09:00:00Z") } },
          ],
          tags: { add: ["beta", "verified"], remove: [] },
        }),
        context,
      ),
    );
    h.sandbox.clearJournal();
    const profile = profileOf((await h.adapter.readProfiles(["7"], context)).get("7"));
    // The PUT answered with the whole user: the read in the same request costs nothing.
    expect(h.calls()).toEqual([]);
    expect(profile).toEqual({
      vendor: "usercom",
      userId: "7",
      profile: {
        email: "ann@example.org",
        firstName: "Ann",
        lastName: "Lee",
        phone: "+48123",
        city: "Warsaw",
        region: "Mazovia",
        country: "Poland",
        timezone: "Europe/Warsaw",
      },
      attributes: [
        { name: "plan", value: { kind: "string", value: "gold" } },
        { name: "logins", value: { kind: "int", value: 42 } },
        { name: "vip", value: { kind: "boolean", value: true } },
        { name: "ratio", value: { kind: "float", value: 0.75 } },
        { name: "renews_at", value: { kind: "string", value: "2027-01-31T09:00:00.000Z" } },
      ],
      tags: ["beta", "verified"],
      notes: [
        {
          code: "DATE_AS_STRING",
          attribute: "renews_at",
          message:
            'User.com returns dates as text and "renews_at" has no declared type (USERCOM_KNOWN_ATTRIBUTES); reported as the string "2027-01-31T09:00:00.000Z"',
        },
      ],
    });
  });

  it("a read in a new request fetches the user once", async () => {
    h = await startHarness({ seed: ["7"] });
    await h.adapter.update(command({ userId: "7", profile: { city: "Oslo" } }), h.context());
    h.sandbox.clearJournal();
    const profile = profileOf((await h.adapter.readProfiles(["7"], h.context())).get("7"));
    expect(profile.profile).toEqual({ city: "Oslo" });
    expect(h.calls()).toEqual([{ method: "GET", path: `${API}/users-by-id/7/`, body: undefined }]);
  });

  it("after removals the cached user is dropped, so the read shows the removal", async () => {
    h = await startHarness({ seed: [] });
    h.sandbox.addUser("8", { attributes: { plan: "gold", logins: 1 }, tags: ["a", "b"] });
    const context = h.context();
    expect(profileOf((await h.adapter.readProfiles(["8"], context)).get("8")).tags).toEqual(["a", "b"]);
    successOf(
      await h.adapter.update(
        command({ userId: "8", operations: [{ kind: "UNSET", attribute: "plan" }], tags: { add: [], remove: ["a"] } }),
        context,
      ),
    );
    const profile = profileOf((await h.adapter.readProfiles(["8"], context)).get("8"));
    expect(profile.attributes).toEqual([{ name: "logins", value: { kind: "int", value: 1 } }]);
    expect(profile.tags).toEqual(["b"]);
  });

  it("declared types turn User.com's text back into date-times and dates", async () => {
    h = await startHarness({ seed: [], env: { USERCOM_KNOWN_ATTRIBUTES: "renews_at:datetime, birthday:date, ratio:float, plan" } });
    h.sandbox.addUser("9", { attributes: { renews_at: "2027-01-31T09:00:00.000Z", birthday: "1990-05-01", ratio: 2 } });
    const profile = profileOf((await h.adapter.readProfiles(["9"], h.context())).get("9"));
    expect(profile.attributes).toEqual([
      { name: "ratio", value: { kind: "float", value: 2 } },
      { name: "renews_at", value: { kind: "dateTime", value: new Date("2027-01-31T09:00:00Z") } },
      { name: "birthday", value: { kind: "dateTime", value: new Date("1990-05-01T00:00:00Z") } },
    ]);
    expect(profile.notes).toEqual([
      {
        code: "DATE_AS_MIDNIGHT",
        attribute: "birthday",
        message: 'User.com holds "birthday" as the date 1990-05-01; reported as midnight UTC',
      },
    ]);
  });

  it("reports name_std as the attribute name, and notes values the neutral model has no type for", async () => {
    h = await startHarness({ seed: [] });
    h.sandbox.defineAttribute({ name: "Favourite Colour", type: "string" });
    h.sandbox.addUser("10", { attributes: { "Favourite Colour": "teal", prefs: { theme: "dark" }, empty: null } });
    const profile = profileOf((await h.adapter.readProfiles(["10"], h.context())).get("10"));
    expect(profile.attributes).toEqual([
      { name: "favourite_colour", value: { kind: "string", value: "teal" } },
      { name: "prefs", value: { kind: "string", value: '{"theme":"dark"}' } },
      { name: "empty", value: null },
    ]);
    expect(profile.notes.map((n) => [n.code, n.attribute])).toEqual([["JSON_AS_STRING", "prefs"]]);
  });

  it("API version 1: the same read works against v1 payloads (user_id instead of custom_id)", async () => {
    h = await startHarness({ seed: ["11"], env: { USERCOM_API_VERSION: "1" } });
    const outcome = (await h.adapter.readProfiles(["11"], h.context())).get("11");
    expect(profileOf(outcome).userId).toBe("11");
    const [entry] = h.sandbox.journal();
    expect(entry!.response).toMatchObject({ user_id: "11" });
    expect(entry!.response).not.toHaveProperty("custom_id");
  });

  it.each<[string, () => void, string]>([
    ["an unknown user", () => undefined, "USER_NOT_FOUND"],
    ["a 5xx", () => h!.sandbox.injectFault({ kind: "status", status: 500 }), "VENDOR_UNAVAILABLE"],
    ["a 429", () => h!.sandbox.injectFault({ kind: "rate-limit", retryAfterSeconds: 0 }), "RATE_LIMITED"],
    ["a body that is not a user", () => h!.sandbox.injectFault({ kind: "malformed" }), "VENDOR_UNAVAILABLE"],
  ])("%s → %s for that user", async (_label, arrange, category) => {
    h = await startHarness({ seed: ["12"] });
    arrange();
    const id = category === "USER_NOT_FOUND" ? "nobody" : "12";
    const outcome = (await h.adapter.readProfiles([id], h.context())).get(id);
    expect(outcome).toMatchObject({ ok: false, failure: { category } });
  });
});
