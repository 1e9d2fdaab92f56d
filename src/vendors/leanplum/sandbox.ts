import { sleep } from "../../util/sleep.js";
import { RateWindow, SandboxServer, type SandboxRequest, type SandboxResponse } from "../../sandbox/kit.js";
import type { SandboxOptions } from "../define-vendor.js";
import { API_VERSION } from "./api-version.js";
import { SANDBOX_APP_ID, SANDBOX_CLIENT_KEY, SANDBOX_EXPORT_KEY } from "./config.js";
import { MAX_ID_LENGTH, nameProblem } from "./names.js";

/** The texts the sandbox answers with; the documented ones are Leanplum's, the rest are ours. */
export const SANDBOX_MESSAGES = {
  invalidAccessKey: "Invalid access key",
  userNotFound: "User not found; request skipped.",
  concurrent: "Request failed due to concurrent requests to the same profile ID",
  devModeRateLimit: "Per device rate limit exceeded.",
  blocked: "Unavailable For Legal Reasons",
  multiLimits: `A multi request may contain at most 50 users and 500 actions; nothing was processed.`,
} as const;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Params = Record<string, unknown>;

interface Aggregate {
  count?: number;
  value?: number;
  firstTime?: number;
  lastTime?: number;
}

interface StoredUser {
  userId: string;
  attributes: Map<string, Json>;
  profile: Record<string, string>;
  unsubscribeCategories: Set<string>;
  unsubscribeChannels: Set<string>;
  events: Map<string, Aggregate>;
  states: Map<string, Aggregate>;
  devices: Set<string>;
  created: number;
  lastActive: number;
}

/** A user as the admin route and tests see it: attributes exactly as stored (booleans stay booleans). */
export interface SandboxUserState {
  readonly userId: string;
  readonly attributes: Record<string, Json>;
  readonly profile: Record<string, string>;
  readonly unsubscribeCategories: string[];
  readonly unsubscribeChannels: string[];
  readonly events: Record<string, Aggregate>;
  readonly states: Record<string, Aggregate>;
  readonly devices: string[];
}

interface Element {
  success: boolean;
  warning?: { message: string };
  error?: { message: string };
  [field: string]: unknown;
}

export interface LeanplumSandboxOptions extends SandboxOptions {
  /** How long each request holds its users "in flight" (so concurrent ones collide and get 429). */
  readonly latencyMs?: number;
}

const PROFILE_ARGUMENTS = ["locale", "country", "region", "city", "timezone"] as const;
const JSON_ARGUMENTS = [
  "userAttributes",
  "userAttributeValuesToAdd",
  "userAttributeValuesToRemove",
  "userAttributeValuesToIncrement",
  "unsubscribeCategoriesToAdd",
  "unsubscribeCategoriesToRemove",
  "events",
  "states",
  "data",
];
const KEY_CLASS: Record<string, string> = {
  setUserAttributes: SANDBOX_CLIENT_KEY,
  multi: SANDBOX_CLIENT_KEY,
  exportUser: SANDBOX_EXPORT_KEY,
};

/**
 * Leanplum's RPC endpoint (`/api?action=…`) for setUserAttributes, multi and exportUser, with its
 * envelope and its rules: key classes, CreateNever warnings, skipped increments, per-user locking
 * (429), devMode's 1 request/s/user, multi's limits (403, nothing applied), blocked users (451),
 * and exportUser's quirks (booleans as "True"/"False", ids as strings). See README.md "Sandbox".
 */
export class LeanplumSandbox extends SandboxServer {
  private readonly users = new Map<string, StoredUser>();
  private readonly blocked = new Set<string>();
  /** Users with a request being processed: "single", or the promise of the multi holding them. */
  private readonly inFlight = new Map<string, "single" | Promise<void>>();
  private readonly devModeWindow = new RateWindow(1);
  private latencyMs: number;
  private readonly scripted: Array<{ response: SandboxResponse; remaining: number; match?: (r: SandboxRequest) => boolean }> = [];
  private concurrentNow = 0;
  private peakConcurrent = 0;

