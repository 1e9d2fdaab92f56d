import { afterEach, describe, expect, it } from "@jest/globals";
import type { RawOperation } from "../../../domain/command.js";
import { RequestScope } from "../../../domain/scope.js";
import type { DeliveryOutcome } from "../../../domain/results.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import { startJiguangSandbox, type JiguangSandbox } from "../sandbox.js";
import { adapterFor, command, context } from "./support.js";

/**
 * The sandbox answers HTTP 429 to the 201st request of any sliding second. Scaled to 200 QPS so
 * that the suite stays short; the figures scale with JIGUANG_RATE_LIMIT.
 */
const QPS = 200;
/**
 * The adapters are told 150 QPS, not 200: sandbox and client share one event loop here, and on a
 * loaded CI machine a stall delivers a second's requests to the sandbox bunched, which the
 * budget's 2% margin does not absorb. Two unshared pacers (300/s) still exceed 200.
 */
const CONFIGURED_QPS = 150;
const SET_NICKNAME: RawOperation = { op: "SET", attribute: "nickname", value: { string: "x" } };

describe("Jiguang pacing", () => {
  let sandbox: JiguangSandbox | undefined;
  const adapters: Array<{ close(): void }> = [];
  afterEach(async () => {
    for (const adapter of adapters.splice(0)) adapter.close();
    await sandbox?.close();
  });

  async function start(): Promise<JiguangSandbox> {
    sandbox = await startJiguangSandbox({ rateLimitPerSecond: QPS, seedUserIds: ["1", "2", "3"] });
    for (let i = 0; i < 200; i++) sandbox.addIdentity(`p-${i}`);
    return sandbox;
  }

  function twoAdapters(s: JiguangSandbox, pacers: [PacerRegistry, PacerRegistry]) {
    // Same project: one maps identities (its look-ups count too), the other writes by CUID.
    const byIdentity = adapterFor(s, { JIGUANG_RATE_LIMIT: String(CONFIGURED_QPS), JIGUANG_IDENTITY_NAME: "login_id" }, pacers[0]).adapter;
    const byCuid = adapterFor(s, { JIGUANG_RATE_LIMIT: String(CONFIGURED_QPS) }, pacers[1]).adapter;
    adapters.push(byIdentity, byCuid);
    return { byIdentity, byCuid };
  }

  function traffic(a: ReturnType<typeof twoAdapters>, perAdapter: number): Promise<DeliveryOutcome[]> {
    const scope = new RequestScope();
    return Promise.all([
      ...Array.from({ length: perAdapter }, (_, i) => a.byIdentity.update(command(`p-${i}`, [SET_NICKNAME]), context(scope))),
      ...Array.from({ length: perAdapter }, (_, i) => a.byCuid.update(command(String((i % 3) + 1), [SET_NICKNAME]), context())),
    ]);
  }

  it("sustained traffic from every adapter of one project, look-ups included, stays under the QPS: no 429", async () => {
    const s = await start();
    const shared = new PacerRegistry();
    const outcomes = await traffic(twoAdapters(s, [shared, shared]), 200);
    const journal = s.journal();
    expect(journal.filter((e) => e.status === 429)).toEqual([]);
    expect(journal.filter((e) => e.path.endsWith("/register"))).toHaveLength(2);
    expect(journal).toHaveLength(402); // 2 look-ups + 400 writes: more than two seconds' worth
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  });

  it("control: the same traffic paced per adapter instead of per project exceeds the QPS and is refused", async () => {
    const s = await start();
    const outcomes = await traffic(twoAdapters(s, [new PacerRegistry(), new PacerRegistry()]), 150);
    const limited = outcomes.filter((o) => !o.ok && o.failure.category === "RATE_LIMITED");
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toMatchObject({ ok: false, failure: { vendorCode: "429", httpStatus: 429, retryAfterSeconds: 1, retryable: true } });
    expect(s.journal().filter((e) => e.status === 429).length).toBeGreaterThanOrEqual(limited.length);
  });

  it("a wait cancelled through the signal throws (as the bulk engine expects) and sends nothing", async () => {
    const s = await start();
    const { adapter } = adapterFor(s, { JIGUANG_RATE_LIMIT: "5" });
    adapters.push(adapter);
    const controller = new AbortController();
    const ctx = { ...context(), signal: controller.signal };
    expect((await adapter.update(command("1", [SET_NICKNAME]), ctx)).ok).toBe(true);
    const waiting = adapter.update(command("2", [SET_NICKNAME]), ctx); // a slot every 222 ms
    controller.abort();
    await expect(waiting).rejects.toThrow();
    expect(s.journal()).toHaveLength(1);
  });
});
