import type { UpdateCommand } from "../../domain/command.js";
import { combineFailures, vendorFailure, type VendorFailure } from "../../domain/failures.js";
import { delivered, failed, type DeliveryOutcome } from "../../domain/results.js";
import type { BulkCallPlan, CallContext } from "../../domain/vendor.js";
import { pathSegmentProblem } from "../../http/path.js";
import type { RateBudget } from "../../pacing/budget.js";
import type { AdapterDeps, ClosableAdapter } from "../define-vendor.js";
import { CarnivalClient } from "./client.js";
import type { CarnivalConfig } from "./config.js";
import { discardedKeys, failureFor } from "./errors.js";
import { buildRequest } from "./mapper.js";

/** Carnival's adapter: one PUT per user, its custom attributes merged; a key Carnival did not keep is a failure. */
export class CarnivalAdapter implements ClosableAdapter {
  private readonly client: CarnivalClient;
  private readonly pacer: RateBudget;

  private readonly ratePerSecond: number;

  constructor(config: CarnivalConfig, deps: AdapterDeps) {
    this.ratePerSecond = config.ratePerSecond;
    this.pacer = deps.pacers.forCredential("carnival", config.apiKey, config.ratePerSecond, { maxWaitMs: config.timeoutMs });
    this.client = new CarnivalClient(config, deps, this.pacer);
  }

  /** No bulk endpoint: one PUT per user, paced. */
  planBulk(userCount: number): BulkCallPlan {
    return { path: "PUT /users/{user_id}, one per user (paced fan-out)", writes: userCount, lookups: 0, ratePerSecond: this.ratePerSecond };
  }

  check(command: UpdateCommand): readonly VendorFailure[] {
    const built = buildRequest(command);
    return built.ok ? [] : built.failures;
  }

  async update(command: UpdateCommand, context: CallContext): Promise<DeliveryOutcome> {
    const idProblem = pathSegmentProblem(command.userId);
    if (idProblem) {
      return failed(
        vendorFailure("VALUE_REJECTED", "carnival", `the user id ${idProblem} (Carnival addresses users as /users/<user id>)`, {
          retryable: false,
        }),
      );
    }
    const built = buildRequest(command);
    if (!built.ok) return failed(combineFailures(built.failures));
    const { request } = built;
    await this.pacer.acquire(context);
    const result = await this.client.putUser(request.userId, request.body, context);
    const failure = failureFor(result);
    // A 429 has already paused the credential's pacer (HttpClient's pauseOn429).
    if (failure) return failed(failure);
    if (result.kind !== "response") throw new Error("unreachable: transport failures are mapped above");
    const sentKeys = Object.keys(request.body.user.custom);
    const discarded = discardedKeys(result, sentKeys);
    if (discarded.length > 0) {
      const kept = sentKeys.filter((key) => !discarded.includes(key));
      return failed(
        combineFailures(
          discarded.map((key) =>
            vendorFailure(
              "VALUE_REJECTED",
              "carnival",
              `Carnival accepted the request but did not keep "${key}" (a device holds at most 50 custom attributes); ${kept.length > 0 ? `kept: ${kept.join(", ")}` : "nothing was kept"}`,
              { httpStatus: result.status, attribute: request.keyOrigins.get(key) ?? key, operation: "SET" },
            ),
          ),
        ),
      );
    }
    return delivered("carnival", request.warnings, result.status);
  }

  close(): void {
    this.client.close();
  }
}
