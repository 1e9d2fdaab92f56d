import type { UpdateCommand } from "../../../domain/command.js";
import type { DeliveryOutcome } from "../../../domain/results.js";
import { RequestScope } from "../../../domain/scope.js";
import type { CallContext, Vendor } from "../../../domain/vendor.js";
import { NO_RETRIES } from "../../../http/client.js";
import { PacerRegistry } from "../../../pacing/pacer.js";
import type { JournalEntry } from "../../../sandbox/kit.js";
import type { Env } from "../../define-vendor.js";
import { UserComAdapter } from "../adapter.js";
import { readUserComConfig, type UserComConfig } from "../config.js";
import { usercom } from "../index.js";
import { startUserComSandbox, type UserComSandbox, type UserComSandboxOptions } from "../sandbox.js";

/** These adapters run with test timeouts of a few hundred ms; a 429 test's pause must delay, not refuse, the next test. */
const UNBOUNDED_WAITS = { maxWaitMs: 60_000 };

export interface Harness {
  readonly sandbox: UserComSandbox;
  readonly adapter: UserComAdapter;
  readonly config: UserComConfig;
  readonly pacers: PacerRegistry;
  /** The adapter as the dispatcher sees it, for capability checks. */
  readonly vendor: Vendor;
  /** A fresh request scope, as one GraphQL operation gets. */
  context(scope?: RequestScope): CallContext;
  /** The journal without admin traffic, reduced to what tests compare. */
  calls(): Array<{ method: string; path: string; body: unknown }>;
  close(): Promise<void>;
}

/**
 * A sandbox on loopback and an adapter configured against it, as the runtime would build them.
 * The pacing rate is raised so that tests never wait on it; tests about pacing set their own.
 */
export async function startHarness(
  options: {
    sandbox?: UserComSandboxOptions;
    env?: Env;
    seed?: readonly string[];
    onUnexpectedError?: (error: unknown, requestId: string) => void;
  } = {},
): Promise<Harness> {
  // The sandbox's own limit well above the adapter's pace (its default, 100/s, is the vendor's): a test
  // sending more than 100 calls must not meet a 429 it did not ask for.
  const sandbox = await startUserComSandbox({
    seedUserIds: options.seed ?? ["1", "2", "3"],
    rateLimitPerSecond: 20_000,
    ...options.sandbox,
  });
  const result = readUserComConfig({ ...usercom.sandboxEnv(sandbox.url), USERCOM_RATE_LIMIT: "10000", ...options.env });
  if (result.status !== "configured") {
    await sandbox.close();
    throw new Error(`test configuration is not usable: ${JSON.stringify(result)}`);
  }
  const pacers = new PacerRegistry(UNBOUNDED_WAITS);
  const adapter = new UserComAdapter(result.config, {
    pacers,
    retry: NO_RETRIES,
    ...(options.onUnexpectedError ? { onUnexpectedError: options.onUnexpectedError } : {}),
  });
  let requests = 0;
  return {
    sandbox,
    adapter,
    config: result.config,
    pacers,
    vendor: { id: "usercom", displayName: "User.com", capabilities: usercom.capabilities, mode: "sandbox", adapter },
    context(scope = new RequestScope()) {
      return { requestId: `test-${++requests}`, scope };
    },
    calls() {
      return sandbox.journal().map((entry: JournalEntry) => ({ method: entry.method, path: entry.path, body: entry.body }));
    },
    async close() {
      adapter.close();
      await sandbox.close();
    },
  };
}

export function command(partial: Partial<UpdateCommand> & { userId?: string }): UpdateCommand {
  return {
    userId: partial.userId ?? "1",
    operations: partial.operations ?? [],
    profile: partial.profile ?? {},
    tags: partial.tags ?? { add: [], remove: [] },
    vendorOptions: {},
    ...(partial.createIfMissing === undefined ? {} : { createIfMissing: partial.createIfMissing }),
  };
}

export function failureOf(outcome: DeliveryOutcome | undefined) {
  if (!outcome || outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.failure;
}

export function successOf(outcome: DeliveryOutcome | undefined) {
  if (!outcome?.ok) throw new Error(`expected a success, got ${JSON.stringify(outcome)}`);
  return outcome;
}

export const API = "/api/public";
