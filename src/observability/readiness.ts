import net from "node:net";
import type { VendorMode } from "../domain/vendor.js";
import type { CircuitBreaker, CircuitState } from "../reliability/circuit-breaker.js";

/**
 * Which live vendors must be ready for the instance to be ready:
 * - `any` (default): at least one. One vendor's outage then leaves every replica serving the other
 *   vendors and answering typed AttributesVendorUnavailableError for the one that is down, instead of a
 *   shared outage pulling every replica out of rotation; an instance that can reach no vendor
 *   at all (its own network is broken) is taken out.
 * - `all`: every live vendor (strict; a vendor outage makes every replica unready).
 * - `none`: vendors are reported but never make the instance unready.
 */
export type ReadinessPolicy = "any" | "all" | "none";
export const READINESS_POLICIES: readonly ReadinessPolicy[] = ["any", "all", "none"];

export interface ReadinessSettings {
  readonly policy: ReadinessPolicy;
  /** Longest wait for one reachability probe. */
  readonly probeTimeoutMs: number;
  /** How long a probe's result is reused, so frequent /ready calls do not hammer vendors. */
  readonly cacheMs: number;
}

export const DEFAULT_READINESS: ReadinessSettings = { policy: "any", probeTimeoutMs: 2_000, cacheMs: 10_000 };

export interface ReadinessVendor {
  readonly vendor: string;
  readonly mode: VendorMode;
  /** Where calls go (the vendor's description: its base URL first). Live vendors only. */
  readonly target?: string;
}

/** Opens and closes a TCP connection: proof the vendor's host accepts connections, nothing sent. */
export type Probe = (host: string, port: number, timeoutMs: number) => Promise<{ ok: true } | { ok: false; error: string }>;

export interface VendorReadiness {
  readonly vendor: string;
  readonly mode: VendorMode;
  readonly ready: boolean;
  /** true/false for live vendors; absent for sandboxed and unconfigured ones (nothing to reach). */
  readonly reachable?: boolean;
  /** host:port probed (never a path, query or credential). */
  readonly probed?: string;
  readonly error?: string;
  readonly circuit?: CircuitState;
  readonly checkedAt?: string;
}

export interface ReadinessReport {
  /** `draining`: the process is shutting down (SIGTERM); it never becomes ready again. */
  readonly status: "ready" | "unready" | "draining";
  readonly configuration: "valid";
  readonly policy: ReadinessPolicy;
  readonly vendors: readonly VendorReadiness[];
  /** What the instance needs besides vendors (shared mode's Redis), each with whether it is reachable. */
  readonly dependencies?: readonly DependencyReadiness[];
  /** Why the instance is not ready when that is not about vendors (shutting down). */
  readonly reason?: string;
}

export interface DependencyReadiness {
  readonly name: string;
  readonly ready: boolean;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A dependency the instance cannot serve without: checked on every GET /ready, unready while it fails. */
export interface Dependency {
  readonly name: string;
  check(): Promise<{ readonly ready: boolean; readonly detail?: Readonly<Record<string, unknown>> }>;
}

interface CachedProbe {
  readonly at: number;
  readonly result: Promise<{ reachable: boolean; error?: string; checkedAt: string }>;
}

/**
 * GET /ready: configuration is valid (the process would not have started otherwise), every
 * sandboxed vendor is ready by definition, and each live vendor is reachable (a TCP connection
 * to its base URL's host: no HTTP request, no credentials, no write) with its circuit not open.
 * Probe results are cached for `cacheMs`; concurrent checks share one probe.
 */
export class Readiness {
  private readonly cache = new Map<string, CachedProbe>();
  private readonly dependencies: Dependency[] = [];
  private drainingSince: number | undefined;

