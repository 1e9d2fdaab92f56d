import type { UpdateCommand } from "../../domain/command.js";
import { combineFailures, type VendorFailure } from "../../domain/failures.js";
import { isRepeatSafe, type AttributeOperation } from "../../domain/operations.js";
import { delivered, failed, type DeliveryOutcome } from "../../domain/results.js";
import type { BulkCallPlan, BulkChange, CallContext } from "../../domain/vendor.js";
import type { RateBudget } from "../../pacing/budget.js";
import { credentialKey } from "../../pacing/pacer.js";
import { mapWithConcurrency } from "../../util/concurrency.js";
import type { AdapterDeps, ClosableAdapter } from "../define-vendor.js";
import { JiguangClient } from "./client.js";
import type { JiguangConfig } from "./config.js";
import { interpret } from "./errors.js";
import { CuidResolver, MAX_VALUES_PER_LOOKUP, type CuidOutcome } from "./identity.js";
import type { LongText } from "./long-json.js";
import { buildWrite, type JiguangWrite, type MappingSettings } from "./mapper.js";

/** Writes of one bulk chunk in flight at once; the shared pacer sets the actual rate. */
const BULK_WRITES_IN_FLIGHT = 32;

export class JiguangAdapter implements ClosableAdapter {
  private readonly client: JiguangClient;
  private readonly pacer: RateBudget;
  private readonly settings: MappingSettings;
  private readonly resolver: CuidResolver;

  private readonly identityName: string | undefined;
  private readonly pacedRate: number;

  constructor(config: JiguangConfig, deps: AdapterDeps) {
    this.identityName = config.identityName;
    this.pacedRate = config.ratePerSecond;
    // Jiguang limits per project.
    const credential = credentialKey("jiguang", config.projectId);
    // At the granted QPS: the budget's own margin for arrivals that bunch (WINDOW_SLACK_MS) holds a
    // strict sliding second, as for every vendor (bench/RESULTS.md, shared budget).
    this.pacer = deps.pacers.get(credential, config.ratePerSecond, { maxWaitMs: config.timeoutMs });
    this.client = new JiguangClient(config, deps, this.pacer);
    this.settings = { timeZone: config.timeZone, ...(config.catalog ? { catalog: config.catalog } : {}) };
    const identityName = config.identityName;
    this.resolver = new CuidResolver(identityName, `${credential}:${identityName ?? ""}`, async (values, context) => {
      await this.pacer.acquire(context);
      const result = await this.client.register(identityName!, values, context);
      const answer = interpret(result, { what: "the CUID look-up" });
      return answer.ok ? { ok: true, data: answer.envelope.data } : answer;
    });
  }

  async update(command: UpdateCommand, context: CallContext): Promise<DeliveryOutcome> {
    // Every check first: a command Jiguang would not apply as asked costs no request at all.
    const built = buildWrite(command, this.settings);
    if (!built.ok) return failed(combineFailures(built.failures));
    if (Object.keys(built.write.data).length === 0) return delivered("jiguang", built.write.warnings);
    const cuid = await this.resolver.resolve(command.userId, context);
    if (!cuid.ok) return failed(cuid.failure);
    // A cancelled wait throws, as the bulk engine expects: nothing was sent for this user.
    await this.pacer.acquire(context);
    return this.send(cuid.cuid, built.write, command.operations, context);
  }

  /**
   * The bulk path. Jiguang writes one user per call, so what this adds over `update` is the CUID
   * look-ups: one Get-CUID call for the whole chunk (≤ 100 users) instead of one per few users.
   * A chunk in flight is finished even when the job is cancelled (about a second at 100 QPS):
   * the engine counts a chunk as a whole, and a user whose write was sent must not be counted as
   * cancelled.
   */
  async setForMany(userIds: readonly string[], change: BulkChange, context: CallContext): Promise<ReadonlyMap<string, DeliveryOutcome>> {
    const operations: AttributeOperation[] = [{ kind: "SET", attribute: change.attribute, value: change.value }];
    const built = buildWrite({ userId: "", operations, profile: {}, tags: { add: [], remove: [] }, vendorOptions: {} }, this.settings);
    if (!built.ok) {
      const failure = failed(combineFailures(built.failures));
      return new Map(userIds.map((id) => [id, failure]));
    }
    // Bulk work: no caller waits, so pacing waits as long as Jiguang asks (no deadline, no cancel).
    // Everything else of the call (a dry run, a sandbox fault) carries over.
    const { signal: _, ...call } = context;
    const committed: CallContext = { ...call, background: true };
    const cuids = await this.resolver.resolveMany(userIds, committed);
    const outcomes = await mapWithConcurrency(userIds, BULK_WRITES_IN_FLIGHT, async (id) => {
      const cuid = cuids.get(id)!;
      if (!cuid.ok) return failed(cuid.failure);
      await this.pacer.acquire(committed);
      return this.send(cuid.cuid, built.write, operations, committed);
    });
    return new Map(userIds.map((id, i) => [id, outcomes[i]!]));
  }

  isRepeatSafe(command: UpdateCommand): boolean {
    return this.repeatSafe(command.operations);
  }

  /** Everything Jiguang would refuse in this command for any user (the catalog and encoding checks); nothing is sent. */
  /** One PUT per user (Jiguang has no bulk write); with mapped user ids, their CUIDs looked up 100 at a time. */
  planBulk(userCount: number): BulkCallPlan {
    return {
      path: this.identityName
        ? `PUT user/attribute, one per user; CUIDs looked up (POST user/register) ${MAX_VALUES_PER_LOOKUP} ids at a time`
        : "PUT user/attribute, one per user",
      writes: userCount,
      lookups: this.identityName ? Math.ceil(userCount / MAX_VALUES_PER_LOOKUP) : 0,
      ratePerSecond: this.pacedRate,
    };
  }

  check(command: UpdateCommand): readonly VendorFailure[] {
    const built = buildWrite(command, this.settings);
    return built.ok ? [] : built.failures;
  }

  /**
   * CUIDs for many users at once, for the bulk engine: one outcome per distinct id, with
   * ceil(distinct / 100) Get-CUID calls at most, cached in `context.scope` like `update`'s.
   */
  resolveCuids(userIds: readonly string[], context: CallContext): Promise<Map<string, CuidOutcome>> {
    return this.resolver.resolveMany(userIds, context);
  }

  close(): void {
    this.client.close();
  }

  private async send(
    cuid: LongText,
    write: JiguangWrite,
    operations: readonly AttributeOperation[],
    context: CallContext,
  ): Promise<DeliveryOutcome> {
    const result = await this.client.setAttributes(cuid, write.data, this.repeatSafe(operations), context);
    const answer = interpret(result, { what: "the attribute update", operations });
    if (!answer.ok) return failed(answer.failure);
    return delivered("jiguang", write.warnings, answer.status);
  }

  /**
   * With a catalog, each operation matched its attribute's rule, so the domain's notion holds.
   * Without one, any attribute may accumulate or append, so no write is known to be repeat-safe.
   */
  private repeatSafe(operations: readonly AttributeOperation[]): boolean {
    return this.settings.catalog !== undefined && operations.every(isRepeatSafe);
  }
}
