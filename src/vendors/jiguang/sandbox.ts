import { RateWindow, SandboxServer, decodeBasicAuth, type SandboxRequest, type SandboxResponse } from "../../sandbox/kit.js";
import type { SandboxOptions } from "../define-vendor.js";
import { ATTRIBUTE_PATH, REGISTER_PATH } from "./api-version.js";
import { validateCatalog, type AttributeDefinition, type CatalogDocument } from "./catalog.js";
import { SANDBOX_CATALOG, SANDBOX_PROJECT_ID, SANDBOX_PROJECT_SECRET } from "./config.js";
import { MAX_IDENTITY_VALUE_LENGTH, MAX_VALUES_PER_LOOKUP } from "./identity.js";
import { longFrom, parseJsonKeepingLongs, parseLong, type LongText } from "./long-json.js";

/** Codes the sandbox answers with, and the message texts (Chinese, as Jiguang's are). */
const MESSAGES = {
  auth: "API鉴权失败",
  invalid: "业务参数不合法",
  badCuid: "CUID不合法",
  emptyCuid: "CUID不能为空",
  emptyValue: "用户属性值不能为空",
  rateLimited: "请求过于频繁",
} as const;

type StoredValue = number | string | string[];

export interface JiguangSandboxOptions extends SandboxOptions {
  /** Jiguang's QPS per project; over-rate requests get HTTP 429. */
  readonly rateLimitPerSecond?: number;
  readonly catalog?: CatalogDocument;
  /**
   * Which HTTP status carries an error code. Jiguang does not document it; "conventional" (the
   * default) uses 401/400/404/500, 200 answers every code with 200. The adapter reads only the code.
   */
  readonly errorStatus?: "conventional" | 200;
  /** Identifier names that exist in the project; unset accepts any name. */
  readonly identityNames?: readonly string[];
}

/**
 * Jiguang Operation Growth as documented: Basic `projectId:projectSecret`; PUT user/attribute
 * applying each attribute's rule (once only, overwrite, accumulate, append) with its type checks
 * and error codes; POST user/register mapping identity values to CUIDs; QPS per project.
 * Users exist only when seeded (Jiguang's write never creates one).
 */
export class JiguangSandbox extends SandboxServer {
  private readonly users = new Map<string, Map<string, StoredValue>>();
  /** `${identityName}\n${value}` → CUID; the name "" means "under any identifier name". */
  private readonly identities = new Map<string, LongText>();
  private readonly definitions: ReadonlyMap<string, AttributeDefinition>;
  private readonly rate: RateWindow;
  private readonly errorStatus: "conventional" | 200;
  private readonly identityNames: ReadonlySet<string> | undefined;
  private readonly canned: SandboxResponse[] = [];
  private readonly texts: Array<{ method: string; path: string; text: string }> = [];
  private nextCuid = 10362473n; // the documentation's example CUID

  constructor(options: JiguangSandboxOptions = {}) {
    super({
      name: "jiguang",
      handler: (request) => this.handle(request),
      admin: (request) => this.adminRoute(request),
      refusal: (message) => this.code(4009, message),
    });
    const catalog = validateCatalog(options.catalog ?? SANDBOX_CATALOG, "sandbox catalog");
    if (!catalog.ok) throw new Error(catalog.problems.join("; "));
    this.definitions = catalog.catalog.attributes;
    this.rate = new RateWindow(options.rateLimitPerSecond ?? 100);
    this.errorStatus = options.errorStatus ?? "conventional";
    this.identityNames = options.identityNames ? new Set(options.identityNames) : undefined;
    for (const id of options.seedUserIds ?? []) this.addIdentity(id, parseLong(id));
  }

  /** Creates a user (a CUID with no attributes) unless it exists. */
  addUser(cuid: string): LongText {
    const long = parseLong(cuid);
    if (!long) throw new Error(`not a CUID: ${cuid}`);
    if (!this.users.has(long)) this.users.set(long, new Map());
    return long;
  }

  /** Maps an identity value to a CUID (allocated when not given), creating the user. */
  addIdentity(identityValue: string, cuid?: string, identityName = ""): LongText {
    let long: LongText;
    if (cuid !== undefined) {
      long = this.addUser(cuid);
    } else {
      while (this.users.has(String(this.nextCuid))) this.nextCuid++;
      long = this.addUser(String(this.nextCuid++));
    }
    this.identities.set(`${identityName}\n${identityValue}`, long);
    return long;
  }