  constructor(
    private readonly vendors: readonly ReadinessVendor[],
    private readonly breakers: ReadonlyMap<string, CircuitBreaker>,
    private readonly settings: ReadinessSettings = DEFAULT_READINESS,
    private readonly probe: Probe = tcpProbe,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * From now on the instance is unready, whatever its vendors: it is shutting down. Checks answer
   * at once, without probing vendors.
   */
  markDraining(): void {
    this.drainingSince ??= this.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Adds a dependency: while its check fails, the instance is unready whatever the vendor policy. */
  addDependency(dependency: Dependency): void {
    this.dependencies.push(dependency);
  }

  async check(): Promise<ReadinessReport> {
    if (this.drainingSince !== undefined) {
      return {
        status: "draining",
        configuration: "valid",
        policy: this.settings.policy,
        vendors: [],
        reason: `shutting down since ${new Date(this.drainingSince).toISOString()}: finishing requests in progress, accepting no new connections`,
      };
    }
    const [vendors, dependencies] = await Promise.all([
      Promise.all(this.vendors.map((vendor) => this.checkVendor(vendor))),
      Promise.all(this.dependencies.map((dependency) => checkDependency(dependency))),
    ]);
    const live = vendors.filter((v) => v.mode === "live");
    const readyLive = live.filter((v) => v.ready).length;
    const vendorsReady =
      this.settings.policy === "none" || live.length === 0 || (this.settings.policy === "all" ? readyLive === live.length : readyLive > 0);
    const ready = vendorsReady && dependencies.every((d) => d.ready);
    return {
      status: ready ? "ready" : "unready",
      configuration: "valid",
      policy: this.settings.policy,
      vendors,
      ...(dependencies.length > 0 ? { dependencies } : {}),
    };
  }

  private async checkVendor(vendor: ReadinessVendor): Promise<VendorReadiness> {
    const circuit = this.breakers.get(vendor.vendor)?.current;
    const base = { vendor: vendor.vendor, mode: vendor.mode, ...(circuit ? { circuit } : {}) };
    if (vendor.mode !== "live") return { ...base, ready: true };
    const endpoint = endpointOf(vendor.target);
    if (!endpoint) return { ...base, ready: false, reachable: false, error: "no base URL to probe" };
    const probed = `${endpoint.host}:${endpoint.port}`;
    const result = await this.cachedProbe(probed, endpoint);
    return {
      ...base,
      ready: result.reachable && circuit !== "open",
      reachable: result.reachable,
      probed,
      ...(result.error ? { error: result.error } : {}),
      checkedAt: result.checkedAt,
    };
  }

  private cachedProbe(key: string, endpoint: { host: string; port: number }): CachedProbe["result"] {
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.at < this.settings.cacheMs) return cached.result;
    const result = this.probe(endpoint.host, endpoint.port, this.settings.probeTimeoutMs).then(
      (outcome) => ({
        reachable: outcome.ok,
        ...(outcome.ok ? {} : { error: outcome.error }),
        checkedAt: new Date(this.now()).toISOString(),
      }),
      (error: unknown) => ({ reachable: false, error: String(error), checkedAt: new Date(this.now()).toISOString() }),
    );
    this.cache.set(key, { at: this.now(), result });
    return result;
  }
}

async function checkDependency(dependency: Dependency): Promise<DependencyReadiness> {
  try {
    const result = await dependency.check();
    return { name: dependency.name, ready: result.ready, ...(result.detail ? { detail: result.detail } : {}) };
  } catch (error) {
    return { name: dependency.name, ready: false, detail: { error: error instanceof Error ? error.message : String(error) } };
  }
}

/** The host and port of the first http(s) URL in a vendor's description (adapters put the base URL first). */
export function endpointOf(target: string | undefined): { host: string; port: number } | undefined {
  const match = target ? /https?:\/\/[^\s;,()]+/.exec(target) : null;
  if (!match) return undefined;
  try {
    const url = new URL(match[0]);
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    // URL keeps IPv6 literals in brackets; net.connect wants them bare.
    return { host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port };
  } catch {
    return undefined;
  }
}

export const tcpProbe: Probe = (host, port, timeoutMs) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (result: { ok: true } | { ok: false; error: string }): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, error: `no connection within ${timeoutMs} ms` }));
    socket.once("connect", () => finish({ ok: true }));
    socket.once("error", (error: NodeJS.ErrnoException) => finish({ ok: false, error: error.code ?? error.message }));
  });
