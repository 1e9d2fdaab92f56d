import { describe, expect, it } from "@jest/globals";
import { NO_RETRIES } from "../../../http/client.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import { UserComAdapter } from "../adapter.js";
import { readUserComConfig, type UserComConfig } from "../config.js";
import { buildUpdatePlan, standardName } from "../mapper.js";
import { command } from "./support.js";

/** These adapters run with test timeouts of a few hundred ms; a 429 test's pause must delay, not refuse, the next test. */
const UNBOUNDED_WAITS = { maxWaitMs: 60_000 };

function config(env: Record<string, string> = {}): UserComConfig {
  const result = readUserComConfig({ USERCOM_API_URL: "https://acme.user.com/api/public", USERCOM_API_KEY: "k".repeat(64), ...env });
  if (result.status !== "configured") throw new Error("config");
  return result.config;
}

describe("User.com mapping (pure)", () => {
  it.each([
    ["My string attr", "my_string_attr"],
    ["Example attr", "example_attr"],
    ["  Café Visits!  ", "cafe_visits"],
    ["plan", "plan"],
    ["First-Name", "first_name"],
    ["utm:source", "utm_source"],
  ])("name_std of %p is taken to be %p", (name, std) => {
    expect(standardName(name)).toBe(std);
  });

  it("builds one PUT body and the removal lists, and remembers what each wire key was called", () => {
    const built = buildUpdatePlan(
      command({
        userId: "42",
        profile: { phone: "+48123", lastName: "Lee" },
        operations: [
          { kind: "SET", attribute: "plan", value: { kind: "string", value: "gold" } },
          { kind: "UNSET", attribute: "trial_ends" },
        ],
        tags: { add: ["vip"], remove: ["trial"] },
      }),
      config(),
    );
    if (!built.ok) throw new Error(JSON.stringify(built.failures));
    expect(built.value.put!.body).toEqual({ phone_number: "+48123", last_name: "Lee", plan: "gold", tags: ["vip"] });
    expect(built.value.removeAttributes).toEqual(["trial_ends"]);
    expect(built.value.removeTags).toEqual(["trial"]);
    expect([...built.value.origins]).toEqual([
      ["last_name", { name: "lastName" }],
      ["phone_number", { name: "phone" }],
      ["plan", { name: "plan", operation: "SET" }],
      ["trial_ends", { name: "trial_ends", operation: "UNSET" }],
      ["tags", { name: "tags" }],
    ]);
  });

  it("with nothing for the PUT, no PUT is planned", () => {
    const built = buildUpdatePlan(command({ tags: { add: [], remove: ["x"] } }), config());
    expect(built.ok && built.value.put).toBeUndefined();
  });

  it("check() reports every refusal that holds for any user, and nothing about the user's id", () => {
    const adapter = new UserComAdapter(config({ USERCOM_KNOWN_ATTRIBUTES: "logins:integer" }), {
      pacers: new PacerRegistry(UNBOUNDED_WAITS),
      retry: NO_RETRIES,
    });
    try {
      const failures = adapter.check(
        command({
          userId: "..",
          profile: { firstName: "x".repeat(41) },
          operations: [
            { kind: "SET", attribute: "logins", value: { kind: "string", value: "many" } },
            { kind: "SET", attribute: "unknown", value: { kind: "int", value: 1 } },
          ],
        }),
      );
      expect(failures.map((f) => [f.category, f.attribute])).toEqual([
        ["VALUE_REJECTED", "firstName"],
        ["VALUE_REJECTED", "logins"],
        ["ATTRIBUTE_NOT_DEFINED", "unknown"],
      ]);
      expect(
        adapter.check(command({ userId: "..", operations: [{ kind: "SET", attribute: "logins", value: { kind: "int", value: 1 } }] })),
      ).toEqual([]);
    } finally {
      adapter.close();
    }
  });
});
