import type { UpdateCommand } from "../../../domain/command.js";
import type { AttributeOperation } from "../../../domain/operations.js";
import type { ProfileFields } from "../../../domain/profile.js";
import { RequestScope } from "../../../domain/scope.js";
import type { CallContext } from "../../../domain/vendor.js";
import { NO_RETRIES, type RetryPolicy, type VendorCallRecord } from "../../../http/client.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import { LeanplumAdapter } from "../adapter.js";
import { readLeanplumConfig, type LeanplumConfig } from "../config.js";
import { leanplum } from "../index.js";
import type { LeanplumOptions } from "../options.js";
import type { LeanplumSandbox } from "../sandbox.js";

/** These adapters run with test timeouts of a few hundred ms; a 429 test's pause must delay, not refuse, the next test. */
const UNBOUNDED_WAITS = { maxWaitMs: 60_000 };

export function command(
  userId: string,
  operations: AttributeOperation[],
  extra: { profile?: ProfileFields; createIfMissing?: boolean; options?: LeanplumOptions } = {},
): UpdateCommand {
  return {
    userId,
    operations,
    profile: extra.profile ?? {},
    tags: { add: [], remove: [] },
    vendorOptions: extra.options ? { leanplum: extra.options } : {},
    ...(extra.createIfMissing === undefined ? {} : { createIfMissing: extra.createIfMissing }),
  };
}

let counter = 0;
export function context(): CallContext {
  return { requestId: `test-${++counter}`, scope: new RequestScope() };
}

/** The configuration the runtime would build for this sandbox, with overrides. */
export function sandboxConfig(sandbox: LeanplumSandbox, env: Record<string, string | undefined> = {}): LeanplumConfig {
  const result = readLeanplumConfig({ ...leanplum.sandboxEnv(sandbox.url), ...env });
  if (result.status !== "configured") throw new Error(`sandbox config not usable: ${JSON.stringify(result)}`);
  return result.config;
}

/** An adapter on the sandbox; without retries unless given, so that each fault is answered as it is. */
export function adapterFor(
  sandbox: LeanplumSandbox,
  env: Record<string, string | undefined> = {},
  retry: RetryPolicy = NO_RETRIES,
): { adapter: LeanplumAdapter; calls: VendorCallRecord[] } {
  const calls: VendorCallRecord[] = [];
  const adapter = new LeanplumAdapter(sandboxConfig(sandbox, env), {
    pacers: new PacerRegistry(UNBOUNDED_WAITS),
    retry,
    onCall: (call) => calls.push(call),
  });
  return { adapter, calls };
}
