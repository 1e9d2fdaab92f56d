import { httpUrl, positiveNumber, readVariables, text, variable, type VariableSpec } from "../../config/variables.js";
import type { ConfigResult, Env } from "../define-vendor.js";

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

export const leanplumEnv = {
  LEANPLUM_API_URL: variable(
    "Leanplum RPC endpoint; the action is added as ?action=…",
    httpUrl({ default: DEFAULT_API_URL, credentialsIn: "LEANPLUM_APP_ID and LEANPLUM_CLIENT_KEY", noQuery: "the adapter adds ?action=" }),
  ),
  LEANPLUM_APP_ID: variable("Leanplum application id (Manage Apps → Keys & Settings)", text(), { credential: true }),
  LEANPLUM_CLIENT_KEY: variable("Leanplum production client key (setUserAttributes, multi); sent in the request body only", text(), {
    secret: true,
    credential: true,
  }),
  LEANPLUM_EXPORT_KEY: variable(
    "Leanplum data-export client key (exportUser), optional: without it the attribute read-back answers VENDOR_NOT_CONFIGURED",
    text(),
    { secret: true },
  ),
  LEANPLUM_TIMEOUT_MS: variable("Timeout of one Leanplum request, in milliseconds", positiveNumber(DEFAULT_TIMEOUT_MS)),
  LEANPLUM_RATE_LIMIT: variable(
    "Optional cap on requests per second to Leanplum, shared by all callers in the process (by every process, in shared mode). Leanplum publishes no account-wide rate (it is contractual), so the default is unpaced; set it to your contract's rate",
    positiveNumber(),
    "(unpaced)",
  ),
  LEANPLUM_READ_CONCURRENCY: variable(
    "exportUser calls in flight for one attribute read-back batch",
    positiveNumber(DEFAULT_READ_CONCURRENCY, { whole: true }),
  ),
} as const satisfies VariableSpec;

export function readLeanplumConfig(env: Env): ConfigResult<LeanplumConfig> {
  const problems: string[] = [];
  const v = readVariables(leanplumEnv, env, problems);
  const appId = v.LEANPLUM_APP_ID;
  const clientKey = v.LEANPLUM_CLIENT_KEY;
  const exportKey = v.LEANPLUM_EXPORT_KEY;
  if (!appId && !clientKey) {
    // An export key alone cannot be used (exportUser needs the app id too): say so rather than ignore it.
    return exportKey
      ? { status: "invalid", problems: ["LEANPLUM_EXPORT_KEY is set but LEANPLUM_APP_ID and LEANPLUM_CLIENT_KEY are not"] }
      : { status: "absent" };
  }
  if (!appId) problems.push("LEANPLUM_CLIENT_KEY is set but LEANPLUM_APP_ID is not; set both or neither");
  if (!clientKey) problems.push("LEANPLUM_APP_ID is set but LEANPLUM_CLIENT_KEY is not; set both or neither");
  if (clientKey && exportKey && clientKey === exportKey) {
    problems.push("LEANPLUM_EXPORT_KEY must be the data-export key, not the production key in LEANPLUM_CLIENT_KEY");
  }
  if (problems.length > 0 || !appId || !clientKey) return { status: "invalid", problems };
  return {
    status: "configured",
    config: {
      apiUrl: v.LEANPLUM_API_URL,
      appId,
      clientKey,
      ...(exportKey ? { exportKey } : {}),
      timeoutMs: v.LEANPLUM_TIMEOUT_MS,
      ...(v.LEANPLUM_RATE_LIMIT === undefined ? {} : { ratePerSecond: v.LEANPLUM_RATE_LIMIT }),
      readConcurrency: v.LEANPLUM_READ_CONCURRENCY,
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
