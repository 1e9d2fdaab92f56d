import { vendorFailure, type VendorFailure } from "../../domain/failures.js";
import type { ProfileReadOutcome } from "../../domain/profile-read.js";
import type { CallContext } from "../../domain/vendor.js";
import { HttpClient, callOptions, sharedHttpOptions, type HttpResult } from "../../http/client.js";
import type { RateBudget } from "../../pacing/budget.js";
import type { AdapterDeps } from "../define-vendor.js";
import { API_VERSION } from "./api-version.js";
import { MULTI_LIMITS } from "./capabilities.js";
import type { LeanplumConfig } from "./config.js";
import { elementFailure, exportKeyMissing, readEnvelope, type ReadingContext } from "./errors.js";
import { profileFromExport, VENDOR, type LeanplumAction } from "./mapper.js";
import { userSerializerFor, type UserSerializer } from "./user-serializer.js";
import { LOCK_UNAVAILABLE, LockUnavailableError } from "../../reliability/keyed-lock.js";

export { MULTI_LIMITS };

export type ActionOutcome = { readonly ok: true; readonly httpStatus: number } | { readonly ok: false; readonly failure: VendorFailure };

/** A call's exchange, or the refusal to send it because its users' lock could not be taken. */
type Serialized = HttpResult | { readonly kind: "not-sent"; readonly failure: VendorFailure };

/** The users an action touches: its own and, when re-identifying, the target id. */
export function actionUsers(action: LeanplumAction): string[] {
  return action.args.newUserId === undefined ? [action.args.userId] : [action.args.userId, action.args.newUserId];
}

/**
 * Splits actions into consecutive groups that each fit one `multi` call (≤ 50 distinct users,
 * ≤ 500 actions), keeping their order. Returns indices into `actions`.
 */
