/**
 * The User.com public REST API as this adapter uses it. Versioning is by `Accept` header: the
 * current documentation sends VERSION_2_ACCEPT on every request; the older (v1) pages send no
 * Accept header at all. The differences visible to this adapter: the custom id is `custom_id` in
 * v2 payloads and `user_id` in v1, and v2 says custom attributes must exist before values are
 * sent, while v1 creates them on the fly.
 */
export const API_VERSIONS = [1, 2] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

/** The current documentation uses version 2 everywhere, and a public client reports failures without it. */
export const DEFAULT_API_VERSION: ApiVersion = 2;

export const VERSION_2_ACCEPT = "*/*; version=2";

/** The field that carries the custom id in user objects of each version. */
export const CUSTOM_ID_FIELD: Record<ApiVersion, "user_id" | "custom_id"> = { 1: "user_id", 2: "custom_id" };

export const DOCS_URL = "https://apidocs.user.com/users/update-user.html";
