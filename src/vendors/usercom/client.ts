import type { CallContext } from "../../domain/vendor.js";
import {
  HttpClient,
  callOptions,
  sharedHttpOptions,
  type SharedHttpOptions,
  type HttpRequest,
  type HttpResult,
} from "../../http/client.js";
import { pathSegment } from "../../http/path.js";
import type { RateBudget } from "../../pacing/budget.js";
import { VERSION_2_ACCEPT } from "./api-version.js";
import type { UserComConfig } from "./config.js";
import type { PutStep, WireScalar } from "./mapper.js";

/** Seconds to hold every caller back after a 429 that names no delay. */

/**
 * got calls to User.com: `Authorization: Token …`, the version header when configured, paths with
 * the trailing slash User.com requires, and every call paced by the credential's shared pacer.
 * A 429 pauses that pacer for everyone, for `Retry-After` seconds when the answer names them.
 */
export class UserComClient {
  private readonly http: HttpClient;

  constructor(
    private readonly config: UserComConfig,
    private readonly pacer: RateBudget,
    deps: SharedHttpOptions,
  ) {
    this.http = new HttpClient({
      vendor: "usercom",
      baseUrl: config.baseUrl,
      timeoutMs: config.timeoutMs,
      ...sharedHttpOptions(deps),
      // Retries count against User.com's rate like any request.
      pacer: this.pacer,
      pauseOn429: true,
      headers: {
        authorization: `Token ${config.apiKey}`,
        // Version 1 is what User.com serves without an Accept version (its old pages send none).
        ...(config.apiVersion === 2 ? { accept: VERSION_2_ACCEPT } : {}),
      },
    });
  }

  getUser(customId: string, context: CallContext): Promise<HttpResult> {
    return this.send({ method: "GET", path: userPath(customId), operation: "getUserByCustomId", lookup: true }, context);
  }

  updateUser(customId: string, step: PutStep, context: CallContext): Promise<HttpResult> {
    return this.send(
      {
        method: "PUT",
        path: userPath(customId),
        json: step.body,
        operation: "updateUserByCustomId",
        // Its documented answer: 200 with the whole user, holding what was sent.
        dryRunAnswer: { status: 200, body: updatedUser(customId, step) },
      },
      context,
    );
  }

  removeAttribute(customId: string, attribute: string, context: CallContext): Promise<HttpResult> {
    return this.send(
      {
        method: "POST",
        path: `${userPath(customId)}remove_attribute/`,
        json: { attribute },
        operation: "removeAttribute",
        dryRunAnswer: REMOVED,
      },
      context,
    );
  }

  removeTag(customId: string, name: string, context: CallContext): Promise<HttpResult> {
    return this.send(
      { method: "POST", path: `${userPath(customId)}remove_tag/`, json: { name }, operation: "removeTag", dryRunAnswer: REMOVED },
      context,
    );
  }

  massUpdateCustomAttribute(ids: readonly number[], attribute: string, value: WireScalar, context: CallContext): Promise<HttpResult> {
    return this.send(
      {
        method: this.config.massUpdateMethod,
        path: "users/mass_update_custom_attributes/",
        json: { ids, attribute, value },
        operation: "massUpdateCustomAttributes",
        dryRunAnswer: { status: 200, body: { status: "ok" } },
      },
      context,
    );
  }

  close(): void {
    this.http.close();
  }

  /**
   * Every User.com call made here is repeat-safe (set, remove, add-only tags, reads), which lets
   * timeouts and 5xx be retried. The signal cancels the pacing wait only, never a sent request.
   */
  private async send(request: Omit<HttpRequest, "requestId" | "repeatSafe">, context: CallContext): Promise<HttpResult> {
    await this.pacer.acquire(context);
    // HttpClient pauses the shared pacer on every 429 (pauseOn429), retried or not.
    return this.http.send({
      ...request,
      repeatSafe: true,
      ...callOptions(context),
    });
  }
}

/** User.com's answer to a removal that applied. */
const REMOVED = { status: 200, body: { status: "ok" } } as const;

/** The user object User.com answers a PUT with, holding what the PUT sent (the id is not known without a look-up). */
function updatedUser(customId: string, step: PutStep): Record<string, unknown> {
  return {
    id: 0,
    custom_id: customId,
    ...Object.fromEntries(step.profile.map((field) => [field.key, field.value])),
    attributes: step.attributes.map((attribute) => ({ name: attribute.key, name_std: attribute.key, value: attribute.value })),
    tags: step.tags.map((name) => ({ name })),
  };
}

/** `users-by-id/<custom id>/`: the custom id is one encoded path segment, and the slash is required. */
export function userPath(customId: string): string {
  return `users-by-id/${pathSegment(customId)}/`;
}