  /** The attributes stored for a CUID, or `undefined` when no such user exists. */
  attributes(cuid: string): Record<string, StoredValue> | undefined {
    const user = this.users.get(cuid);
    return user ? Object.fromEntries([...user].map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) : undefined;
  }

  /** The next `count` authenticated, in-rate requests get this answer: for codes the adapter never provokes. */
  respondNext(response: SandboxResponse, count = 1): void {
    for (let i = 0; i < count; i++) this.canned.push(response);
  }

  /** Request bodies exactly as received (the journal holds them parsed, which rounds Longs). */
  requestTexts(): Array<{ method: string; path: string; text: string }> {
    return [...this.texts];
  }

  private handle(request: SandboxRequest): SandboxResponse {
    this.texts.push({ method: request.method, path: request.path, text: request.text });
    if (this.texts.length > 10_000) this.texts.shift();
    const auth = decodeBasicAuth(request.headers.authorization);
    if (!auth || auth.user !== SANDBOX_PROJECT_ID || auth.password !== SANDBOX_PROJECT_SECRET) {
      return this.code(4009, MESSAGES.auth);
    }
    if (!this.rate.admit(auth.user)) {
      return { status: 429, headers: { "retry-after": "1" }, body: { code: 429, msg: MESSAGES.rateLimited } };
    }
    const canned = this.canned.shift();
    if (canned) return canned;
    const route = request.path.replace(/^\/+/, "");
    if (route === ATTRIBUTE_PATH) return request.method === "PUT" ? this.setAttributes(request) : this.wrongMethod();
    if (route === REGISTER_PATH) return request.method === "POST" ? this.register(request) : this.wrongMethod();
    return { status: 404, body: { code: 404, msg: "not found" } };
  }

  private setAttributes(request: SandboxRequest): SandboxResponse {
    const body = this.parse(request.text);
    if (!body) return this.code(40002, `${MESSAGES.invalid}: 请求体不是JSON对象`);
    if (body.cuid === undefined || body.cuid === null || body.cuid === "") return this.code(40007, MESSAGES.emptyCuid);
    // The documented type is Long: a JSON integer. Text, even of digits, is not one.
    const cuid = typeof body.cuid === "string" ? undefined : longFrom(body.cuid);
    if (!cuid) return this.code(40003, MESSAGES.badCuid);
    const user = this.users.get(cuid);
    if (!user) return this.code(40003, MESSAGES.badCuid);
    const data = body.data;
    if (typeof data !== "object" || data === null || Array.isArray(data) || Object.keys(data).length === 0) {
      return this.code(40002, `${MESSAGES.invalid}: data`);
    }
    // Checked in full before anything is stored: the sandbox applies a request all or nothing.
    const writes: Array<[string, AttributeDefinition, StoredValue]> = [];
    for (const [name, raw] of Object.entries(data as Record<string, unknown>)) {
      const definition = this.definitions.get(name);
      if (!definition) return this.code(40010, `用户属性[${name}]不存在`);
      if (raw === null || raw === "" || (Array.isArray(raw) && raw.length === 0)) return this.code(40009, MESSAGES.emptyValue);
      const value = typed(definition, raw);
      if (value === undefined) return this.code(40002, `${MESSAGES.invalid}: 用户属性[${name}]的值不是${definition.type}`);
      writes.push([name, definition, value]);
    }
    for (const [name, definition, value] of writes) {
      const stored = user.get(name);
      switch (definition.rule) {
        case "once":
          if (stored === undefined) user.set(name, value);
          break;
        case "overwrite":
          user.set(name, value);
          break;
        case "accumulate":
          user.set(name, ((stored as number | undefined) ?? 0) + (value as number));
          break;
        case "append":
          user.set(name, [...((stored as string[] | undefined) ?? []), ...(value as string[])]);
          break;
      }
    }
    return this.code(0, "ok");
  }

