import { sleep } from "../../util/sleep.js";
import { RateWindow, SandboxServer, type SandboxRequest, type SandboxResponse } from "../../sandbox/kit.js";
import type { SandboxOptions } from "../define-vendor.js";
import { API_VERSIONS, CUSTOM_ID_FIELD, type ApiVersion } from "./api-version.js";
import { SANDBOX_API_KEY, SANDBOX_API_PATH, SANDBOX_KEY_WITHOUT_PERMISSION, USERCOM_VALUE_TYPES, type UserComValueType } from "./config.js";
import { standardName } from "./mapper.js";

export interface SandboxAttributeDefinition {
  readonly name: string;
  readonly type: UserComValueType;
  /** Defaults to the standardized name ("My attr" → "my_attr"). */
  readonly nameStd?: string;
}

/** Attributes a fresh sandbox app defines, so that the v2 "must exist" rule does not refuse everything. */
export const SANDBOX_DEFAULT_ATTRIBUTES: readonly SandboxAttributeDefinition[] = [
  { name: "plan", type: "string" },
  { name: "logins", type: "integer" },
  { name: "vip", type: "boolean" },
  { name: "ratio", type: "float" },
  { name: "renews_at", type: "datetime" },
  { name: "birthday", type: "date" },
];

/**
 * What the sandbox does with an undefined custom attribute: "by-version" follows each doc version
 * (v1 requests create it, v2 requests are refused with a 400 naming the attribute); "ignore"
 * answers 200 without storing it, the other behaviour vendors.md considers possible today.
 */
export type SandboxAttributePolicy = "by-version" | "create" | "refuse" | "ignore";

export interface UserComSandboxOptions extends SandboxOptions {
  /** User.com publishes no limit; the sandbox answers 429 with Retry-After beyond this. */
  readonly rateLimitPerSecond?: number;
  readonly unknownAttributes?: SandboxAttributePolicy;
  readonly attributes?: readonly SandboxAttributeDefinition[];
  /** API versions the app accepts (406 otherwise); a request without a version header is version 1. */
  readonly acceptedVersions?: readonly ApiVersion[];
  /** Ids per mass-update call (User.com documents none; the sandbox refuses more with a 400). */
  readonly massUpdateMaxIds?: number;
  /** Holds each custom-id look-up this long, so tests can observe how many run at once. */
  readonly lookupDelayMs?: number;
  /** Holds each mass update this long (applied at the end), so tests can observe what overlaps it. */
  readonly massUpdateDelayMs?: number;
}

interface Definition {
  readonly id: number;
  readonly name: string;
  readonly nameStd: string;
  readonly type: UserComValueType;
}

interface StoredUser {
  readonly id: number;
  readonly key: string;
  customId: string;
  readonly fields: Record<string, unknown>;
  readonly tags: Set<number>;
  readonly values: Map<number, unknown>;
  readonly createdAt: string;
  updatedAt: string;
}

type FieldErrors = Record<string, string[]>;

const STRING_FIELDS = [
  "email",
  "first_name",
  "last_name",
  "phone_number",
  "city",
  "region",
  "country",
  "timezone",
  "facebook_url",
  "google_url",
  "gravatar_url",
  "linkedin_url",
  "twitter_url",
  "company_id",
  "company_custom_id",
];
const INTEGER_FIELDS = ["gender", "status", "score", "assigned_to"];
const BOOLEAN_FIELDS = ["notifications", "unsubscribed"];
/** Fields of the user object that writes cannot change; DRF drops them from a request without a word. */
const READ_ONLY_FIELDS = new Set([
  "id",
  "key",
  "name",
  "attributes",
  "lists",
  "companies",
  "chat_id",
  "created_at",
  "updated_at",
  "last_seen",
  "first_seen",
  "last_contacted",
  "last_ip",
  "page_views",
  "browser",
  "browser_language",
  "os_type",
  "resolution",
]);
const MAX_NAME_LENGTH = 40;
const MAX_ATTRIBUTE_NAME_LENGTH = 255;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

interface Route {
  readonly name: "user" | "removeAttribute" | "removeTag" | "massUpdate";
  readonly methods: readonly string[];
  readonly customId?: string;
}

