import type { VendorFailure } from "../../domain/failures.js";
import type { HttpResult } from "../../http/client.js";
import { describeBody, statusFailure, transportFailure, undocumentedAnswer } from "../../http/failures.js";

const VENDOR = "carnival";
const NAME = "Carnival";

type Response = Extract<HttpResult, { kind: "response" }>;

/**
 * Carnival's documented answers for PUT /users/:user_id:
 * 202 {"custom": {…}} accepted, echoing what was kept · 401 {"error":"unauthorized"} · 403
 * {"error":"your api client does not have the correct roles"} · 404 {} (no such user; a 404 page
 * that is not a JSON object means a wrong base URL) · 5xx now
 * and then. 400/422 (invalid data) and 429 (seen in practice, body undocumented) are read
 * conventionally. A 2xx without the echo (empty, HTML, cut off) is not an acceptance.
 */
export function failureFor(result: HttpResult): VendorFailure | undefined {
  if (result.kind !== "response") return transportFailure(VENDOR, NAME, result);
  if (result.status >= 200 && result.status < 300) {
    return echoedCustom(result) ? undefined : undocumentedAnswer(VENDOR, NAME, result, 'its {"custom": {…}} echo of the attributes kept');
  }
  const detail = errorText(result);
  switch (result.status) {
    case 401:
      return statusFailure(VENDOR, result, `Carnival rejected the API key${detail}`);
    case 403:
      return statusFailure(VENDOR, result, `the Carnival API client lacks the role for this endpoint${detail}`);
    case 404:
      // A missing user gets Carnival's JSON `{}`; a path that does not exist (a wrong base URL) gets
      // the web server's page, which must not read as "no such user".
      if (typeof result.json !== "object" || result.json === null || Array.isArray(result.json)) {
        return statusFailure(
          VENDOR,
          result,
          `Carnival answered 404 with ${describeBody(result)}: the endpoint does not exist there; check CARNIVAL_API_URL (it ends with /v6)`,
          { category: "VENDOR_UNAVAILABLE" },
        );
      }
      return statusFailure(VENDOR, result, "Carnival has no user with this user id (users are created by its SDK on login)");
    case 429:
      return statusFailure(VENDOR, result, `Carnival is rate limiting this API client${detail}`);
    default:
      if (result.status >= 500) return statusFailure(VENDOR, result, `Carnival answered ${result.status}${detail}`);
      if (result.status === 400 || result.status === 422) {
        return statusFailure(VENDOR, result, `Carnival rejected the attributes${detail}`);
      }
      return statusFailure(VENDOR, result, `Carnival answered with unexpected status ${result.status}${detail}`);
  }
}

function errorText(result: Response): string {
  const body = result.json as { error?: unknown } | undefined;
  return typeof body?.error === "string" ? `: ${body.error}` : "";
}

function echoedCustom(result: Response): Readonly<Record<string, unknown>> | undefined {
  const body = result.json;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const custom = (body as { custom?: unknown }).custom;
  return typeof custom === "object" && custom !== null && !Array.isArray(custom) ? (custom as Record<string, unknown>) : undefined;
}

/** Keys Carnival left out of its 202 echo, which it does when it discards an attribute (failureFor checked the echo). */
export function discardedKeys(result: Response, sentKeys: readonly string[]): string[] {
  const echoed = echoedCustom(result) ?? {};
  return sentKeys.filter((key) => !(key in echoed));
}
