import type { CallContext } from "../../domain/vendor.js";
import { HttpClient, callOptions, sharedHttpOptions, type SharedHttpOptions, basicAuth, type HttpResult } from "../../http/client.js";
import type { RateBudget } from "../../pacing/budget.js";
import { ATTRIBUTE_PATH, REGISTER_PATH } from "./api-version.js";
import type { JiguangConfig } from "./config.js";
import { serializeWithCuid, type LongText } from "./long-json.js";
import type { JiguangValue } from "./mapper.js";

/**
 * got calls to Jiguang: Basic `projectId:projectSecret`, JSON bodies. Automatic retries (only of
 * repeat-safe writes, 429s and never-sent requests) wait on the project's shared pacer like every
 * other request, so they never push Jiguang over its QPS.
 */
export class JiguangClient {
  private readonly http: HttpClient;

  constructor(config: JiguangConfig, deps: SharedHttpOptions, pacer: RateBudget) {
    this.http = new HttpClient({
      vendor: "jiguang",
      baseUrl: config.baseUrl,
      timeoutMs: config.timeoutMs,
      ...sharedHttpOptions(deps),
      pacer,
      pauseOn429: true,
      headers: { authorization: basicAuth(config.projectId, config.projectSecret), accept: "application/json" },
    });
  }

  /**
   * PUT user/attribute for one CUID. The body is serialized by hand because JSON.stringify cannot
   * write a Long beyond 2^53 as the JSON integer Jiguang expects.
   */
  setAttributes(
    cuid: LongText,
    data: Readonly<Record<string, JiguangValue>>,
    repeatSafe: boolean,
    context: CallContext,
  ): Promise<HttpResult> {
    return this.http.send({
      method: "PUT",
      path: ATTRIBUTE_PATH,
      jsonText: serializeWithCuid(cuid, data),
      operation: "setUserAttribute",
      repeatSafe,
      dryRunAnswer: { status: 200, body: { code: 0, msg: "ok" } },
      ...callOptions(context),
    });
  }

  /** POST user/register (Get CUID): identity values (≤ 100, each ≤ 256 characters) → CUIDs. A read: repeat-safe. */
  register(identityName: string, identityValues: readonly string[], context: CallContext): Promise<HttpResult> {
    return this.http.send({
      method: "POST",
      path: REGISTER_PATH,
      json: { identityName, identityValues },
      operation: "getCuid",
      repeatSafe: true,
      // Registering an identity value only reads (or allots) its CUID: a dry run needs it for the write's body.
      lookup: true,
      ...callOptions(context),
    });
  }

  close(): void {
    this.http.close();
  }
}
