import { RateWindow, SandboxServer, decodeBasicAuth, type SandboxRequest, type SandboxResponse } from "../../sandbox/kit.js";
import type { SandboxOptions } from "../define-vendor.js";
import { SANDBOX_API_KEY, SANDBOX_KEY_WITHOUT_ROLE } from "./config.js";
import { LIMITS, normalizeKey, type CarnivalScalar, type CarnivalType } from "./mapper.js";

interface StoredAttribute {
  type: CarnivalType;
  value: CarnivalScalar | CarnivalScalar[];
}
type Device = Map<string, StoredAttribute>;

export interface CarnivalSandboxOptions extends SandboxOptions {
  /** Devices each seeded user has (default 1); every one of them gets the attributes. */
  readonly devicesPerUser?: number;
}

/**
 * Carnival's users endpoint as documented: Basic auth with an empty user, PUT
 * /v4|v5|v6/users/:user_id, typed custom attributes merged per device, with Carnival's own
 * silent behaviour (key normalization, truncation, discarding) so tests can show that the
 * adapter's checks keep data from being lost.
 */
export class CarnivalSandbox extends SandboxServer {
  private readonly users = new Map<string, Device[]>();
  private readonly rate: RateWindow;
  private readonly devicesPerUser: number;

  constructor(options: CarnivalSandboxOptions = {}) {
    super({
      name: "carnival",
      handler: (request) => this.handle(request),
      admin: (request) => this.adminRoute(request),
      refusal: (message) => ({ status: 401, body: { error: message } }),
    });
    this.rate = new RateWindow(options.rateLimitPerSecond ?? 120);
    this.devicesPerUser = options.devicesPerUser ?? 1;
    for (const id of options.seedUserIds ?? []) this.addUser(id);
  }

  /** Users are created by Carnival's SDK, never by this API; tests and the dev start seed them. */
  addUser(userId: string, devices = this.devicesPerUser): void {
    this.users.set(
      userId,
      Array.from({ length: devices }, (): Device => new Map()),
    );
  }

  /** The attributes stored on each of the user's devices. */
  devices(userId: string): Array<Record<string, StoredAttribute>> | undefined {
    return this.users.get(userId)?.map((device) => Object.fromEntries(device));
  }

  private handle(request: SandboxRequest): SandboxResponse {
    const auth = decodeBasicAuth(request.headers.authorization);
    if (!auth || auth.user !== "" || (auth.password !== SANDBOX_API_KEY && auth.password !== SANDBOX_KEY_WITHOUT_ROLE)) {
      return { status: 401, body: { error: "unauthorized" } };
    }
    if (auth.password === SANDBOX_KEY_WITHOUT_ROLE) {
      return { status: 403, body: { error: "your api client does not have the correct roles" } };
    }
    if (!this.rate.admit(auth.password)) {
      // With the Retry-After vendors send (Carnival documents none: the client pauses 1 s without one).
      return {
        status: 429,
        headers: { "retry-after": String(this.rate.retryAfterSeconds(auth.password)) },
        body: { error: "rate limit exceeded" },
      };
    }
    const match = /^\/v[456]\/users\/([^/]+)$/.exec(request.path);
    // A path outside the API gets the web server's page, not the API's JSON `{}` for a missing user.
    if (!match) return { status: 404, headers: { "content-type": "text/html" }, body: "<html><body><h1>404 Not Found</h1></body></html>" };
    if (request.method !== "PUT") return { status: 405, body: { error: "method not allowed" } };
    const userId = decodeURIComponent(match[1]!);
    if (request.jsonError) return { status: 400, body: { error: "invalid JSON" } };
    const custom = (request.json as { user?: { custom?: unknown } } | undefined)?.user?.custom;
    if (typeof custom !== "object" || custom === null || Array.isArray(custom)) {
      return { status: 400, body: { error: "user.custom must be an object" } };
    }
    const devices = this.users.get(userId);
    if (!devices) return { status: 404, body: {} };

    const accepted = new Map<string, StoredAttribute>();
    for (const [rawKey, raw] of Object.entries(custom as Record<string, unknown>)) {
      const key = normalizeKey(rawKey).slice(0, LIMITS.maxKeyLength);
      const attribute = coerce(raw);
      // Discarded with no error, as documented ("Invalid keys ... will simply be discarded"), even
      // when nothing in the request is valid: the 202 echo then holds nothing.
      if (key.length === 0 || !attribute) continue;
      accepted.set(key, attribute);
    }
    const keptEverywhere = new Map(accepted);
    for (const device of devices) {
      for (const [key, attribute] of accepted) {
        if (device.has(key) || device.size < LIMITS.maxAttributesPerDevice) device.set(key, attribute);
        else keptEverywhere.delete(key); // the 51st new attribute is discarded without an error
      }
    }
    return { status: 202, body: { custom: Object.fromEntries(keptEverywhere) } };
  }

  private adminRoute(request: SandboxRequest): SandboxResponse | undefined {
    if (request.path === "/__sandbox/users" && request.method === "POST") {
      const body = request.json as { userId?: unknown; devices?: unknown } | undefined;
      if (typeof body?.userId !== "string") return { status: 400, body: { error: "expected {userId, devices?}" } };
      this.addUser(body.userId, typeof body.devices === "number" ? body.devices : this.devicesPerUser);
      return { status: 201, body: { userId: body.userId } };
    }
    const match = /^\/__sandbox\/users\/([^/]+)$/.exec(request.path);
    if (match && request.method === "GET") {
      const devices = this.devices(decodeURIComponent(match[1]!));
      return devices ? { status: 200, body: { devices } } : { status: 404, body: {} };
    }
    return undefined;
  }
}

/** Carnival's type rules, including its lossy ones (truncation, float narrowing, discarding). */
function coerce(raw: unknown): StoredAttribute | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const { type, value } = raw as { type?: unknown; value?: unknown };
  if (type !== "integer" && type !== "float" && type !== "string" && type !== "date" && type !== "boolean") return undefined;
  if (Array.isArray(value)) {
    if (type === "boolean") return undefined;
    const items = value.slice(0, LIMITS.maxArrayLength).map((item) => coerceScalar(type, item));
    if (items.some((item) => item === undefined)) return undefined;
    return { type, value: items as CarnivalScalar[] };
  }
  const single = coerceScalar(type, value);
  return single === undefined ? undefined : { type, value: single };
}

function coerceScalar(type: CarnivalType, value: unknown): CarnivalScalar | undefined {
  switch (type) {
    case "integer":
      if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
      return Math.abs(Math.trunc(value)) > LIMITS.maxInteger ? undefined : Math.trunc(value);
    case "float":
      return typeof value === "number" && Number.isFinite(value) ? Math.fround(value) : undefined;
    case "string":
      return typeof value === "string" ? Array.from(value).slice(0, LIMITS.maxStringLength).join("") : undefined;
    case "date":
      return typeof value === "string" && isIso8601(value) ? value : undefined;
    case "boolean":
      return typeof value === "boolean" ? value : undefined;
  }
}

/** ISO 8601 date-times as in Carnival's examples, with `Z` or a ±hh[:]mm offset. */
function isIso8601(value: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value) &&
    !Number.isNaN(Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2")))
  );
}

export async function startCarnivalSandbox(options: CarnivalSandboxOptions = {}): Promise<CarnivalSandbox> {
  const sandbox = new CarnivalSandbox(options);
  await sandbox.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  return sandbox;
}
