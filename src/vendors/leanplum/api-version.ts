/** The Leanplum REST API version this adapter is written against, and where it is documented. */
export const API_VERSION = "1.0.6";
export const DOCS_URL = "https://docs.leanplum.com/reference/making-requests";

/** The pages the adapter's decisions rest on (README.md says which decision each one backs). */
export const DOCS = {
  makingRequests: DOCS_URL,
  responses: "https://docs.leanplum.com/reference/responses",
  multi: "https://docs.leanplum.com/reference/multi-json",
  batching: "https://docs.leanplum.com/reference/batching-requests",
  limits: "https://docs.leanplum.com/reference/api-limits",
  selectingAUser: "https://docs.leanplum.com/reference/selecting-a-user",
} as const;