/**
 * User.com's public users API as documented (v1 and v2), behind Django REST Framework-style
 * answers: `Authorization: Token` (401/403), versioning by Accept header (406 for a version the
 * app does not take), throttling with Retry-After (429), DRF field errors for invalid values (400,
 * nothing applied), and paths that must end with a slash: like Django's APPEND_SLASH, a known path
 * without its slash is answered with a 301 to the slashed path, for every method (a client that
 * follows it would resend a write as a GET without its body, which is why the adapter does not).
 */
export class UserComSandbox extends SandboxServer {
  private readonly users = new Map<string, StoredUser>();
  /** The same users by internal id, which never changes (mass updates address users by it). */
  private readonly usersById = new Map<number, StoredUser>();
  private readonly definitions: Definition[] = [];
  private readonly tagIds = new Map<string, number>();
  private readonly rate: RateWindow;
  private readonly acceptedVersions: readonly ApiVersion[];
  private readonly massUpdateMaxIds: number;
  private readonly lookupDelayMs: number;
  private readonly massUpdateDelayMs: number;
  private policy: SandboxAttributePolicy;
  private nextUserId = 19_678_376;
  private nextDefinitionId = 1_109;
  private nextTagId = 1_441;
  private lookupsInFlight = 0;
  private maxLookupsInFlight = 0;

  constructor(options: UserComSandboxOptions = {}) {
    super({
      name: "usercom",
      handler: (request) => this.handle(request),
      admin: (request) => this.adminRoute(request),
      refusal: (message) => ({ status: 401, body: { detail: message } }),
    });
    this.rate = new RateWindow(options.rateLimitPerSecond ?? 100);
    this.policy = options.unknownAttributes ?? "by-version";
    this.acceptedVersions = options.acceptedVersions ?? API_VERSIONS;
    this.massUpdateMaxIds = options.massUpdateMaxIds ?? 1_000;
    this.lookupDelayMs = options.lookupDelayMs ?? 0;
    this.massUpdateDelayMs = options.massUpdateDelayMs ?? 0;
    for (const definition of options.attributes ?? SANDBOX_DEFAULT_ATTRIBUTES) this.defineAttribute(definition);
    for (const id of options.seedUserIds ?? []) this.addUser(id);
  }

  /** Users exist before they are updated (the PUT by custom id never creates one). Returns the internal id. */
  addUser(
    customId: string,
    init: { fields?: Record<string, unknown>; attributes?: Record<string, unknown>; tags?: readonly string[] } = {},
  ): number {
    const now = new Date().toISOString();
    const user: StoredUser = {
      id: this.nextUserId++,
      key: randomKey(),
      customId,
      fields: {
        ...Object.fromEntries([...STRING_FIELDS, "assigned_to"].map((f) => [f, null])),
        gender: "unknown",
        status: "visitor",
        score: 0,
        notifications: true,
        unsubscribed: false,
        ...init.fields,
      },
      tags: new Set((init.tags ?? []).map((name) => this.tagId(name))),
      values: new Map(),
      createdAt: now,
      updatedAt: now,
    };
    for (const [name, value] of Object.entries(init.attributes ?? {})) {
      const definition = this.findDefinition(name) ?? this.defineAttribute({ name, type: inferType(value) });
      user.values.set(definition.id, value);
    }
    this.users.set(customId, user);
    this.usersById.set(user.id, user);
    return user.id;
  }

  defineAttribute(definition: SandboxAttributeDefinition): Definition {
    const created: Definition = {
      id: this.nextDefinitionId++,
      name: definition.name,
      nameStd: definition.nameStd ?? standardName(definition.name),
      type: definition.type,
    };
    this.definitions.push(created);
    return created;
  }

  attributeDefinitions(): Array<{ name: string; nameStd: string; type: UserComValueType }> {
    return this.definitions.map(({ name, nameStd, type }) => ({ name, nameStd, type }));
  }

  setUnknownAttributePolicy(policy: SandboxAttributePolicy): void {
    this.policy = policy;
  }

  /** The user as the API would show it (version 2 shape), or undefined. */
  user(customId: string): Record<string, unknown> | undefined {
    const user = this.users.get(customId);
    return user ? this.render(user, 2) : undefined;
  }

  internalId(customId: string): number | undefined {
    return this.users.get(customId)?.id;
  }

  /** The most custom-id look-ups that were in flight at once since the last reset. */
  lookupStats(): { maxInFlight: number } {
    return { maxInFlight: this.maxLookupsInFlight };
  }

  resetLookupStats(): void {
    this.maxLookupsInFlight = 0;
  }

