import type { UpdateCommand } from "../../domain/command.js";
import { combineFailures, vendorFailure, type VendorFailure } from "../../domain/failures.js";
import type { ProfileReadOutcome } from "../../domain/profile-read.js";
import { delivered, failed, type DeliveryOutcome, type DeliveryWarning } from "../../domain/results.js";
import { endedBeforeSending, isCancellation, type BulkCallPlan, type BulkChange, type CallContext } from "../../domain/vendor.js";
import type { HttpResult } from "../../http/client.js";
import { chunk } from "../../util/concurrency.js";
import type { AdapterDeps, ClosableAdapter } from "../define-vendor.js";
import { UserComClient } from "./client.js";
import type { UserComConfig } from "./config.js";
import { failureFor, undocumentedAnswer, type CallDescription } from "./errors.js";
import { userLoader, type UserLookup } from "./identity.js";
import { attributeNameProblem, buildUpdatePlan, customIdProblem, mapCustomValue, type PutStep, type UpdatePlan } from "./mapper.js";
import { asUser, findStored, missingLists, storedAttributes, storedTags, toVendorProfile, verifyPut } from "./read-back.js";

const VENDOR = "usercom";

type Response = Extract<HttpResult, { kind: "response" }>;

/**
 * User.com behind the vendor interface. One update can take several calls, always in this order:
 * 1. `PUT /users-by-id/:custom_id/` with profile fields, custom attributes and tags to add;
 * 2. `POST …/remove_attribute/` once per UNSET attribute;
 * 3. `POST …/remove_tag/` once per tag to remove.
 * The PUT goes first because it carries most of the update and is the call User.com validates
 * as a whole: a 400 there means nothing at all was applied. The first failing call stops the
 * sequence, and the failure's message lists what was applied before it, whether the failing call
 * may have taken effect (timeouts, 5xx) and what was not attempted. Every call is repeat-safe
 * (set, remove, add-only tags), so sending the whole update again after a partial failure is safe.
 */
export class UserComAdapter implements ClosableAdapter {
  private readonly client: UserComClient;
  private readonly onUnexpectedError: (error: unknown, requestId: string) => void;

  constructor(
    private readonly config: UserComConfig,
    deps: AdapterDeps,
  ) {
    const pacer = deps.pacers.forCredential("usercom", config.apiKey, config.ratePerSecond, { maxWaitMs: config.timeoutMs });
    this.client = new UserComClient(config, pacer, deps);
    this.onUnexpectedError = deps.onUnexpectedError ?? (() => undefined);
  }

  /** What User.com would refuse in this command for any user, found without sending. */
  /** Each custom id resolved to User.com's id (one GET per user), then mass updates of USERCOM_MASS_UPDATE_CHUNK_SIZE ids. */
  planBulk(userCount: number): BulkCallPlan {
    const chunk = this.config.massUpdateChunkSize;
    return {
      path: `${this.config.massUpdateMethod} users/mass_update_custom_attributes/, ${chunk} ids per call; each id looked up first (GET users-by-id/{custom_id}/)`,
      writes: Math.ceil(userCount / chunk),
      lookups: userCount,
      ratePerSecond: this.config.ratePerSecond,
    };
  }

  check(command: UpdateCommand): readonly VendorFailure[] {
    const built = buildUpdatePlan(command, this.config);
    return built.ok ? [] : built.failures;
  }

