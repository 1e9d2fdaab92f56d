import type { UpdateCommand } from "../../domain/command.js";
import { combineFailures, type VendorFailure } from "../../domain/failures.js";
import type { ProfileReadOutcome } from "../../domain/profile-read.js";
import { delivered, failed, type DeliveryOutcome } from "../../domain/results.js";
import type { BulkCallPlan, BulkChange, CallContext } from "../../domain/vendor.js";
import { mapWithConcurrency } from "../../util/concurrency.js";
import type { AdapterDeps, ClosableAdapter } from "../define-vendor.js";
import { leanplumCapabilities, MULTI_LIMITS } from "./capabilities.js";
import { LeanplumClient, chunkForMulti } from "./client.js";
import type { LeanplumConfig } from "./config.js";
import { exportKeyMissing } from "./errors.js";
import { buildAction, setCommand, VENDOR, type LeanplumAction } from "./mapper.js";

/** `multi` calls one `updateMany` keeps in flight (each holds up to 50 users' turns). */
const MULTI_CONCURRENCY = leanplumCapabilities.bulk?.concurrency ?? 1;

export class LeanplumAdapter implements ClosableAdapter {
  readonly client: LeanplumClient;

  constructor(
    private readonly config: LeanplumConfig,
    deps: AdapterDeps,
  ) {
    this.client = new LeanplumClient(config, deps);
  }

  /** `multi`: up to its user limit per call. */
  planBulk(userCount: number): BulkCallPlan {
    return {
      path: `POST ?action=multi, ${MULTI_LIMITS.maxUsers} users per call`,
      writes: Math.ceil(userCount / MULTI_LIMITS.maxUsers),
      lookups: 0,
      ratePerSecond: this.config.ratePerSecond,
    };
  }

  /** What Leanplum would refuse for any user: the command is checked under a stand-in id, so id rules are left to each user's own outcome. */
  check(command: UpdateCommand): readonly VendorFailure[] {
    const built = buildAction({ ...command, userId: "leanplum-check" });
    return built.ok ? [] : built.failures;
  }

  async update(command: UpdateCommand, context: CallContext): Promise<DeliveryOutcome> {
    const built = buildAction(command);
    if (!built.ok) return failed(combineFailures(built.failures));
    const outcome = await this.client.setUserAttributes(built.action, context);
    return outcome.ok ? delivered(VENDOR, [], outcome.httpStatus) : failed(outcome.failure);
  }

  /**
   * Several users' updates through `multi`, one outcome per command in input order. Commands that
   * fail mapping are answered without being sent; the rest go out in batches that fit Leanplum's
   * multi limits. Built for the bulk engine.
   */
  async updateMany(commands: readonly UpdateCommand[], context: CallContext): Promise<DeliveryOutcome[]> {
    const outcomes = new Array<DeliveryOutcome>(commands.length);
    const actions: LeanplumAction[] = [];
    const origin: number[] = [];
    commands.forEach((command, index) => {
      const built = buildAction(command);
      if (!built.ok) {
        outcomes[index] = failed(combineFailures(built.failures));
        return;
      }
      actions.push(built.action);
      origin.push(index);
    });
    await mapWithConcurrency(chunkForMulti(actions), MULTI_CONCURRENCY, async (chunk) => {
      const results = await this.client.multi(
        chunk.map((i) => actions[i]!),
        context,
      );
      results.forEach((result, k) => {
        outcomes[origin[chunk[k]!]!] = result.ok ? delivered(VENDOR, [], result.httpStatus) : failed(result.failure);
      });
    });
    return outcomes;
  }

  /**
   * The bulk engine's native path: one attribute, one value, many users, through `multi` (the
   * engine sends at most `capabilities.bulk.chunkSize` ids; more are split here all the same).
   * Users are created when missing, as a single update without createIfMissing would.
   */
  async setForMany(userIds: readonly string[], change: BulkChange, context: CallContext): Promise<ReadonlyMap<string, DeliveryOutcome>> {
    const unique = [...new Set(userIds)];
    const outcomes = await this.updateMany(
      unique.map((id) => setCommand(id, change.attribute, change.value)),
      context,
    );
    return new Map(unique.map((id, index) => [id, outcomes[index]!]));
  }

  async readProfiles(userIds: readonly string[], context: CallContext): Promise<ReadonlyMap<string, ProfileReadOutcome>> {
    const unique = [...new Set(userIds)];
    const outcomes = new Map<string, ProfileReadOutcome>();
    if (this.config.exportKey === undefined) {
      for (const id of unique) outcomes.set(id, { ok: false, failure: exportKeyMissing() });
      return outcomes;
    }
    const results = await mapWithConcurrency(unique, this.config.readConcurrency, (id) => this.client.exportUser(id, context));
    unique.forEach((id, index) => outcomes.set(id, results[index]!));
    return outcomes;
  }

  close(): void {
    this.client.close();
  }
}