export function chunkForMulti(actions: readonly LeanplumAction[]): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let users = new Set<string>();
  actions.forEach((action, index) => {
    const mine = actionUsers(action);
    const added = mine.filter((u) => !users.has(u)).length;
    if (current.length > 0 && (current.length + 1 > MULTI_LIMITS.maxActions || users.size + added > MULTI_LIMITS.maxUsers)) {
      chunks.push(current);
      current = [];
      users = new Set();
    }
    current.push(index);
    for (const u of mine) users.add(u);
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * HTTP calls to Leanplum's RPC endpoint. Credentials travel in the JSON body of POSTs, never in a
 * URL; exportUser is a GET, whose key is a query parameter that only got sees (the HttpClient
 * logs vendor, operation and status, never the URL). Every call holds its users' turn in the
 * per-user lock (the process's, or in shared mode every replica's: AdapterDeps.locks), because
 * Leanplum answers concurrent requests for one user with 429.
 */
export class LeanplumClient {
  private readonly http: HttpClient;
  private readonly path: string;
  private readonly serializer: UserSerializer;
  private readonly pacer: RateBudget | undefined;

  constructor(
    private readonly config: LeanplumConfig,
    deps: AdapterDeps,
  ) {
    const { base, path } = splitApiUrl(config.apiUrl);
    this.path = path;
    if (config.ratePerSecond !== undefined) {
      this.pacer = deps.pacers.forCredential("leanplum", `${config.appId}:${config.clientKey}`, config.ratePerSecond, {
        maxWaitMs: config.timeoutMs,
      });
    }
    this.http = new HttpClient({
      vendor: VENDOR,
      baseUrl: base,
      timeoutMs: config.timeoutMs,
      headers: { accept: "application/json" },
      // Retries happen inside the user's turn (its keyed lock), so they keep that user's order.
      ...sharedHttpOptions(deps),
      ...(this.pacer ? { pacer: this.pacer } : {}),
      // Leanplum's 429 is about one user (a call for them in flight), not the app's rate: no pause.
      pauseOn429: false,
    });
    this.serializer = userSerializerFor(config.apiUrl, config.appId, deps.locks);
  }

  /** One setUserAttributes call: applied only when Leanplum's element has no warning or error. */
  async setUserAttributes(action: LeanplumAction, context: CallContext): Promise<ActionOutcome> {
    const result = await this.serialized([action], context, () =>
      this.post("setUserAttributes", { ...action.args }, action.repeatSafe, context),
    );
    if (result.kind === "not-sent") return { ok: false, failure: result.failure };
    const reading = readEnvelope(result, 1, this.readingContext(action));
    if (!reading.ok) return { ok: false, failure: reading.failure };
    const failure = elementFailure(reading.elements[0]!, reading.status, this.readingContext(action));
    return failure ? { ok: false, failure } : { ok: true, httpStatus: reading.status };
  }

  /**
   * One `multi` call with one outcome per action, in input order. The caller keeps within
   * MULTI_LIMITS (use `chunkForMulti`): exceeding them is a programming error and throws, because
   * Leanplum would refuse the whole batch. Leanplum's elements are matched to actions by index.
   */
  async multi(actions: readonly LeanplumAction[], context: CallContext): Promise<ActionOutcome[]> {
    if (actions.length === 0) return [];
    const users = new Set(actions.flatMap(actionUsers));
    if (actions.length > MULTI_LIMITS.maxActions || users.size > MULTI_LIMITS.maxUsers) {
      throw new RangeError(
        `a Leanplum multi call takes at most ${MULTI_LIMITS.maxActions} actions and ${MULTI_LIMITS.maxUsers} users; got ${actions.length} actions for ${users.size} users (split with chunkForMulti)`,
      );
    }
    const result = await this.serialized(actions, context, () =>
      this.post(
        "multi",
        {
          // UNIX seconds when the request is issued; Leanplum uses it to correct clock skew.
          time: Math.floor(Date.now() / 1000),
          data: actions.map((action) => ({ action: action.action, ...action.args })),
        },
        actions.every((action) => action.repeatSafe),
        context,
      ),
    );
    if (result.kind === "not-sent") return actions.map(() => ({ ok: false, failure: result.failure }));
    // Whole-call failures apply to every action; whether each may be retried depends on the action.
    const safe = readEnvelope(result, actions.length, { repeatSafe: true });
    const unsafe = readEnvelope(result, actions.length, { repeatSafe: false });
    return actions.map((action, index) => {
      const reading = action.repeatSafe ? safe : unsafe;
      if (!reading.ok) return { ok: false, failure: reading.failure };
      const failure = elementFailure(reading.elements[index]!, reading.status, this.readingContext(action));
      return failure ? { ok: false, failure } : { ok: true, httpStatus: reading.status };
    });
  }

  /** One exportUser call with the data-export key. */
  async exportUser(userId: string, context: CallContext): Promise<ProfileReadOutcome> {
    const exportKey = this.config.exportKey;
    if (exportKey === undefined) return { ok: false, failure: exportKeyMissing() };
    const result = await this.serialized([{ users: [userId], devMode: false }], context, () =>
      this.http.send({
        method: "GET",
        path: this.path,
        searchParams: {
          action: "exportUser",
          appId: this.config.appId,
          clientKey: exportKey,
          apiVersion: API_VERSION,
          userId,
        },
        operation: "exportUser",
        lookup: true,
        repeatSafe: true,
        ...callOptions(context),
      }),
    );
    if (result.kind === "not-sent") return { ok: false, failure: result.failure };
    const readingContext: ReadingContext = { repeatSafe: true };
    const reading = readEnvelope(result, 1, readingContext);
    if (!reading.ok) return { ok: false, failure: reading.failure };
    const element = reading.elements[0]!;
    const failure = elementFailure(element, reading.status, readingContext);
    if (failure) return { ok: false, failure };
    const returnedId = element.fields.userId;
    if (returnedId === undefined || returnedId === null) {
      // Leanplum leaves userId out when it has no such user.
      return {
        ok: false,
        failure: vendorFailure("USER_NOT_FOUND", VENDOR, `Leanplum has no such user (exportUser returned no userId)`, {
          httpStatus: reading.status,
          retryable: false,
        }),
      };
    }
    // Numeric ids come back as strings (or numbers from older data): compare as text.
    if ((typeof returnedId === "string" || typeof returnedId === "number" ? String(returnedId) : undefined) !== userId) {
      return {
        ok: false,
        failure: vendorFailure("VENDOR_UNAVAILABLE", VENDOR, "Leanplum's exportUser answered for a different user id", {
          httpStatus: reading.status,
          retryable: false,
        }),
      };
    }
    return { ok: true, profile: profileFromExport(userId, element.fields) };
  }

  close(): void {
    this.http.close();
  }

  private post(
    action: "setUserAttributes" | "multi",
    args: Record<string, unknown>,
    repeatSafe: boolean,
    context: CallContext,
  ): Promise<HttpResult> {
    return this.http.send({
      method: "POST",
      path: this.path,
      // Only the action goes in the URL: URLs end up in proxies' and servers' logs, keys must not.
      searchParams: { action },
      json: { appId: this.config.appId, clientKey: this.config.clientKey, apiVersion: API_VERSION, ...args },
      operation: action,
      repeatSafe,
      // Its answer when every action applied: one {"success": true} per action.
      dryRunAnswer: {
        status: 200,
        body: { response: Array.from({ length: action === "multi" ? (args.data as unknown[]).length : 1 }, () => ({ success: true })) },
      },
      ...callOptions(context),
    });
  }

  private async serialized(
    actions: ReadonlyArray<LeanplumAction | { users: string[]; devMode: boolean }>,
    context: CallContext,
    send: () => Promise<HttpResult>,
  ): Promise<Serialized> {
    const users: string[] = [];
    const devModeUsers: string[] = [];
    for (const action of actions) {
      const touched = "args" in action ? actionUsers(action) : action.users;
      users.push(...touched);
      if ("args" in action ? action.args.devMode === true : action.devMode) devModeUsers.push(...touched);
    }
    // The signal ends waiting (queue, devMode spacing, pacing) by throwing; a sent request is never aborted.
    try {
      return await this.serializer.run(
        users,
        devModeUsers,
        async () => {
          await this.pacer?.acquire(context);
          return send();
        },
        context.signal,
      );
    } catch (error) {
      if (!(error instanceof LockUnavailableError)) throw error;
      return { kind: "not-sent", failure: lockUnavailable() };
    }
  }

  private readingContext(action: LeanplumAction): ReadingContext {
    return { repeatSafe: action.repeatSafe, attributes: action.attributes };
  }
}

/**
 * The users' shared lock (Redis, in shared mode) could not be taken, so nothing was sent: safe to
 * repeat, and nothing said about Leanplum (the circuit breaker does not count it).
 */
function lockUnavailable(): VendorFailure {
  return vendorFailure(
    "VENDOR_UNAVAILABLE",
    VENDOR,
    "nothing was sent to Leanplum: the shared per-user lock (Redis) could not be taken, and without it another replica could be writing this user",
    { retryable: true, vendorCode: LOCK_UNAVAILABLE },
  );
}

/**
 * got's prefixUrl always ends in "/", which would turn …/api into …/api/. The base is therefore
 * everything up to the last "/" and the last segment is the request path.
 */
export function splitApiUrl(apiUrl: string): { base: string; path: string } {
  const url = new URL(apiUrl);
  const cut = url.pathname.lastIndexOf("/");
  return { base: `${url.origin}${url.pathname.slice(0, cut + 1)}`, path: url.pathname.slice(cut + 1) };
}