  async update(command: UpdateCommand, context: CallContext): Promise<DeliveryOutcome> {
    const idProblem = customIdProblem(command.userId);
    if (idProblem) return failed(vendorFailure("VALUE_REJECTED", VENDOR, idProblem, { retryable: false }));
    const built = buildUpdatePlan(command, this.config);
    if (!built.ok) return failed(combineFailures(built.failures));
    const plan = built.value;
    const log = new StepLog(plan);
    const warnings: DeliveryWarning[] = [...plan.warnings];
    const loader = userLoader(this.client, this.config, context);
    let lastStatus: number | undefined;

    if (plan.put) {
      const call: CallDescription = { kind: "update", customId: plan.customId, origins: plan.origins };
      const result = await this.client.updateUser(plan.customId, plan.put, context);
      loader.clear(plan.customId); // whatever happened, an earlier read of this user is stale
      const failure = failureFor(result, call);
      if (failure) return failed(log.failedAt(failure, mayHaveApplied(result), command.createIfMissing === true));
      const response = result as Response;
      const user = asUser(response.json);
      if (!user) return failed(log.failedAt(undocumentedAnswer(response, call, "the updated user object"), true));
      const missing = missingLists(plan.put, user);
      if (missing) return failed(log.failedAt(undocumentedAnswer(response, call, missing), true));
      loader.prime(plan.customId, { ok: true, user });
      const verified = verifyPut(plan.put, user, this.config.unknownAttributes, response.status);
      if (verified.failures.length > 0) return failed(log.putNotKept(verified.failures));
      warnings.push(...verified.warnings);
      log.putApplied();
      lastStatus = response.status;
    }

    for (const attribute of plan.removeAttributes) {
      const call: CallDescription = { kind: "removeAttribute", customId: plan.customId, attribute };
      const result = await this.client.removeAttribute(plan.customId, attribute, context);
      loader.clear(plan.customId);
      const failure = failureFor(result, call) ?? removalProblem(result as Response, call);
      if (failure) return failed(log.failedAt(failure, mayHaveApplied(result)));
      log.applied(`removed attribute "${attribute}"`);
      lastStatus = (result as Response).status;
    }

    for (const tag of plan.removeTags) {
      const call: CallDescription = { kind: "removeTag", customId: plan.customId, tag };
      const result = await this.client.removeTag(plan.customId, tag, context);
      loader.clear(plan.customId);
      const failure = failureFor(result, call) ?? removalProblem(result as Response, call);
      if (failure) return failed(log.failedAt(failure, mayHaveApplied(result)));
      log.applied(`removed tag "${tag}"`);
      lastStatus = (result as Response).status;
    }

    return delivered(VENDOR, warnings, lastStatus);
  }

  /** Profiles from `GET /users-by-id/:custom_id/`, through the request's look-up loader (shared with id resolution). */
  async readProfiles(userIds: readonly string[], context: CallContext): Promise<ReadonlyMap<string, ProfileReadOutcome>> {
    const loader = userLoader(this.client, this.config, context);
    const lookups = await loader.loadMany(userIds);
    const out = new Map<string, ProfileReadOutcome>();
    userIds.forEach((userId, index) => {
      const lookup = this.settled(lookups[index], context);
      out.set(
        userId,
        lookup.ok ? { ok: true, profile: toVendorProfile(userId, lookup.user, this.config) } : { ok: false, failure: lookup.failure },
      );
    });
    return out;
  }

