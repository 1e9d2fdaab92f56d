import DataLoader from "dataloader";
import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import type { CallContext } from "../../domain/vendor.js";
import { mapWithConcurrency } from "../../util/concurrency.js";
import { CUSTOM_ID_FIELD } from "./api-version.js";
import type { UserComClient } from "./client.js";
import type { UserComConfig } from "./config.js";
import { failureFor, undocumentedAnswer } from "./errors.js";
import { customIdProblem } from "./mapper.js";
import { asUser, type UserComUser } from "./read-back.js";

export type UserLookup = { readonly ok: true; readonly user: UserComUser } | { readonly ok: false; readonly failure: VendorFailure };

/** Where the per-request loader lives in `context.scope`. */
export const USER_LOADER_SCOPE_KEY = "usercom:ids";

/**
 * The request's custom id → user loader. Look-ups made in the same tick become one batch, run
 * with at most `lookupConcurrency` GETs in flight; a custom id is fetched once per request however
 * often it is asked for. The loaded object is the whole user, so a read-back after an id look-up
 * costs nothing more. Retryable failures are not kept, so a later attempt in the same request
 * (a bulk job's retry) asks User.com again.
 */
export function userLoader(client: UserComClient, config: UserComConfig, context: CallContext): DataLoader<string, UserLookup> {
  return context.scope.get(USER_LOADER_SCOPE_KEY, () => {
    const loader: DataLoader<string, UserLookup> = new DataLoader<string, UserLookup>(async (customIds) => {
      const results = await mapWithConcurrency(customIds, config.lookupConcurrency, (customId) =>
        lookUpUser(client, config, customId, context),
      );
      results.forEach((result, index) => {
        if (!result.ok && result.failure.retryable) loader.clear(customIds[index]!);
      });
      return results;
    });
    return loader;
  });
}

/** `GET /users-by-id/:custom_id/`: the user, or why there is none (typed, never "anything else means not found"). */
export async function lookUpUser(
  client: UserComClient,
  config: UserComConfig,
  customId: string,
  context: CallContext,
): Promise<UserLookup> {
  const idProblem = customIdProblem(customId);
  if (idProblem) return { ok: false, failure: vendorFailure("USER_NOT_FOUND", "usercom", idProblem, { retryable: false }) };
  const call = { kind: "lookup", customId } as const;
  const result = await client.getUser(customId, context);
  const failure = failureFor(result, call);
  if (failure) return { ok: false, failure };
  if (result.kind !== "response") throw new Error("unreachable: transport failures are mapped above");
  const user = asUser(result.json);
  if (!user) return { ok: false, failure: undocumentedAnswer(result, call, "a user object with an integer id") };
  // The id mapping feeds writes by internal id: an answer about another user must not pass.
  const field = CUSTOM_ID_FIELD[config.apiVersion];
  const echoed = user.body[field];
  if ((typeof echoed === "string" || typeof echoed === "number") && String(echoed) !== customId) {
    return {
      ok: false,
      failure: vendorFailure(
        "VENDOR_UNAVAILABLE",
        "usercom",
        `User.com answered the look-up of "${customId}" with the user whose ${field} is "${String(echoed)}"; the answer was not used`,
        { httpStatus: result.status, retryable: false },
      ),
    };
  }
  return { ok: true, user };
}