  private async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const route = matchRoute(request.path);
    if (route === "needs-slash") {
      const query = request.query.toString();
      return { status: 301, headers: { location: `${request.path}/${query ? `?${query}` : ""}` } };
    }
    if (!route)
      return {
        status: 404,
        body: "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>",
        headers: { "content-type": "text/html" },
      };

    const version = requestedVersion(request);
    if (version === undefined || !this.acceptedVersions.includes(version)) {
      return { status: 406, body: { detail: 'Invalid version in "Accept" header.' } };
    }
    const authorization = request.headers.authorization;
    if (!authorization?.startsWith("Token ")) {
      return { status: 401, body: { detail: "Authentication credentials were not provided." }, headers: { "www-authenticate": "Token" } };
    }
    const token = authorization.slice("Token ".length).trim();
    if (token !== SANDBOX_API_KEY && token !== SANDBOX_KEY_WITHOUT_PERMISSION) {
      return { status: 401, body: { detail: "Invalid token." }, headers: { "www-authenticate": "Token" } };
    }
    if (token === SANDBOX_KEY_WITHOUT_PERMISSION) {
      return { status: 403, body: { detail: "You do not have permission to perform this action." } };
    }
    if (!this.rate.admit(token)) {
      return { status: 429, body: { detail: "Request was throttled. Expected available in 1 second." }, headers: { "retry-after": "1" } };
    }
    if (!route.methods.includes(request.method)) {
      return { status: 405, body: { detail: `Method "${request.method}" not allowed.` } };
    }
    if (request.jsonError) return { status: 400, body: { detail: "JSON parse error - the body is not valid JSON" } };