  constructor(options: LeanplumSandboxOptions = {}) {
    super({
      name: "leanplum",
      handler: (request) => this.handle(request),
      admin: (request) => this.adminRoute(request),
      refusal: (message) => ({
        status: 403,
        body: { response: [{ success: false, error: { message: `Invalid access key: ${message}` } }] },
      }),
    });
    this.latencyMs = options.latencyMs ?? 0;
    for (const id of options.seedUserIds ?? []) this.seedUser(id);
  }

  /** Holds every following request open this long while its users count as busy. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Creates (or replaces) a user, as if an SDK had registered it. */
  seedUser(userId: string, attributes: Record<string, Json> = {}): void {
    const user = newUser(userId);
    for (const [name, value] of Object.entries(attributes)) user.attributes.set(name, value);
    this.users.set(userId, user);
  }

  user(userId: string): SandboxUserState | undefined {
    const user = this.users.get(userId);
    if (!user) return undefined;
    return {
      userId: user.userId,
      attributes: Object.fromEntries(user.attributes),
      profile: { ...user.profile },
      unsubscribeCategories: [...user.unsubscribeCategories],
      unsubscribeChannels: [...user.unsubscribeChannels],
      events: Object.fromEntries(user.events),
      states: Object.fromEntries(user.states),
      devices: [...user.devices],
    };
  }

  /** Leanplum's `block`: further requests for the user answer 451. */
  block(userId: string): void {
    this.blocked.add(userId);
  }

  unblock(userId: string): void {
    this.blocked.delete(userId);
  }

  /**
   * The next `count` matching requests get `response` (a crafted Leanplum envelope, say) and
   * change nothing: for answers the emulated rules never produce, such as an unknown warning.
   */
  injectResponse(response: SandboxResponse, options: { count?: number; match?: (r: SandboxRequest) => boolean } = {}): void {
    this.scripted.push({ response, remaining: options.count ?? 1, ...(options.match ? { match: options.match } : {}) });
  }

  /** Whether a request for the user is being processed right now. */
  isBusy(userId: string): boolean {
    return this.inFlight.has(userId);
  }

  /** The most requests ever processed at the same time (across users). */
  peakConcurrency(): number {
    return this.peakConcurrent;
  }