  private register(request: SandboxRequest): SandboxResponse {
    const body = this.parse(request.text);
    const name = body?.identityName;
    const values = body?.identityValues;
    if (typeof name !== "string" || name === "") return this.code(40002, `${MESSAGES.invalid}: identityName`);
    if (this.identityNames && !this.identityNames.has(name)) return this.code(40002, `用户标识[${name}]不存在`);
    if (!isStringList(values) || values.length === 0) return this.code(40002, `${MESSAGES.invalid}: identityValues`);
    if (values.length > MAX_VALUES_PER_LOOKUP) {
      return this.code(40002, `${MESSAGES.invalid}: identityValues最多${MAX_VALUES_PER_LOOKUP}个`);
    }
    if (values.some((v) => Array.from(v).length > MAX_IDENTITY_VALUE_LENGTH)) {
      return this.code(40002, `${MESSAGES.invalid}: identityValue超过${MAX_IDENTITY_VALUE_LENGTH}个字符`);
    }
    const entries: string[] = [];
    for (const value of new Set(values)) {
      const cuid = this.identities.get(`${name}\n${value}`) ?? this.identities.get(`\n${value}`);
      // Written by hand so that CUIDs beyond 2^53 keep every digit.
      if (cuid) entries.push(`{"identityValue":${JSON.stringify(value)},"cuid":${cuid}}`);
    }
    return { status: 200, body: `{"code":0,"msg":"ok","data":[${entries.join(",")}]}` };
  }

  private parse(text: string): Record<string, unknown> | undefined {
    try {
      const value = parseJsonKeepingLongs(text);
      return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private code(code: number, msg: string): SandboxResponse {
    const status = code === 0 || this.errorStatus === 200 ? 200 : code === 4009 ? 401 : code === 40003 ? 404 : code === -1 ? 500 : 400;
    return { status, body: { code, msg } };
  }

  private wrongMethod(): SandboxResponse {
    return { status: 405, body: { code: 405, msg: "method not allowed" } };
  }

  private adminRoute(request: SandboxRequest): SandboxResponse | undefined {
    if (request.path === "/__sandbox/users" && request.method === "POST") {
      const body = this.parse(request.text);
      const cuid = body?.cuid === undefined ? undefined : longFrom(body.cuid);
      const identityValue = body?.identityValue;
      const identityName = body?.identityName;
      if (
        (body?.cuid !== undefined && !cuid) ||
        (identityValue !== undefined && typeof identityValue !== "string") ||
        (identityName !== undefined && typeof identityName !== "string") ||
        (cuid === undefined && identityValue === undefined)
      ) {
        return { status: 400, body: { error: "expected {cuid?, identityValue?, identityName?} with a cuid or an identityValue" } };
      }
      const created =
        typeof identityValue === "string"
          ? this.addIdentity(identityValue, cuid, typeof identityName === "string" ? identityName : "")
          : this.addUser(cuid!);
      return { status: 201, body: { cuid: created } };
    }
    const match = /^\/__sandbox\/users\/([^/]+)$/.exec(request.path);
    if (match && request.method === "GET") {
      const cuid = decodeURIComponent(match[1]!);
      const attributes = this.attributes(cuid);
      return attributes ? { status: 200, body: { cuid, attributes } } : { status: 404, body: { error: "no such CUID" } };
    }
    if (request.path === "/__sandbox/catalog" && request.method === "GET") {
      return { status: 200, body: { attributes: Object.fromEntries(this.definitions) } };
    }
    return undefined;
  }
}

/** The stored form of a wire value when it fits the attribute's type; `undefined` when Jiguang would answer 40002. */
function typed(definition: AttributeDefinition, raw: unknown): StoredValue | undefined {
  switch (definition.type) {
    case "NUMBER":
      if (typeof raw === "bigint") return Number(raw);
      return typeof raw === "number" && Number.isFinite(raw) ? raw : undefined;
    case "STRING":
      return typeof raw === "string" ? raw : undefined;
    case "BOOL":
      return raw === 0 || raw === 1 ? raw : undefined;
    case "DATETIME":
      return typeof raw === "string" && isWallClock(raw) ? raw : undefined;
    case "LIST":
      return isStringList(raw) ? [...raw] : undefined;
  }
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/** `yyyy-MM-dd HH:mm:ss` naming a real calendar day and time of day. */
function isWallClock(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  );
}

export async function startJiguangSandbox(options: JiguangSandboxOptions = {}): Promise<JiguangSandbox> {
  const sandbox = new JiguangSandbox(options);
  await sandbox.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return sandbox;
}
