import { httpUrl, positiveNumber, readVariable } from "../../config/variables.js";
import type { ConfigResult, Env, EnvVariable } from "../define-vendor.js";

export interface LeanplumConfig {
  /** The RPC endpoint, for example https://api.leanplum.com/api (actions go in `?action=`). */
  readonly apiUrl: string;
  readonly appId: string;
  /** Production key: setUserAttributes and multi. */
  readonly clientKey: string;
  /** Data-export key: exportUser. Without it, read-back answers VENDOR_NOT_CONFIGURED. */
  readonly exportKey?: string;
  readonly timeoutMs: number;
  /** Requests per second shared by every caller in the process; `undefined` means unpaced. */
  readonly ratePerSecond?: number;
  /** exportUser calls in flight for one read-back batch. */
  readonly readConcurrency: number;
}

export const DEFAULT_API_URL = "https://api.leanplum.com/api";
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_READ_CONCURRENCY = 8;

export const leanplumEnv: Record<string, EnvVariable> = {
  LEANPLUM_API_URL: {
    description: "Leanplum RPC endpoint; the action is added as ?action=…",
    default: DEFAULT_API_URL,
  },
  LEANPLUM_APP_ID: { description: "Leanplum application id (Manage Apps → Keys & Settings)", credential: true },
  LEANPLUM_CLIENT_KEY: {
    credential: true,
    description: "Leanplum production client key (setUserAttributes, multi); sent in the request body only",
    secret: true,
  },
  LEANPLUM_EXPORT_KEY: {
    description: "Leanplum data-export client key (exportUser), optional: without it the attribute read-back answers VENDOR_NOT_CONFIGURED",
    secret: true,
  },
  LEANPLUM_TIMEOUT_MS: { description: "Timeout of one Leanplum request, in milliseconds", default: String(DEFAULT_TIMEOUT_MS) },
  LEANPLUM_RATE_LIMIT: {
    description:
      "Optional cap on requests per second to Leanplum, shared by all callers in the process. Leanplum publishes no account-wide rate (it is contractual), so the default is unpaced; set it to your contract's rate",
  },
  LEANPLUM_READ_CONCURRENCY: {
    description: "exportUser calls in flight for one attribute read-back batch",
    default: String(DEFAULT_READ_CONCURRENCY),
  },
};

export function readLeanplumConfig(env: Env): ConfigResult<LeanplumConfig> {
  const appId = env.LEANPLUM_APP_ID?.trim();
  const clientKey = env.LEANPLUM_CLIENT_KEY?.trim();
  const exportKey = env.LEANPLUM_EXPORT_KEY?.trim();
  if (!appId && !clientKey) {
    // An export key alone cannot be used (exportUser needs the app id too): say so rather than ignore it.
    return exportKey
      ? { status: "invalid", problems: ["LEANPLUM_EXPORT_KEY is set but LEANPLUM_APP_ID and LEANPLUM_CLIENT_KEY are not"] }
      : { status: "absent" };
  }
  const problems: string[] = [];
  if (!appId) problems.push("LEANPLUM_CLIENT_KEY is set but LEANPLUM_APP_ID is not; set both or neither");
  if (!clientKey) problems.push("LEANPLUM_APP_ID is set but LEANPLUM_CLIENT_KEY is not; set both or neither");
  if (clientKey && exportKey && clientKey === exportKey) {
    problems.push("LEANPLUM_EXPORT_KEY must be the data-export key, not the production key in LEANPLUM_CLIENT_KEY");
  }
  const apiUrl = readVariable(env, "LEANPLUM_API_URL", httpUrl(DEFAULT_API_URL), problems);
  if (/[?#]/.test(apiUrl)) problems.push("LEANPLUM_API_URL must not contain a query or fragment; the adapter adds ?action=");
  const timeoutMs = readVariable(env, "LEANPLUM_TIMEOUT_MS", positiveNumber(DEFAULT_TIMEOUT_MS), problems);
  const readConcurrency = readVariable(env, "LEANPLUM_READ_CONCURRENCY", positiveNumber(DEFAULT_READ_CONCURRENCY), problems);
  if (!Number.isInteger(readConcurrency))
    problems.push(`LEANPLUM_READ_CONCURRENCY must be a whole number; got "${env.LEANPLUM_READ_CONCURRENCY}"`);
  const rateSet = env.LEANPLUM_RATE_LIMIT !== undefined && env.LEANPLUM_RATE_LIMIT.trim() !== "";
  const ratePerSecond = rateSet ? readVariable(env, "LEANPLUM_RATE_LIMIT", positiveNumber(1), problems) : undefined;
  if (problems.length > 0 || !appId || !clientKey) return { status: "invalid", problems };
  return {
    status: "configured",
    config: {
      apiUrl,
      appId,
      clientKey,
      ...(exportKey ? { exportKey } : {}),
      timeoutMs,
      ...(ratePerSecond === undefined ? {} : { ratePerSecond }),
      readConcurrency,
    },
  };
}

/** Credentials the sandbox accepts (the sandbox itself is loaded only when one starts). */
export const SANDBOX_APP_ID = "leanplum-sandbox-app";
/** Production key: setUserAttributes and multi. */
export const SANDBOX_CLIENT_KEY = "leanplum-sandbox-production-key";
/** Data-export key: exportUser. */
export const SANDBOX_EXPORT_KEY = "leanplum-sandbox-export-key";
/** A valid key of a class no emulated action takes (Leanplum's development key): always 403. */
export const SANDBOX_DEVELOPMENT_KEY = "leanplum-sandbox-development-key";

/** Variables that point the adapter at a running sandbox. */
export function leanplumSandboxEnv(sandboxUrl: string): Env {
  return {
    LEANPLUM_API_URL: `${sandboxUrl}/api`,
    LEANPLUM_APP_ID: SANDBOX_APP_ID,
    LEANPLUM_CLIENT_KEY: SANDBOX_CLIENT_KEY,
    LEANPLUM_EXPORT_KEY: SANDBOX_EXPORT_KEY,
  };
}
