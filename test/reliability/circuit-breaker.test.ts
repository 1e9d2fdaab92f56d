import { describe, expect, it } from "@jest/globals";
import { vendorFailure } from "../../src/domain/failures.js";
import type { DeliveryOutcome } from "../../src/domain/results.js";
import { RequestScope } from "../../src/domain/scope.js";
import type { VendorAdapter } from "../../src/domain/vendor.js";
import { CircuitBreaker, withCircuitBreaker } from "../../src/reliability/circuit-breaker.js";
import { LOCK_UNAVAILABLE } from "../../src/reliability/keyed-lock.js";

const command = { userId: "u", operations: [], profile: {}, tags: { add: [], remove: [] }, vendorOptions: {} };
const context = { requestId: "t", scope: new RequestScope() };
const down: DeliveryOutcome = { ok: false, vendor: "v", failure: vendorFailure("VENDOR_UNAVAILABLE", "v", "503") };
const refused: DeliveryOutcome = { ok: false, vendor: "v", failure: vendorFailure("VALUE_REJECTED", "v", "bad") };
const up: DeliveryOutcome = { ok: true, vendor: "v", warnings: [] };

function scripted(outcomes: DeliveryOutcome[]): VendorAdapter & { calls: number } {
  const adapter = {
    calls: 0,
    update: () => {
      adapter.calls++;
      return Promise.resolve(outcomes.shift() ?? up);
    },
  };
  return adapter;
}

