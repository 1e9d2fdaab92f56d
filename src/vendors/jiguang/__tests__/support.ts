import { validateUpdate, type RawOperation, type UpdateCommand } from "../../../domain/command.js";
import { RequestScope } from "../../../domain/scope.js";
import type { CallContext } from "../../../domain/vendor.js";
import { NO_RETRIES, type VendorCallRecord } from "../../../http/client.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import type { Env } from "../../define-vendor.js";
import { JiguangAdapter } from "../adapter.js";
import { readJiguangConfig, type JiguangConfig } from "../config.js";
import { jiguang } from "../index.js";
import { startJiguangSandbox, type JiguangSandbox, type JiguangSandboxOptions } from "../sandbox.js";

/** These adapters run with test timeouts of a few hundred ms; a 429 test's pause must delay, not refuse, the next test. */
const UNBOUNDED_WAITS = { maxWaitMs: 60_000 };

/** Fast enough that pacing never slows a functional test; pacing has its own tests. */
export const FAST = { JIGUANG_RATE_LIMIT: "100000" } as const;

export interface Harness {
  readonly sandbox: JiguangSandbox;
  readonly adapter: JiguangAdapter;
  readonly config: JiguangConfig;
  readonly calls: VendorCallRecord[];
  close(): Promise<void>;
}

/** A sandbox and an adapter configured for it exactly as the runtime would (sandboxEnv), plus overrides. */
export async function startHarness(options: { sandbox?: JiguangSandboxOptions; env?: Env; pacers?: PacerRegistry } = {}): Promise<Harness> {
  const sandbox = await startJiguangSandbox({ rateLimitPerSecond: 100_000, seedUserIds: ["1", "2", "3"], ...options.sandbox });
  try {
    const { adapter, config, calls } = adapterFor(sandbox, options.env, options.pacers);
    return {
      sandbox,
      adapter,
      config,
      calls,
      async close() {
        adapter.close();
        await sandbox.close();
      },
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/** Another adapter on a running sandbox (for example with a wrong secret). The caller closes it. */
export function adapterFor(
  sandbox: JiguangSandbox,
  env: Env = {},
  pacers: PacerRegistry = new PacerRegistry(UNBOUNDED_WAITS),
): { adapter: JiguangAdapter; config: JiguangConfig; calls: VendorCallRecord[] } {
  const result = readJiguangConfig({ ...jiguang.sandboxEnv(sandbox.url), ...FAST, ...env });
  if (result.status !== "configured") throw new Error(`test configuration is not usable: ${JSON.stringify(result)}`);
  const calls: VendorCallRecord[] = [];
  const adapter = new JiguangAdapter(result.config, { pacers, retry: NO_RETRIES, onCall: (c) => calls.push(c) });
  return { adapter, config: result.config, calls };
}

/** A validated command, built the way the GraphQL layer builds it. */
export function command(userId: string, operations: readonly RawOperation[]): UpdateCommand {
  const validated = validateUpdate({ userId, operations });
  if (!validated.ok) throw new Error(`invalid test command: ${JSON.stringify(validated.problems)}`);
  return { ...validated.value, vendorOptions: {} };
}

export function context(scope: RequestScope = new RequestScope()): CallContext {
  return { requestId: "test-request", scope };
}

/** The parsed bodies of the requests the sandbox received on one path, oldest first. */
export function bodies(sandbox: JiguangSandbox, path: "attribute" | "register"): unknown[] {
  return sandbox
    .journal()
    .filter((entry) => entry.path.endsWith(`/user/${path}`))
    .map((entry) => entry.body);
}
