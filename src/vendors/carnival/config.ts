import { httpUrl, positiveNumber, readVariables, text, variable, type VariableSpec } from "../../config/variables.js";
import type { ConfigResult, Env } from "../define-vendor.js";

export interface CarnivalConfig {
  /** Includes the version prefix, for example https://api.carnivalmobile.com/v6 */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
}

export const DEFAULT_BASE_URL = "https://api.carnivalmobile.com/v6";
/** Carnival asks for at most 120 requests per second; stay below it by default. */
export const DEFAULT_RATE_PER_SECOND = 100;
export const DEFAULT_TIMEOUT_MS = 10_000;

export const carnivalEnv = {
  CARNIVAL_API_URL: variable(
    "Carnival (Marigold Engage) API base URL, with the version prefix",
    httpUrl({ default: DEFAULT_BASE_URL, credentialsIn: "CARNIVAL_API_KEY" }),
  ),
  CARNIVAL_API_KEY: variable("API client key (sent as the Basic auth password)", text(), { secret: true, credential: true, basicAuth: {} }),
  CARNIVAL_RATE_LIMIT: variable(
    "Requests per second to Carnival, shared by all callers in the process (by every process, in shared mode)",
    positiveNumber(DEFAULT_RATE_PER_SECOND),
  ),
  CARNIVAL_TIMEOUT_MS: variable("Timeout of one Carnival request", positiveNumber(DEFAULT_TIMEOUT_MS)),
} as const satisfies VariableSpec;

export function readCarnivalConfig(env: Env): ConfigResult<CarnivalConfig> {
  const problems: string[] = [];
  const v = readVariables(carnivalEnv, env, problems);
  if (!v.CARNIVAL_API_KEY) return { status: "absent" };
  const config: CarnivalConfig = {
    baseUrl: v.CARNIVAL_API_URL,
    apiKey: v.CARNIVAL_API_KEY,
    ratePerSecond: v.CARNIVAL_RATE_LIMIT,
    timeoutMs: v.CARNIVAL_TIMEOUT_MS,
  };
  return problems.length > 0 ? { status: "invalid", problems } : { status: "configured", config };
}

/** Credentials the sandbox accepts (the sandbox itself is loaded only when one starts). */
export const SANDBOX_API_KEY = "carnival-sandbox-key";
/** A key the sandbox knows but which lacks the role for the users endpoint (answers 403). */
export const SANDBOX_KEY_WITHOUT_ROLE = "carnival-sandbox-key-without-role";

/** Variables that point the adapter at a running sandbox. */
export function carnivalSandboxEnv(sandboxUrl: string): Env {
  return { CARNIVAL_API_URL: `${sandboxUrl}/v6`, CARNIVAL_API_KEY: SANDBOX_API_KEY };
}
