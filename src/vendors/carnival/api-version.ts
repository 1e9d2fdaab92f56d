/** The Carnival API version this adapter is written against, and where it is documented. */
export const API_VERSION = "v6";
export const DOCS_URL = "https://getstarted.meetmarigold.com/engagebysailthru/Content/dev-mobile/rest-api/put-users.html";