    if (route.name === "massUpdate") {
      if (this.massUpdateDelayMs > 0) await sleep(this.massUpdateDelayMs);
      return this.massUpdate(request, version);
    }
    const user = this.users.get(route.customId!);
    if (route.name === "user" && request.method === "GET") return this.lookUp(user, version);
    if (!user) return { status: 404, body: { detail: "Not found." } };
    switch (route.name) {
      case "user":
        return this.update(user, request.json, version);
      case "removeAttribute":
        return this.removeAttribute(user, request.json, version);
      case "removeTag":
        return this.removeTag(user, request.json, version);
    }
  }

  private async lookUp(user: StoredUser | undefined, version: ApiVersion): Promise<SandboxResponse> {
    this.lookupsInFlight++;
    this.maxLookupsInFlight = Math.max(this.maxLookupsInFlight, this.lookupsInFlight);
    try {
      if (this.lookupDelayMs > 0) await sleep(this.lookupDelayMs);
      return user ? { status: 200, body: this.render(user, version) } : { status: 404, body: { detail: "Not found." } };
    } finally {
      this.lookupsInFlight--;
    }
  }

  /** Validates the whole body first and applies nothing when any field is invalid (DRF serializer semantics). */
  private update(user: StoredUser, body: unknown, version: ApiVersion): SandboxResponse {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return {
        status: 400,
        body: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${Array.isArray(body) ? "list" : typeof body}.`] },
      };
    }
    const errors: FieldErrors = {};
    const fields: Record<string, unknown> = {};
    const values: Array<{ definition: Definition | SandboxAttributeDefinition; value: unknown }> = [];
    let tags: string[] = [];
    let newCustomId: string | undefined;
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (STRING_FIELDS.includes(key)) {
        const problem = stringFieldProblem(key, value);
        if (problem) errors[key] = [problem];
        else fields[key] = typeof value === "string" ? value.trim() : null; // DRF CharField trims by default
      } else if (INTEGER_FIELDS.includes(key)) {
        if (value === null || Number.isSafeInteger(value)) fields[key] = value;
        else errors[key] = ["A valid integer is required."];
      } else if (BOOLEAN_FIELDS.includes(key)) {
        if (typeof value === "boolean") fields[key] = value;
        else errors[key] = ["Must be a valid boolean."];
      } else if (key === "user_id" || key === "custom_id") {
        if (typeof value === "string" && value.trim() !== "") newCustomId = value;
        else errors[key] = ["Not a valid string."];
      } else if (key === "tags") {
        if (!Array.isArray(value)) errors.tags = [`Expected a list of items but got type "${typeof value}".`];
        else if (!value.every((t) => typeof t === "string" && t.trim() !== "")) errors.tags = ["Tag names must be non-empty strings."];
        else tags = value as string[];
      } else if (READ_ONLY_FIELDS.has(key)) {
        continue; // ignored, as DRF ignores read-only fields in input
      } else {
        const resolved = this.resolveForWrite(key, version, value);
        if ("ignore" in resolved) continue;
        if ("error" in resolved) {
          errors[key] = [resolved.error];
          continue;
        }
        const problem = valueProblem(resolved.definition.type, value);
        if (problem) errors[key] = [problem];
        else values.push({ definition: resolved.definition, value: normalizeValue(resolved.definition.type, value) });
      }
    }
    if (newCustomId !== undefined && newCustomId !== user.customId && this.users.has(newCustomId)) {
      errors[CUSTOM_ID_FIELD[version]] = ["user with this custom id already exists."];
    }
    if (Object.keys(errors).length > 0) return { status: 400, body: errors };

    Object.assign(user.fields, fields);
    for (const { definition, value } of values) {
      const stored = "id" in definition ? definition : (this.findDefinition(definition.name) ?? this.defineAttribute(definition));
      user.values.set(stored.id, value);
    }
    for (const tag of tags) user.tags.add(this.tagId(tag));
    if (newCustomId !== undefined && newCustomId !== user.customId) {
      this.users.delete(user.customId);
      user.customId = newCustomId;
      this.users.set(newCustomId, user);
    }
    user.updatedAt = new Date().toISOString();
    return { status: 200, body: this.render(user, version) };
  }

  private removeAttribute(user: StoredUser, body: unknown, version: ApiVersion): SandboxResponse {
    const attribute = (body as { attribute?: unknown } | undefined)?.attribute;
    if (typeof attribute !== "string" || attribute.trim() === "") return { status: 400, body: { attribute: ["This field is required."] } };
    const definition = this.findDefinition(attribute);
    if (!definition) return { status: 400, body: { attribute: [`Attribute "${attribute}" does not exist.`] } };
    user.values.delete(definition.id);
    user.updatedAt = new Date().toISOString();
    return { status: 200, body: this.render(user, version) };
  }

  /** Removing a tag the user does not have changes nothing and is not an error. */
  private removeTag(user: StoredUser, body: unknown, version: ApiVersion): SandboxResponse {
    const name = (body as { name?: unknown } | undefined)?.name;
    if (typeof name !== "string" || name.trim() === "") return { status: 400, body: { name: ["This field is required."] } };
    const id = this.tagIds.get(name);
    if (id !== undefined) user.tags.delete(id);
    user.updatedAt = new Date().toISOString();
    return { status: 200, body: this.render(user, version) };
  }

  /** `{ids: [internal ids], attribute, value}`; every id must exist, or nothing is applied. */
  private massUpdate(request: SandboxRequest, version: ApiVersion): SandboxResponse {
    const body = request.json;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return { status: 400, body: { non_field_errors: ["Invalid data. Expected a dictionary."] } };
    }
    const { ids, attribute, value } = body as { ids?: unknown; attribute?: unknown; value?: unknown };
    const errors: FieldErrors = {};
    if (!Array.isArray(ids)) errors.ids = ["Expected a list of items."];
    else if (ids.length === 0) errors.ids = ["This list may not be empty."];
    else if (ids.length > this.massUpdateMaxIds) errors.ids = [`Ensure this field has no more than ${this.massUpdateMaxIds} elements.`];
    else if (!ids.every((id) => Number.isSafeInteger(id))) errors.ids = ["A valid integer is required."];
    else {
      const missing = (ids as number[]).filter((id) => !this.usersById.has(id));
      if (missing.length > 0) errors.ids = missing.map((id) => `Invalid pk "${id}" - object does not exist.`);
    }
    let definition: Definition | SandboxAttributeDefinition | undefined;
    if (typeof attribute !== "string" || attribute.length === 0) errors.attribute = ["This field is required."];
    else if (Array.from(attribute).length > MAX_ATTRIBUTE_NAME_LENGTH)
      errors.attribute = [`Ensure this field has no more than ${MAX_ATTRIBUTE_NAME_LENGTH} characters.`];
    else {
      const resolved = this.resolveForWrite(attribute, version, value);
      if ("ignore" in resolved)
        return Object.keys(errors).length > 0 ? { status: 400, body: errors } : { status: 200, body: { status: "ok" } };
      if ("error" in resolved) errors.attribute = [resolved.error];
      else definition = resolved.definition;
    }
    if (definition && value === undefined) errors.value = ["This field is required."];
    else if (definition) {
      const problem = valueProblem(definition.type, value);
      if (problem) errors.value = [problem];
    }
    if (Object.keys(errors).length > 0 || !definition) return { status: 400, body: errors };

    const stored = "id" in definition ? definition : this.defineAttribute(definition);
    const updatedAt = new Date().toISOString();
    for (const id of new Set(ids as number[])) {
      const user = this.usersById.get(id)!;
      user.values.set(stored.id, normalizeValue(stored.type, value));
      user.updatedAt = updatedAt;
    }
    return { status: 200, body: { status: "ok" } };
  }

  /** The definition a written key refers to, or a new one under "create", or the refusal under "refuse". */
  private resolveForWrite(
    key: string,
    version: ApiVersion,
    value: unknown,
  ): { definition: Definition | SandboxAttributeDefinition } | { error: string } | { ignore: true } {
    const existing = this.findDefinition(key);
    if (existing) return { definition: existing };
    if (this.policy === "ignore") return { ignore: true };
    const create = this.policy === "create" || (this.policy === "by-version" && version === 1);
    if (!create) return { error: `Custom attribute "${key}" does not exist. Create it in the app settings first.` };
    if (Array.from(key).length > MAX_ATTRIBUTE_NAME_LENGTH) {
      return { error: `Ensure this field has no more than ${MAX_ATTRIBUTE_NAME_LENGTH} characters.` };
    }
    return { definition: { name: key, type: inferType(value) } }; // created with the type of its first value
  }

  private findDefinition(key: string): Definition | undefined {
    const std = standardName(key);
    return (
      this.definitions.find((d) => d.nameStd === key) ??
      this.definitions.find((d) => d.name === key) ??
      this.definitions.find((d) => d.nameStd === std)
    );
  }

  private tagId(name: string): number {
    let id = this.tagIds.get(name);
    if (id === undefined) {
      id = this.nextTagId++;
      this.tagIds.set(name, id);
    }
    return id;
  }

  private render(user: StoredUser, version: ApiVersion): Record<string, unknown> {
    const tagNames = new Map([...this.tagIds].map(([name, id]) => [id, name]));
    const first = user.fields.first_name;
    const last = user.fields.last_name;
    const name = [first, last].filter((p) => typeof p === "string" && p.length > 0).join(" ");
    return {
      id: user.id,
      key: user.key,
      [CUSTOM_ID_FIELD[version]]: user.customId,
      ...user.fields,
      name: name.length > 0 ? name : null,
      tags: [...user.tags].map((id) => ({ name: tagNames.get(id), id })),
      attributes: this.definitions
        .filter((d) => user.values.has(d.id))
        .map((d) => ({ value: user.values.get(d.id), name: d.name, name_std: d.nameStd, id: d.id })),
      lists: [],
      companies: [],
      page_views: 0,
      last_seen: null,
      first_seen: null,
      created_at: user.createdAt,
      updated_at: user.updatedAt,
    };
  }

  private adminRoute(request: SandboxRequest): SandboxResponse | undefined {
    if (request.path === "/__sandbox/users" && request.method === "POST") {
      const body = request.json as { customId?: unknown; fields?: unknown; attributes?: unknown; tags?: unknown } | undefined;
      if (typeof body?.customId !== "string" || body.customId.length === 0) {
        return { status: 400, body: { error: "expected {customId, fields?, attributes?, tags?}" } };
      }
      if (this.users.has(body.customId)) return { status: 409, body: { error: "user exists" } };
      this.addUser(body.customId, {
        ...(isRecord(body.fields) ? { fields: body.fields } : {}),
        ...(isRecord(body.attributes) ? { attributes: body.attributes } : {}),
        ...(Array.isArray(body.tags) ? { tags: body.tags.filter((t): t is string => typeof t === "string") } : {}),
      });
      return { status: 201, body: this.user(body.customId) };
    }
    const match = /^\/__sandbox\/users\/([^/]+)$/.exec(request.path);
    if (match && request.method === "GET") {
      const user = this.user(decodeURIComponent(match[1]!));
      return user ? { status: 200, body: user } : { status: 404, body: { error: "no such user" } };
    }
    if (request.path === "/__sandbox/attributes" && request.method === "GET") {
      return { status: 200, body: this.attributeDefinitions() };
    }
    if (request.path === "/__sandbox/attributes" && request.method === "POST") {
      const body = request.json as { name?: unknown; type?: unknown; nameStd?: unknown } | undefined;
      const type = USERCOM_VALUE_TYPES.find((t) => t === body?.type);
      if (typeof body?.name !== "string" || body.name.length === 0 || !type) {
        return { status: 400, body: { error: `expected {name, type (${USERCOM_VALUE_TYPES.join(", ")}), nameStd?}` } };
      }
      const created = this.defineAttribute({
        name: body.name,
        type,
        ...(typeof body.nameStd === "string" ? { nameStd: body.nameStd } : {}),
      });
      return { status: 201, body: { name: created.name, nameStd: created.nameStd, type: created.type } };
    }
    if (request.path === "/__sandbox/policy" && request.method === "PUT") {
      const policy = (request.json as { unknownAttributes?: unknown } | undefined)?.unknownAttributes;
      if (policy !== "by-version" && policy !== "create" && policy !== "refuse" && policy !== "ignore") {
        return { status: 400, body: { error: 'expected {unknownAttributes: "by-version" | "create" | "refuse" | "ignore"}' } };
      }
      this.setUnknownAttributePolicy(policy);
      return { status: 204 };
    }
    return undefined;
  }
}

function matchRoute(path: string): Route | "needs-slash" | undefined {
  if (!path.startsWith(`${SANDBOX_API_PATH}/`)) return undefined;
  const rest = path.slice(SANDBOX_API_PATH.length + 1);
  const route = matchApiPath(rest);
  if (route) return route;
  return !rest.endsWith("/") && matchApiPath(`${rest}/`) ? "needs-slash" : undefined;
}

function matchApiPath(rest: string): Route | undefined {
  if (rest === "users/mass_update_custom_attributes/") return { name: "massUpdate", methods: ["PUT", "POST"] };
  const match = /^users-by-id\/([^/]+)\/(?:(remove_attribute|remove_tag)\/)?$/.exec(rest);
  if (!match) return undefined;
  let customId: string;
  try {
    customId = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  if (match[2] === "remove_attribute") return { name: "removeAttribute", methods: ["POST"], customId };
  if (match[2] === "remove_tag") return { name: "removeTag", methods: ["POST"], customId };
  return { name: "user", methods: ["GET", "PUT"], customId };
}

/** Version from `Accept: …; version=N`; none means version 1; an unreadable one is undefined (406). */
function requestedVersion(request: SandboxRequest): ApiVersion | undefined {
  const accept = request.headers.accept;
  if (accept === undefined) return 1;
  const match = /version\s*=\s*([^;,\s]+)/.exec(accept);
  if (!match) return 1;
  return API_VERSIONS.find((v) => String(v) === match[1]);
}

function stringFieldProblem(key: string, value: unknown): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== "string") return "Not a valid string.";
  const trimmed = value.trim();
  if ((key === "first_name" || key === "last_name") && Array.from(trimmed).length > MAX_NAME_LENGTH) {
    return `Ensure this field has no more than ${MAX_NAME_LENGTH} characters.`;
  }
  if (key === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed)) return "Enter a valid email address.";
  return undefined;
}

function valueProblem(type: UserComValueType, value: unknown): string | undefined {
  if (value === null) return undefined;
  switch (type) {
    case "boolean":
      return typeof value === "boolean" ? undefined : "Must be a valid boolean.";
    case "integer":
      return Number.isSafeInteger(value) ? undefined : "A valid integer is required.";
    case "float":
    case "fixed":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "A valid number is required.";
    case "string":
      return typeof value === "string" ? undefined : "Not a valid string.";
    case "date":
      return typeof value === "string" && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
    case "datetime":
      return typeof value === "string" && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].";
    case "json":
      return undefined;
  }
}

/** Date-times come back in one canonical form, as a server that parses and re-renders them would answer. */
function normalizeValue(type: UserComValueType, value: unknown): unknown {
  if (type === "datetime" && typeof value === "string") return new Date(Date.parse(value)).toISOString();
  return value;
}

function inferType(value: unknown): UserComValueType {
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "float";
  if (typeof value === "string") return ISO_DATE.test(value) ? "date" : ISO_DATE_TIME.test(value) ? "datetime" : "string";
  if (typeof value === "object" && value !== null) return "json";
  return "string";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function randomKey(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return Array.from({ length: 12 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("");
}

export async function startUserComSandbox(options: UserComSandboxOptions = {}): Promise<UserComSandbox> {
  const sandbox = new UserComSandbox(options);
  await sandbox.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return sandbox;
}