  /**
   * The native bulk path: one custom attribute, one value, many users, through
   * `/users/mass_update_custom_attributes/`, which takes User.com's internal ids. Custom ids are
   * resolved (batched, cached per request) a mass-update chunk at a time, and each chunk of
   * USERCOM_MASS_UPDATE_CHUNK_SIZE resolved ids is sent while the next ones are being looked up, so
   * neither the look-ups nor the vendor's pacer wait for a mass update. At most one mass update is in
   * flight per call, and look-ups keep their own concurrency bound. Returns one outcome per distinct
   * custom id, in input order. An id that does not resolve fails alone; a chunk that fails fails its
   * users with its typed failure.
   */
  async setForMany(customIds: readonly string[], change: BulkChange, context: CallContext): Promise<ReadonlyMap<string, DeliveryOutcome>> {
    const { attribute, value } = change;
    const unique = [...new Set(customIds)];
    const outcomes = new Map<string, DeliveryOutcome>();
    const nameProblem = attributeNameProblem(attribute, "SET");
    const mapped = nameProblem ? ({ ok: false, failures: [nameProblem] } as const) : mapCustomValue(attribute, value, this.config);
    if (!mapped.ok) {
      const failure = combineFailures(mapped.failures);
      return new Map(unique.map((id) => [id, failed(failure)]));
    }

    const loader = userLoader(this.client, this.config, context);
    const chunkSize = this.config.massUpdateChunkSize;
    const sendChunk = async (group: ReadonlyArray<{ customId: string; id: number }>): Promise<void> => {
      const ids = group.map((member) => member.id);
      const call: CallDescription = { kind: "massUpdate", attribute, method: this.config.massUpdateMethod, ids: ids.length };
      let result: HttpResult;
      try {
        result = await this.client.massUpdateCustomAttribute(ids, attribute, mapped.value.value, context);
      } catch (error) {
        if (isCancellation(error, context.signal)) return; // these users keep no outcome: cancelled, not sent
        throw error;
      }
      for (const member of group) loader.clear(member.customId); // their cached objects are stale now
      const failure = failureFor(result, call) ?? massUpdateProblem(result as Response, call);
      const outcome = failure ? failed(failure) : delivered(VENDOR, mapped.value.warnings, (result as Response).status);
      for (const member of group) outcomes.set(member.customId, outcome);
    };

    const resolved: Array<{ customId: string; id: number }> = [];
    let inFlight: Promise<void> | undefined;
    const send = async (group: Array<{ customId: string; id: number }>): Promise<void> => {
      await inFlight; // one mass update at a time
      inFlight = sendChunk(group);
    };
    try {
      for (const lookupGroup of chunk(unique, chunkSize)) {
        const lookups = await loader.loadMany(lookupGroup);
        lookupGroup.forEach((customId, index) => {
          const lookup = this.settled(lookups[index], context);
          if (lookup.ok) resolved.push({ customId, id: lookup.user.id });
          else outcomes.set(customId, failed(lookup.failure));
        });
        while (resolved.length >= chunkSize) await send(resolved.splice(0, chunkSize));
      }
      if (resolved.length > 0) await send(resolved);
    } catch (error) {
      // Cancelled while looking up: users not yet in a sent mass update are left out (cancelled);
      // those already sent or failed keep their outcomes.
      if (!isCancellation(error, context.signal)) throw error;
    } finally {
      // A mass update already sent still completes before this returns.
      await inFlight?.catch(() => undefined);
    }
    await inFlight;
    // Only a cancel leaves users without an outcome (the bulk engine counts them cancelled).
    return new Map(unique.flatMap((id) => (outcomes.has(id) ? [[id, outcomes.get(id)!] as const] : [])));
  }

  close(): void {
    this.client.close();
  }

  /**
   * DataLoader hands back an Error when the batch threw. The only expected throw is a pacing wait
   * given up on cancellation (nothing sent), which is passed on as a throw, as callers expect. Any
   * other, also during a cancel, is a bug: its users get a typed INTERNAL failure and the error goes
   * to the logs, and users of mass updates already sent keep their outcomes.
   */
  private settled(value: UserLookup | Error | undefined, context: CallContext): UserLookup {
    if (value instanceof Error && endedBeforeSending(value, context.signal)) throw value;
    if (value === undefined || value instanceof Error) {
      this.onUnexpectedError(value ?? new Error("DataLoader returned no value for a key"), context.requestId);
      return {
        ok: false,
        failure: vendorFailure("INTERNAL", VENDOR, "the User.com user look-up failed unexpectedly", { retryable: false }),
      };
    }
    return value;
  }
}

/** One pacer per credential, shared with every other User.com caller in the process; the key is hashed. */

/** Whether a failed call may still have changed something at User.com. */
function mayHaveApplied(result: HttpResult): boolean {
  if (result.kind === "timeout") return true;
  if (result.kind === "network") return result.mayHaveReachedVendor;
  return result.status >= 500 || (result.status >= 200 && result.status < 300);
}

/**
 * The removal endpoints' answers are not documented. Accepted: an empty 2xx, `{"status": "ok"}`,
 * or the user object, which must then no longer hold what was removed.
 */
function removalProblem(
  result: Response,
  call: Extract<CallDescription, { kind: "removeAttribute" | "removeTag" }>,
): VendorFailure | undefined {
  if (result.text.trim() === "") return undefined;
  if (isStatusOk(result.json)) return undefined;
  const user = asUser(result.json);
  if (!user) return undocumentedAnswer(result, call, 'an empty body, {"status": "ok"} or the user object');
  if (call.kind === "removeAttribute") {
    const still = findStored(storedAttributes(user) ?? [], call.attribute);
    if (still && still.value !== null) {
      return vendorFailure(
        "VALUE_REJECTED",
        VENDOR,
        `User.com answered ${result.status} to removing "${call.attribute}" but the user still holds it`,
        {
          httpStatus: result.status,
          attribute: call.attribute,
          operation: "UNSET",
          retryable: false,
        },
      );
    }
    return undefined;
  }
  if ((storedTags(user) ?? []).includes(call.tag)) {
    return vendorFailure(
      "VALUE_REJECTED",
      VENDOR,
      `User.com answered ${result.status} to removing tag "${call.tag}" but the user still has it`,
      {
        httpStatus: result.status,
        attribute: call.tag,
        retryable: false,
      },
    );
  }
  return undefined;
}