  private async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const index = this.scripted.findIndex((s) => !s.match || s.match(request));
    if (index >= 0) {
      const scripted = this.scripted[index]!;
      if (--scripted.remaining <= 0) this.scripted.splice(index, 1);
      return scripted.response;
    }
    if (request.path !== "/api") return failure(404, "Not found");
    const parsed = await this.params(request);
    if (!parsed.ok) return failure(400, parsed.problem);
    const params = parsed.params;
    const action = params.action;
    if (typeof action !== "string" || !(action in KEY_CLASS)) {
      return failure(400, `Unknown or unsupported action: ${String(action)}`);
    }
    if (params.apiVersion !== API_VERSION) return failure(400, `apiVersion must be ${API_VERSION}`);
    if (params.appId !== SANDBOX_APP_ID || params.clientKey !== KEY_CLASS[action]) {
      return failure(403, SANDBOX_MESSAGES.invalidAccessKey);
    }
    if (action === "multi") return this.multi(params);
    const user = userKey(params);
    if (typeof user !== "string") return failure(400, user.problem);
    if (this.blocked.has(user)) return failure(451, SANDBOX_MESSAGES.blocked);
    const busy = this.inFlight.get(user);
    if (busy === "single") return failure(429, SANDBOX_MESSAGES.concurrent);
    // Leanplum queues requests for users of a running multi until it finishes.
    if (busy) await busy;
    if (this.inFlight.has(user)) return failure(429, SANDBOX_MESSAGES.concurrent);
    if (action === "setUserAttributes" && isTrue(params.devMode) && !this.devModeWindow.admit(user)) {
      return failure(429, SANDBOX_MESSAGES.devModeRateLimit);
    }
    this.inFlight.set(user, "single");
    this.enter();
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const element = action === "exportUser" ? this.exportUser(user) : this.setUserAttributes(user, params);
      return { status: 200, body: { response: [element] } };
    } finally {
      this.inFlight.delete(user);
      this.leave();
    }
  }

  private async multi(params: Params): Promise<SandboxResponse> {
    const data = params.data;
    if (!Array.isArray(data) || data.length === 0) return failure(400, "data must be a non-empty list of actions");
    if (params.time === undefined || !Number.isFinite(Number(params.time))) {
      return failure(400, "time is required: the UNIX time in seconds when the request was issued");
    }
    const items: Params[] = [];
    const users: string[] = [];
    for (const item of data) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) return failure(400, "every data entry must be an object");
      const parsed = parseJsonArguments(item as Params);
      if (!parsed.ok) return failure(400, parsed.problem);
      items.push(parsed.params);
      const user = userKey(parsed.params);
      if (typeof user === "string") users.push(user);
    }
    const distinct = [...new Set(users)];
    if (items.length > 500 || distinct.length > 50) return failure(403, SANDBOX_MESSAGES.multiLimits);
    if (distinct.some((u) => this.inFlight.get(u) === "single")) return failure(429, SANDBOX_MESSAGES.concurrent);
    for (const busy of new Set(distinct.map((u) => this.inFlight.get(u)).filter((b) => b !== undefined))) await busy;
    if (distinct.some((u) => this.inFlight.has(u))) return failure(429, SANDBOX_MESSAGES.concurrent);

    let finish!: () => void;
    const running = new Promise<void>((resolve) => (finish = resolve));
    for (const u of distinct) this.inFlight.set(u, running);
    this.enter();
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const elements = items.map((item) => this.multiItem(item));
      return { status: 200, body: { response: elements } };
    } finally {
      for (const u of distinct) if (this.inFlight.get(u) === running) this.inFlight.delete(u);
      finish();
      this.leave();
    }
  }

  private multiItem(item: Params): Element {
    const action = item.action;
    const user = userKey(item);
    if (typeof user !== "string") return { success: false, error: { message: user.problem } };
    if (this.blocked.has(user)) return { success: false, error: { message: SANDBOX_MESSAGES.blocked } };
    if (action === "setUserAttributes") {
      if (isTrue(item.devMode) && !this.devModeWindow.admit(user)) {
        return { success: false, error: { message: SANDBOX_MESSAGES.devModeRateLimit } };
      }
      return this.setUserAttributes(user, item);
    }
    return { success: false, error: { message: `The sandbox does not emulate the action ${String(action)} in multi` } };
  }

  /** One setUserAttributes action; warnings report the parts Leanplum skips. */
  private setUserAttributes(addressed: string, params: Params): Element {
    const disposition = params.createDisposition ?? "CreateIfNeeded";
    if (disposition !== "CreateIfNeeded" && disposition !== "CreateNever") {
      return { success: false, error: { message: `Invalid createDisposition: ${JSON.stringify(disposition)}` } };
    }
    const problem = this.checkAttributeArguments(params);
    if (problem) return { success: true, error: { message: problem } };

    let target = this.users.get(addressed);
    const newUserId = typeof params.newUserId === "string" ? params.newUserId : undefined; // checked above
    if (!target && disposition === "CreateNever") return { success: true, warning: { message: SANDBOX_MESSAGES.userNotFound } };
    if (!target) {
      target = newUser(addressed);
      this.users.set(addressed, target);
    }
    if (newUserId !== undefined && newUserId !== addressed) target = this.reidentify(target, addressed, params, newUserId);

    const warnings: string[] = [];
    const attributes = target.attributes;
    for (const [name, value] of Object.entries((params.userAttributes ?? {}) as Record<string, Json>)) {
      if (value === null) attributes.delete(name);
      else attributes.set(name, value);
    }
    for (const [name, value] of Object.entries((params.userAttributeValuesToAdd ?? {}) as Record<string, Json>)) {
      const current = attributes.get(name);
      if (current !== undefined && !Array.isArray(current)) {
        warnings.push(`Cannot add to "${name}": it is not a set; value not added.`);
        continue;
      }
      const set = current ?? [];
      for (const member of Array.isArray(value) ? value : [value]) if (!set.some((m) => m === member)) set.push(member);
      attributes.set(name, set);
    }
    for (const [name, value] of Object.entries((params.userAttributeValuesToRemove ?? {}) as Record<string, Json>)) {
      const current = attributes.get(name);
      if (!Array.isArray(current)) continue;
      const remove = Array.isArray(value) ? value : [value];
      attributes.set(
        name,
        current.filter((m) => !remove.includes(m)),
      );
    }
    for (const [name, delta] of Object.entries((params.userAttributeValuesToIncrement ?? {}) as Record<string, Json>)) {
      const current = attributes.get(name) ?? 0; // unset counts as 0
      if (!Number.isInteger(delta) || !Number.isInteger(current)) {
        warnings.push(`Cannot increment "${name}": the attribute value and the increment must both be integers; increment skipped.`);
        continue;
      }
      attributes.set(name, (current as number) + (delta as number));
    }
    for (const field of PROFILE_ARGUMENTS) {
      if (typeof params[field] === "string") target.profile[field] = params[field];
    }
    for (const id of (params.unsubscribeCategoriesToAdd ?? []) as string[]) target.unsubscribeCategories.add(String(id));
    for (const id of (params.unsubscribeCategoriesToRemove ?? []) as string[]) target.unsubscribeCategories.delete(String(id));
    if (typeof params.unsubscribeChannelsToAdd === "string") target.unsubscribeChannels.add(params.unsubscribeChannelsToAdd);
    if (typeof params.unsubscribeChannelsToRemove === "string") target.unsubscribeChannels.delete(params.unsubscribeChannelsToRemove);
    applyAggregates(target.events, params.events, true);
    applyAggregates(target.states, params.states, false);
    if (typeof params.deviceId === "string" && params.deviceId !== "") target.devices.add(params.deviceId);
    target.lastActive = Date.now() / 1000;
    return warnings.length > 0 ? { success: true, warning: { message: warnings.join(" ") } } : { success: true };
  }

  /**
   * Leanplum's three re-identification cases. The addressed user "has no user id" when it was
   * addressed by deviceId alone. The request's attributes then apply to the resulting user.
   */
  private reidentify(current: StoredUser, addressed: string, params: Params, newUserId: string): StoredUser {
    const hasUserId = params.userId !== undefined && params.userId !== "";
    const existing = this.users.get(newUserId);
    if (!hasUserId && existing) {
      // Login: merge the anonymous profile into the existing one (existing values win), delete it.
      for (const [name, value] of current.attributes) if (!existing.attributes.has(name)) existing.attributes.set(name, value);
      for (const device of current.devices) existing.devices.add(device);
      this.users.delete(addressed);
      return existing;
    }
    if (!hasUserId) {
      // Register: the anonymous user takes the new id.
      this.users.delete(addressed);
      current.userId = newUserId;
      this.users.set(newUserId, current);
      return current;
    }
    // Switch: a new session for newUserId, created if needed; the addressed user is left as it is.
    if (existing) return existing;
    const created = newUser(newUserId);
    this.users.set(newUserId, created);
    return created;
  }

  private checkAttributeArguments(params: Params): string | undefined {
    const maps = ["userAttributes", "userAttributeValuesToAdd", "userAttributeValuesToRemove", "userAttributeValuesToIncrement"];
    for (const key of maps) {
      const map = params[key];
      if (map === undefined) continue;
      if (typeof map !== "object" || map === null || Array.isArray(map)) return `${key} must be an object`;
      for (const [name, value] of Object.entries(map)) {
        const problem = nameProblem(name);
        if (problem) return `Invalid user attribute name "${name}": ${problem}.`;
        if (!isAttributeValue(value, key === "userAttributes")) return `Invalid value for user attribute "${name}".`;
      }
    }
    for (const key of ["events", "states"]) {
      const map = params[key];
      if (map === undefined) continue;
      if (typeof map !== "object" || map === null || Array.isArray(map)) return `${key} must be an object`;
      for (const name of Object.keys(map)) {
        const problem = nameProblem(name);
        if (problem) return `Invalid ${key === "events" ? "event" : "state"} name "${name}": ${problem}.`;
      }
    }
    if (params.newUserId !== undefined && (typeof params.newUserId !== "string" || params.newUserId.length > MAX_ID_LENGTH)) {
      return "Invalid newUserId.";
    }
    return undefined;
  }

  private exportUser(userId: string): Element {
    const user = this.users.get(userId);
    if (!user) return { success: true, warning: { message: SANDBOX_MESSAGES.userNotFound } };
    return {
      success: true,
      userId: String(user.userId),
      userAttributes: Object.fromEntries([...user.attributes].map(([name, value]) => [name, exportValue(value)])),
      events: Object.fromEntries(user.events),
      states: Object.fromEntries(user.states),
      created: user.created,
      lastActive: user.lastActive,
      totalSessions: 0,
      unsubscribeCategories: [...user.unsubscribeCategories].map((id) => ({ id, name: id })),
      unsubscribeChannels: [...user.unsubscribeChannels],
      devices: [...user.devices].map((deviceId) => ({ deviceId })),
      ...user.profile,
    };
  }

  /**
   * Query and body merged (the body wins), JSON-valued arguments parsed from their text form. Bodies
   * are JSON (application/json, or text/plain as the JS SDK sends it) or multipart form data, the
   * documented pair, with JSON-valued fields as text (Leanplum's Postman collection).
   */
  private async params(request: SandboxRequest): Promise<Parsed> {
    const merged: Params = Object.fromEntries(request.query);
    if (request.text.length > 0) {
      const contentType = String(request.headers["content-type"] ?? "");
      const type = contentType.split(";")[0]!.trim().toLowerCase();
      if (type === "multipart/form-data") {
        const fields = await formFields(request.text, contentType);
        if (!fields) return { ok: false, problem: "The multipart body could not be read" };
        Object.assign(merged, fields);
        return parseJsonArguments(merged);
      }
      if (type !== "application/json" && type !== "text/plain") {
        return {
          ok: false,
          problem: `Unsupported content type "${type}": the sandbox takes JSON (application/json or text/plain) or multipart/form-data bodies`,
        };
      }
      if (request.jsonError || typeof request.json !== "object" || request.json === null || Array.isArray(request.json)) {
        return { ok: false, problem: "The request body must be a JSON object" };
      }
      Object.assign(merged, request.json);
    }
    return parseJsonArguments(merged);
  }

  private adminRoute(request: SandboxRequest): SandboxResponse | undefined {
    if (request.path === "/__sandbox/users" && request.method === "POST") {
      const body = request.json as { userId?: unknown; attributes?: unknown } | undefined;
      if (typeof body?.userId !== "string") return { status: 400, body: { error: "expected {userId, attributes?}" } };
      const attributes = typeof body.attributes === "object" && body.attributes !== null ? (body.attributes as Record<string, Json>) : {};
      this.seedUser(body.userId, attributes);
      return { status: 201, body: { userId: body.userId } };
    }
    if (request.path === "/__sandbox/latency" && request.method === "POST") {
      const ms = (request.json as { ms?: unknown } | undefined)?.ms;
      if (typeof ms !== "number" || ms < 0) return { status: 400, body: { error: "expected {ms}" } };
      this.setLatency(ms);
      return { status: 204 };
    }
    const block = /^\/__sandbox\/users\/([^/]+)\/block$/.exec(request.path);
    if (block && (request.method === "POST" || request.method === "DELETE")) {
      const id = decodeURIComponent(block[1]!);
      if (request.method === "POST") this.block(id);
      else this.unblock(id);
      return { status: 204 };
    }
    const user = /^\/__sandbox\/users\/([^/]+)$/.exec(request.path);
    if (user && request.method === "GET") {
      const state = this.user(decodeURIComponent(user[1]!));
      return state ? { status: 200, body: state } : { status: 404, body: { error: "no such user" } };
    }
    return undefined;
  }

  private enter(): void {
    this.concurrentNow++;
    this.peakConcurrent = Math.max(this.peakConcurrent, this.concurrentNow);
  }

  private leave(): void {
    this.concurrentNow--;
  }
}

