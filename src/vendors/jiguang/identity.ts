import DataLoader from "dataloader";
import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import { characterLength } from "../../domain/values.js";
import type { CallContext } from "../../domain/vendor.js";
import { longFrom, parseLong, type LongText } from "./long-json.js";

/**
 * Federated user id → CUID. Jiguang writes attributes by CUID (a Long). Either the subgraph's
 * user ids are CUIDs, or (JIGUANG_IDENTITY_NAME set) they are values of a One ID user identifier
 * and Get CUID maps them, up to 100 per call, batched and cached for one GraphQL operation.
 */
export type CuidOutcome = { readonly ok: true; readonly cuid: LongText } | { readonly ok: false; readonly failure: VendorFailure };

/** Get CUID's documented limits. */
export const MAX_VALUES_PER_LOOKUP = 100;
export const MAX_IDENTITY_VALUE_LENGTH = 256;

const VENDOR = "jiguang";

/** One Get-CUID call for ≤ 100 distinct, valid values: a CUID per value found, or one failure for the call. */
export type LookupCall = (
  identityValues: readonly string[],
  context: CallContext,
) => Promise<{ ok: true; data: unknown } | { ok: false; failure: VendorFailure }>;

export class CuidResolver {
  constructor(
    private readonly identityName: string | undefined,
    /** Distinguishes this adapter's loaders from any other in the same request scope. */
    private readonly scopeKey: string,
    private readonly lookup: LookupCall,
  ) {}

  resolve(userId: string, context: CallContext): Promise<CuidOutcome> {
    if (this.identityName === undefined) return Promise.resolve(cuidFromUserId(userId));
    return this.loader(context).load(userId);
  }

  /** For the bulk engine: one outcome per distinct id, in ceil(distinct / 100) look-ups at most. */
  async resolveMany(userIds: readonly string[], context: CallContext): Promise<Map<string, CuidOutcome>> {
    const unique = [...new Set(userIds)];
    if (this.identityName === undefined) return new Map(unique.map((id) => [id, cuidFromUserId(id)]));
    const outcomes = await this.loader(context).loadMany(unique);
    // An Error here is a cancelled pacing wait (failures are values): rethrown, as `resolve` would.
    const cancelled = outcomes.find((o): o is Error => o instanceof Error);
    if (cancelled) throw cancelled;
    return new Map(unique.map((id, i) => [id, outcomes[i] as CuidOutcome]));
  }

  private loader(context: CallContext): DataLoader<string, CuidOutcome> {
    return context.scope.get(
      `jiguang:cuid:${this.scopeKey}`,
      () => new DataLoader<string, CuidOutcome>((values) => this.batch(values, context), { maxBatchSize: MAX_VALUES_PER_LOOKUP }),
    );
  }

  private async batch(values: readonly string[], context: CallContext): Promise<CuidOutcome[]> {
    const identityName = this.identityName!;
    const outcomes = new Map<string, CuidOutcome>();
    const valid: string[] = [];
    for (const value of values) {
      const length = characterLength(value);
      if (length > MAX_IDENTITY_VALUE_LENGTH) {
        outcomes.set(value, {
          ok: false,
          failure: vendorFailure(
            "USER_NOT_FOUND",
            VENDOR,
            `Jiguang identity values have at most ${MAX_IDENTITY_VALUE_LENGTH} characters, so no ${identityName} can be this ${length}-character user id`,
          ),
        });
      } else {
        valid.push(value);
      }
    }
    if (valid.length > 0) {
      const answer = await this.lookup(valid, context);
      const found = answer.ok ? readCuids(answer.data, identityName) : { ok: false as const, failure: answer.failure };
      for (const value of valid) {
        if (!found.ok) {
          outcomes.set(value, { ok: false, failure: found.failure });
          continue;
        }
        const cuid = found.cuids.get(value);
        outcomes.set(
          value,
          cuid === undefined
            ? { ok: false, failure: vendorFailure("USER_NOT_FOUND", VENDOR, `Jiguang has no user whose ${identityName} is this user id`) }
            : cuid,
        );
      }
    }
    return values.map((value) => outcomes.get(value)!);
  }
}

/** Without an identity name the user id is the CUID itself: a positive 64-bit integer in canonical form. */
export function cuidFromUserId(userId: string): CuidOutcome {
  const cuid = parseLong(userId);
  if (cuid) return { ok: true, cuid };
  return {
    ok: false,
    failure: vendorFailure(
      "USER_NOT_FOUND",
      VENDOR,
      "Jiguang identifies users by CUID, a positive 64-bit integer written without sign or leading zeros, and this user id is not one; set JIGUANG_IDENTITY_NAME to map user ids to CUIDs",
    ),
  };
}

/**
 * Get CUID's response body is not in the stored documentation. The adapter (and the sandbox)
 * take `data: [{identityValue, cuid}]`, listing only the values that have a CUID, with `cuid` a
 * JSON integer (or a digit string). This must be verified against the live API.
 */
export function readCuids(
  data: unknown,
  identityName: string,
): { ok: true; cuids: Map<string, CuidOutcome> } | { ok: false; failure: VendorFailure } {
  if (!Array.isArray(data)) return { ok: false, failure: unexpectedShape("data is not a list") };
  const cuids = new Map<string, CuidOutcome>();
  for (const entry of data) {
    if (typeof entry !== "object" || entry === null) return { ok: false, failure: unexpectedShape("an entry is not an object") };
    const { identityValue, cuid: raw } = entry as Record<string, unknown>;
    const cuid = longFrom(raw);
    if (typeof identityValue !== "string" || cuid === undefined) {
      return { ok: false, failure: unexpectedShape("an entry lacks a string identityValue or an integer cuid") };
    }
    const earlier = cuids.get(identityValue);
    if (earlier?.ok && earlier.cuid !== cuid) {
      cuids.set(identityValue, {
        ok: false,
        failure: vendorFailure(
          "VENDOR_UNAVAILABLE",
          VENDOR,
          `Jiguang returned two CUIDs for one ${identityName}; the identifier must be unique and priority 1 in ID Mapping`,
          { retryable: false },
        ),
      });
    } else if (!earlier) {
      cuids.set(identityValue, { ok: true, cuid });
    }
  }
  return { ok: true, cuids };
}

function unexpectedShape(detail: string): VendorFailure {
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    VENDOR,
    `Jiguang's Get CUID answer has an unexpected shape (${detail}); the adapter expects data: [{identityValue, cuid}]`,
    { retryable: false },
  );
}
