import { ConfigError, type AuthSettings } from "../config/app-config.js";
import { JwtAuthenticator, OPEN_ACCESS, type Authenticator } from "./caller.js";

/**
 * Live vendors are never reachable by unauthenticated callers by accident: without JWT settings
 * the subgraph refuses to start unless AUTH_DISABLED=true says so explicitly. Sandbox-only runs
 * may be open (for GraphiQL on a laptop), and say so loudly.
 */
export function chooseAuthenticator(settings: AuthSettings, anyLiveVendor: boolean): { authenticator: Authenticator; warning?: string } {
  if (settings.jwt) return { authenticator: new JwtAuthenticator(settings.jwt) };
  if (settings.disabled) {
    return { authenticator: OPEN_ACCESS, warning: "AUTH_DISABLED=true: caller authorization is off; any caller may update any user" };
  }
  if (anyLiveVendor) {
    throw new ConfigError([
      "live vendors are configured but caller authentication is not: set AUTH_JWT_SECRET or AUTH_JWKS_URL, or AUTH_DISABLED=true to run without it",
    ]);
  }
  return {
    authenticator: OPEN_ACCESS,
    warning: "SANDBOX MODE WITHOUT AUTHORIZATION: every caller may update every user (set AUTH_JWT_SECRET or AUTH_JWKS_URL to enforce it)",
  };
}