function newUser(userId: string): StoredUser {
  const now = Date.now() / 1000;
  return {
    userId,
    attributes: new Map(),
    profile: {},
    unsubscribeCategories: new Set(),
    unsubscribeChannels: new Set(),
    events: new Map(),
    states: new Map(),
    devices: new Set(),
    created: now,
    lastActive: now,
  };
}

/** userId (numbers accepted and kept as text), else deviceId. */
function userKey(params: Params): string | { problem: string } {
  const id = params.userId;
  if ((typeof id === "string" && id !== "") || typeof id === "number") {
    const text = String(id);
    return text.length > MAX_ID_LENGTH ? { problem: "userId is too long" } : text;
  }
  if (typeof params.deviceId === "string" && params.deviceId !== "") return params.deviceId;
  return { problem: "A userId or deviceId is required" };
}

type Parsed = { readonly ok: true; readonly params: Params } | { readonly ok: false; readonly problem: string };

/** A multipart body's fields as text (a file part's content too), read by the platform's own parser. */
async function formFields(text: string, contentType: string): Promise<Params | undefined> {
  try {
    const form = await new Response(text, { headers: { "content-type": contentType } }).formData();
    const fields: Params = {};
    for (const [name, value] of form) fields[name] = typeof value === "string" ? value : await value.text();
    return fields;
  } catch {
    return undefined;
  }
}

