import type { CallContext } from "../../domain/vendor.js";
import { HttpClient, callOptions, sharedHttpOptions, type SharedHttpOptions, basicAuth } from "../../http/client.js";
import { pathSegment } from "../../http/path.js";
import type { RateBudget } from "../../pacing/budget.js";
import type { CarnivalConfig } from "./config.js";
import type { CarnivalUserBody } from "./mapper.js";

/** got calls to Carnival: Basic auth with an empty user name and the API key as password. */
export class CarnivalClient {
  private readonly http: HttpClient;

  constructor(config: CarnivalConfig, deps: SharedHttpOptions, pacer: RateBudget) {
    this.http = new HttpClient({
      vendor: "carnival",
      baseUrl: config.baseUrl,
      timeoutMs: config.timeoutMs,
      ...sharedHttpOptions(deps),
      pacer,
      pauseOn429: true,
      headers: { authorization: basicAuth("", config.apiKey), accept: "application/json" },
    });
  }

  putUser(userId: string, body: CarnivalUserBody, context: CallContext) {
    return this.http.send({
      method: "PUT",
      path: `users/${pathSegment(userId)}`,
      json: body,
      operation: "putUser",
      // Carnival merges the values sent: sending them twice leaves the same state.
      repeatSafe: true,
      // Its documented answer: 202 with the custom attributes it kept (all of them, when nothing is discarded).
      dryRunAnswer: { status: 202, body: { custom: body.user.custom } },
      ...callOptions(context),
    });
  }

  close(): void {
    this.http.close();
  }
}
