/**
 * What the shared-mode benches need to know of each vendor beyond its module, in one place. Vendor
 * lists default to the registry, and a registered vendor without figures here stops a bench with
 * its name, so a fifth vendor is never left out of a run silently.
 */
import { MULTI_LIMITS } from "../../src/vendors/leanplum/capabilities.js";
import { vendorModules } from "../../src/vendors/index.js";

/** One request a sandbox recorded (GET /__sandbox/journal). */
export interface JournalEntry {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body?: unknown;
  readonly status: number;
}

interface BenchFigures {
  /** The limit a bench enforces by default, requests per second. */
  readonly limit: number;
  /** The share of the limit the adapter's pacer sends at. */
  readonly pacerShare: number;
  /** Its sandbox counts no rate window of its own, so the bench puts a strict one in front of it. */
  readonly needsStrictWindow: boolean;
  /** Users one vendor call of a bulk job carries (a bulk chunk may be larger: Jiguang's and User.com's batch look-ups). */
  readonly usersPerCall: number;
  /** The user a sandbox journal entry writes an attribute for (a single update's call), or undefined. */
  writtenUser(entry: JournalEntry): string | undefined;
}

const FIGURES: Readonly<Record<string, BenchFigures>> = {
  carnival: {
    limit: 200,
    pacerShare: 1,
    needsStrictWindow: false,
    usersPerCall: 1,
    writtenUser: (entry) => (entry.method === "PUT" ? /\/users\/([^/]+)$/.exec(entry.path)?.[1] : undefined),
  },
  jiguang: {
    limit: 200,
    pacerShare: 1,
    needsStrictWindow: false,
    usersPerCall: 1,
    writtenUser: (entry) => {
      const cuid = (entry.body as { cuid?: number | string } | undefined)?.cuid;
      return entry.method === "PUT" && entry.path.endsWith("/user/attribute") && cuid !== undefined ? String(cuid) : undefined;
    },
  },
  leanplum: {
    limit: 40,
    pacerShare: 1,
    needsStrictWindow: true,
    // One multi call.
    usersPerCall: MULTI_LIMITS.maxUsers,
    writtenUser: (entry) => {
      const userId = (entry.body as { userId?: unknown } | undefined)?.userId;
      return entry.query.action === "setUserAttributes" && typeof userId === "string" ? userId : undefined;
    },
  },
  usercom: {
    limit: 200,
    pacerShare: 1,
    needsStrictWindow: false,
    // Each user is looked up by one call; the mass update adds one call per 100.
    usersPerCall: 1,
    writtenUser: (entry) => (entry.method === "PUT" ? /\/users-by-id\/([^/]+)\/?$/.exec(entry.path)?.[1] : undefined),
  },
};

export function figuresOf(vendor: string): BenchFigures {
  const figures = FIGURES[vendor];
  if (!figures) throw new Error(`bench/support/vendor-figures.ts has no figures for the vendor "${vendor}": add them`);
  return figures;
}

const moduleOf = (vendor: string) => {
  const module = vendorModules.find((m) => m.id === vendor);
  if (!module) throw new Error(`no registered vendor "${vendor}" (known: ${vendorModules.map((m) => m.id).join(", ")})`);
  return module;
};

/** `--vendors=a,b` as given, or every registered vendor; each checked to have figures. */
export function benchVendors(option: string | undefined): string[] {
  const vendors = option ? option.split(",").filter(Boolean) : vendorModules.map((m) => m.id);
  for (const vendor of vendors) figuresOf(moduleOf(vendor).id);
  return vendors;
}

/** `--limits=carnival:200,…` over each vendor's default limit. */
export function benchLimits(vendors: readonly string[], option: string | undefined): Record<string, number> {
  const given = Object.fromEntries(
    (option ?? "")
      .split(",")
      .filter(Boolean)
      .map((pair) => {
        const [vendor, limit] = pair.split(":");
        return [vendor!, Number(limit)];
      }),
  );
  return Object.fromEntries(vendors.map((vendor) => [vendor, given[vendor] ?? figuresOf(vendor).limit]));
}

/** The rate the adapter's pacer sends at, for a limit. */
export const pacedRate = (vendor: string, limit: number): number => limit * figuresOf(vendor).pacerShare;

/** Users one vendor call carries in a bulk job (Leanplum's multi takes 50; the others one call per user). */
export const usersPerCall = (vendor: string): number => figuresOf(vendor).usersPerCall;

/** The variable that points the adapter at its sandbox (…_API_URL). */
export function urlVariable(vendor: string): string {
  const probe = "http://127.0.0.1:1";
  const env = moduleOf(vendor).sandboxEnv(probe);
  const name = Object.keys(env).find((key) => env[key]?.startsWith(probe));
  if (!name) throw new Error(`${vendor}'s sandbox environment names no URL`);
  return name;
}

/** The sandboxes' own rate windows and the strict windows put in front of those without one. */
export function rateWindows(vendors: readonly string[], limits: Readonly<Record<string, number>>) {
  const pick = (strict: boolean) =>
    Object.fromEntries(vendors.filter((v) => figuresOf(v).needsStrictWindow === strict).map((v) => [v, limits[v]!]));
  return { sandboxRateLimits: pick(false), strictWindows: pick(true) };
}