function parseJsonArguments(params: Params): Parsed {
  const out: Params = { ...params };
  for (const key of JSON_ARGUMENTS) {
    const value = out[key];
    if (typeof value !== "string") continue;
    try {
      out[key] = JSON.parse(value) as unknown;
    } catch {
      return { ok: false, problem: `${key} is not valid JSON` };
    }
  }
  return { ok: true, params: out };
}

function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

function isAttributeValue(value: unknown, allowNull: boolean): boolean {
  if (value === null) return allowNull;
  if (typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isAttributeValue(v, false) && !Array.isArray(v));
  return false;
}

function applyAggregates(store: Map<string, Aggregate>, raw: unknown, withValue: boolean): void {
  if (typeof raw !== "object" || raw === null) return;
  for (const [name, change] of Object.entries(raw as Record<string, Record<string, unknown>>)) {
    const current = store.get(name) ?? {};
    const num = (key: string): number | undefined => (typeof change[key] === "number" ? change[key] : undefined);
    const count = num("count");
    const countIncrement = num("countIncrement");
    if (count !== undefined) current.count = count;
    if (countIncrement !== undefined) current.count = (current.count ?? 0) + countIncrement;
    if (withValue) {
      const value = num("value");
      const valueIncrement = num("valueIncrement");
      if (value !== undefined) current.value = value;
      if (valueIncrement !== undefined) current.value = (current.value ?? 0) + valueIncrement;
    }
    const firstTime = num("firstTime");
    const lastTime = num("lastTime");
    if (firstTime !== undefined) current.firstTime = firstTime;
    if (lastTime !== undefined) current.lastTime = lastTime;
    store.set(name, current);
  }
}

/** exportUser's recorded quirk: booleans come back as "True"/"False". */
function exportValue(value: Json): Json {
  if (typeof value === "boolean") return value ? "True" : "False";
  if (Array.isArray(value)) return value.map(exportValue);
  return value;
}

function failure(status: number, message: string): SandboxResponse {
  return { status, body: { response: [{ success: false, error: { message } }] } };
}

export async function startLeanplumSandbox(options: LeanplumSandboxOptions = {}): Promise<LeanplumSandbox> {
  const sandbox = new LeanplumSandbox(options);
  await sandbox.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return sandbox;
}