describe("circuit breaker", () => {
  it("opens after consecutive unavailability, fails fast with a delay, probes once after the cooldown, then closes", async () => {
    let now = 0;
    const breaker = new CircuitBreaker("v", "Vendor", { failureThreshold: 3, cooldownMs: 10_000 }, () => now);
    const states: string[] = [];
    breaker.onChange((s) => states.push(s));
    const inner = scripted([down, down, down, down]);
    const adapter = withCircuitBreaker(inner, breaker);

    for (let i = 0; i < 3; i++) expect(await adapter.update(command, context)).toBe(down);
    expect(breaker.current).toBe("open");
    const fast = await adapter.update(command, context);
    expect(inner.calls).toBe(3);
    expect(fast.ok || fast.failure).toMatchObject({
      category: "VENDOR_UNAVAILABLE",
      vendorCode: "CIRCUIT_OPEN",
      retryable: true,
      retryAfterSeconds: 10,
    });

    now = 10_000;
    expect(breaker.current).toBe("half-open");
    expect(await adapter.update(command, context)).toBe(down); // the probe fails: open again
    expect(inner.calls).toBe(4);
    expect(breaker.current).toBe("open");

    now = 20_000;
    expect(await adapter.update(command, context)).toBe(up); // the probe succeeds
    expect(breaker.current).toBe("closed");
    expect(states).toEqual(["open", "closed"]);
  });

  it("does not count a shared lock not taken (nothing sent) as the vendor failing", async () => {
    const breaker = new CircuitBreaker("v", "Vendor", { failureThreshold: 2, cooldownMs: 10_000 });
    const lockDown: DeliveryOutcome = {
      ok: false,
      vendor: "v",
      failure: vendorFailure("VENDOR_UNAVAILABLE", "v", "lock", { retryable: true, vendorCode: LOCK_UNAVAILABLE }),
    };
    const adapter = withCircuitBreaker(scripted([lockDown, lockDown, lockDown]), breaker);
    for (let i = 0; i < 3; i++) expect(await adapter.update(command, context)).toBe(lockDown);
    expect(breaker.current).toBe("closed");
  });

  it("lets only one probe through while half-open", async () => {
    let now = 0;
    const breaker = new CircuitBreaker("v", "Vendor", { failureThreshold: 1, cooldownMs: 1_000 }, () => now);
    let release: (o: DeliveryOutcome) => void = () => undefined;
    const inner: VendorAdapter = {
      update: () => new Promise<DeliveryOutcome>((resolve) => (release = resolve)),
    };
    const adapter = withCircuitBreaker(inner, breaker);
    const first = adapter.update(command, context);
    release(down);
    await first;
    now = 1_000;
    const probe = adapter.update(command, context);
    const second = await adapter.update(command, context);
    expect(second.ok || second.failure.vendorCode).toBe("CIRCUIT_OPEN");
    release(up);
    expect(await probe).toBe(up);
  });

  it("treats refusals about the request as proof the vendor is up", async () => {
    const breaker = new CircuitBreaker("v", "Vendor", { failureThreshold: 2, cooldownMs: 1_000 });
    const adapter = withCircuitBreaker(scripted([down, refused, down, up]), breaker);
    for (let i = 0; i < 4; i++) await adapter.update(command, context);
    expect(breaker.current).toBe("closed");
  });

  it("does not count a caller's cancellation as the vendor failing (a cancelled bulk job must not trip it)", async () => {
    const breaker = new CircuitBreaker("v", "Vendor", { failureThreshold: 2, cooldownMs: 10_000 });
    const controller = new AbortController();
    controller.abort(new Error("job cancelled"));
    // As the pacer does: a wait cancelled by the caller rejects with the signal's reason, nothing sent.
    const cancelledWait: VendorAdapter = { update: () => Promise.reject(controller.signal.reason as Error) };
    const adapter = withCircuitBreaker(cancelledWait, breaker);
    for (let i = 0; i < 5; i++) {
      await expect(adapter.update(command, { ...context, signal: controller.signal })).rejects.toThrow("job cancelled");
    }
    expect(breaker.current).toBe("closed");

    // Any other throw is still a failure, also after a cancel.
    const crashing: VendorAdapter = { update: () => Promise.reject(new Error("bug")) };
    const crashingAdapter = withCircuitBreaker(crashing, breaker);
    for (let i = 0; i < 2; i++) {
      await expect(crashingAdapter.update(command, { ...context, signal: controller.signal })).rejects.toThrow("bug");
    }
    expect(breaker.current).toBe("open");
  });

  it("ignores cancelled bulk and read calls too", async () => {
    const breaker = new CircuitBreaker("v", "Vendor", { failureThreshold: 1, cooldownMs: 10_000 });
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    const adapter = withCircuitBreaker(
      {
        update: () => Promise.resolve(up),
        setForMany: () => Promise.reject(controller.signal.reason as Error),
        readProfiles: () => Promise.reject(controller.signal.reason as Error),
      },
      breaker,
    );
    const cancelled = { ...context, signal: controller.signal };
    await expect(
      adapter.setForMany!(["a"], { attribute: "x", value: { kind: "string", value: "y" } } as never, cancelled),
    ).rejects.toThrow();
    await expect(adapter.readProfiles!(["a"], cancelled)).rejects.toThrow();
    expect(breaker.current).toBe("closed");
  });

  it("does not judge the vendor by a cancelled bulk call's partial result (a half-open circuit stays half-open)", async () => {
    let now = 0;
    const breaker = new CircuitBreaker("v", "Vendor", { failureThreshold: 1, cooldownMs: 1_000 }, () => now);
    const controller = new AbortController();
    const adapter = withCircuitBreaker(
      {
        update: () => Promise.resolve(down),
        // As User.com's bulk path does on cancel: only the users already sent have an outcome.
        setForMany: (ids) => {
          controller.abort(new Error("cancelled"));
          return Promise.resolve(new Map(ids.slice(0, 1).map((id) => [id, up] as const)));
        },
      },
      breaker,
    );
    await adapter.update(command, context);
    expect(breaker.current).toBe("open");
    now = 1_000;
    expect(breaker.current).toBe("half-open");
    const results = await adapter.setForMany!(
      ["a", "b", "c"],
      { attribute: "x", value: { kind: "string", value: "y" } },
      {
        ...context,
        signal: controller.signal,
      },
    );
    expect(results.size).toBe(1);
    expect(breaker.current).toBe("half-open"); // not closed by a call that was cut short
  });
});
