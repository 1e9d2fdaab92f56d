import { httpUrl, positiveNumber, readVariable } from "../../config/variables.js";
import type { ConfigResult, Env, EnvVariable } from "../define-vendor.js";

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

export const carnivalEnv: Record<string, EnvVariable> = {
  CARNIVAL_API_URL: { description: "Carnival (Marigold Engage) API base URL, with the version prefix", default: DEFAULT_BASE_URL },
  CARNIVAL_API_KEY: { description: "API client key (sent as the Basic auth password)", secret: true, credential: true, basicAuth: {} },
  CARNIVAL_RATE_LIMIT: {
    description: "Requests per second to Carnival, shared by all callers in the process",
    default: String(DEFAULT_RATE_PER_SECOND),
  },
  CARNIVAL_TIMEOUT_MS: { description: "Timeout of one Carnival request", default: String(DEFAULT_TIMEOUT_MS) },
};

export function readCarnivalConfig(env: Env): ConfigResult<CarnivalConfig> {
  const apiKey = env.CARNIVAL_API_KEY?.trim();
  if (!apiKey) return { status: "absent" };
  const problems: string[] = [];
  const config: CarnivalConfig = {
    baseUrl: readVariable(env, "CARNIVAL_API_URL", httpUrl(DEFAULT_BASE_URL), problems),
    apiKey,
    ratePerSecond: readVariable(env, "CARNIVAL_RATE_LIMIT", positiveNumber(DEFAULT_RATE_PER_SECOND), problems),
    timeoutMs: readVariable(env, "CARNIVAL_TIMEOUT_MS", positiveNumber(DEFAULT_TIMEOUT_MS), problems),
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
