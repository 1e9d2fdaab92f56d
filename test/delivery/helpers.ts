import { expect } from "@jest/globals";
import { randomUUID } from "node:crypto";
import type { UpdateCommand } from "../../src/domain/command.js";
import { RequestScope } from "../../src/domain/scope.js";
import type { CallContext } from "../../src/domain/vendor.js";
import type { DeliveryEngine } from "../../src/delivery/engine.js";
import { isQueued, type DeliveryRecord, type QueuedDelivery, type UpdateOutcome } from "../../src/delivery/types.js";
import type { JournalEntry } from "../../src/sandbox/kit.js";

/**
 * Helpers for the delivery engine's tests (test/delivery, test/shared/deliveries.test.ts): commands
 * built the way validation builds them, a fresh call context, and polling with generous bounds
 * (never a timing threshold: a test waits for a state, and fails only when it never comes).
 */

const NO_TAGS = { add: [], remove: [] } as const;

export function setCommand(userId: string, attribute: string, value: string): UpdateCommand {
  return {
    userId,
    operations: [{ kind: "SET", attribute, value: { kind: "string", value } }],
    profile: {},
    tags: NO_TAGS,
    vendorOptions: {},
  };
}

export const setPlan = (userId: string, plan: string): UpdateCommand => setCommand(userId, "plan", plan);

export function incrementCommand(userId: string, attribute: string, by: number): UpdateCommand {
  return {
    userId,
    operations: [{ kind: "INCREMENT", attribute, value: { kind: "int", value: by } }],
    profile: {},
    tags: NO_TAGS,
    vendorOptions: {},
  };
}

export function callContext(extra: { readonly sandboxFault?: string } = {}): CallContext {
  return { requestId: `test-${randomUUID()}`, scope: new RequestScope(), ...extra };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The delivery once it is no longer QUEUED. */
export function settled(engine: Pick<DeliveryEngine, "get">, id: string, timeoutMs = 20_000): Promise<DeliveryRecord> {
  return waitFor(
    `delivery ${id} to settle`,
    async () => {
      const record = await engine.get(id);
      return record && record.status !== "QUEUED" ? record : undefined;
    },
    timeoutMs,
  );
}

/** The outcome, asserted to be queued. */
export function asQueued(outcome: UpdateOutcome | undefined): QueuedDelivery {
  expect(outcome).toBeDefined();
  if (!outcome || !isQueued(outcome)) throw new Error(`expected a queued delivery, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The request body of a sandbox journal entry, as text (to find a value in it). */
export const bodyText = (entry: JournalEntry): string => JSON.stringify(entry.body);