/** Mass update answers `{"status": "ok"}` (as the documented standard-attribute variant does); nothing else counts. */
function massUpdateProblem(result: Response, call: CallDescription): VendorFailure | undefined {
  return isStatusOk(result.json) ? undefined : undocumentedAnswer(result, call, '{"status": "ok"}');
}

function isStatusOk(json: unknown): boolean {
  return typeof json === "object" && json !== null && (json as { status?: unknown }).status === "ok";
}

/** What an update has applied so far, so that a failure can say exactly that. */
class StepLog {
  private readonly done: string[] = [];
  private readonly pending: string[];

  constructor(private readonly plan: UpdatePlan) {
    this.pending = [
      ...(plan.put ? [putLabel(plan.put)] : []),
      ...plan.removeAttributes.map((a) => `removing attribute "${a}"`),
      ...plan.removeTags.map((t) => `removing tag "${t}"`),
    ];
  }

  applied(label: string): void {
    this.done.push(label);
    this.pending.shift();
  }

  putApplied(): void {
    this.done.push(...putParts(this.plan.put!));
    this.pending.shift();
  }

  /** The current call failed; `uncertain` when it may have taken effect anyway. */
  failedAt(failure: VendorFailure, uncertain: boolean, createRequested = false): VendorFailure {
    const [current, ...rest] = this.pending;
    const sentences = [
      this.done.length > 0
        ? `Applied before this failure: ${this.done.join("; ")}.`
        : uncertain
          ? "Nothing else was applied."
          : "Nothing was applied.",
      uncertain ? `Whether ${current} took effect is unknown.` : "",
      rest.length > 0 ? `Not attempted: ${rest.join("; ")}.` : "",
      createRequested && failure.category === "USER_NOT_FOUND"
        ? "User.com's update by custom id never creates users, so createIfMissing cannot be honoured."
        : "",
    ].filter((s) => s.length > 0);
    return { ...failure, message: appendSentences(failure.message, sentences) };
  }

  /** The PUT was applied, but User.com did not keep some of it as sent. */
  putNotKept(failures: VendorFailure[]): VendorFailure {
    const put = this.plan.put!;
    // Custom attribute failures carry operation SET; profile fields and tags carry none.
    const lostAttributes = new Set(failures.filter((f) => f.operation === "SET").map((f) => f.attribute!));
    const lostOther = new Set(failures.filter((f) => f.operation === undefined).map((f) => f.attribute!));
    const kept = putParts(put, lostAttributes, lostOther);
    this.pending.shift();
    const primary = combineFailures(failures);
    const sentences = [
      kept.length > 0 || this.done.length > 0
        ? `The rest of the update was applied: ${[...this.done, ...kept].join("; ")}.`
        : "Nothing else of the update was kept.",
      this.pending.length > 0 ? `Not attempted: ${this.pending.join("; ")}.` : "",
    ].filter((s) => s.length > 0);
    return { ...primary, message: appendSentences(primary.message, sentences) };
  }
}

function appendSentences(message: string, sentences: readonly string[]): string {
  return `${message}${/[.!?]$/.test(message) ? "" : "."} ${sentences.join(" ")}`;
}

function putLabel(put: PutStep): string {
  return `the update (${putParts(put).join("; ")})`;
}

function putParts(put: PutStep, lostAttributes: ReadonlySet<string> = new Set(), lostOther: ReadonlySet<string> = new Set()): string[] {
  const fields = put.profile.map((p) => p.field).filter((f) => !lostOther.has(f));
  const attributes = put.attributes.map((a) => a.key).filter((a) => !lostAttributes.has(a));
  const tags = put.tags.filter((t) => !lostOther.has(t));
  return [
    ...(fields.length > 0 ? [`set profile fields ${fields.join(", ")}`] : []),
    ...(attributes.length > 0 ? [`set attributes ${attributes.map((a) => `"${a}"`).join(", ")}`] : []),
    ...(tags.length > 0 ? [`added tags ${tags.map((t) => `"${t}"`).join(", ")}`] : []),
  ];
}
