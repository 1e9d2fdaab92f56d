/**
 * Which browser origins may call the GraphQL endpoint from another origin (CORS_ORIGINS): exact
 * origins (`https://app.example.com`), origins on any port (`http://localhost:*`), or `*` for any
 * (not recommended: a token-bearing API rarely needs every site to call it). Behind a router, leave
 * it empty: the router owns CORS.
 */
export class CorsPolicy {
  private readonly exact = new Set<string>();
  private readonly anyPort: string[] = [];
  private readonly anyOrigin: boolean;

  constructor(readonly origins: readonly string[]) {
    this.anyOrigin = origins.includes("*");
    for (const origin of origins) {
      if (origin.endsWith(":*")) this.anyPort.push(origin.slice(0, -2).toLowerCase());
      else if (origin !== "*") this.exact.add(origin.toLowerCase());
    }
  }

  get enabled(): boolean {
    return this.anyOrigin || this.exact.size > 0 || this.anyPort.length > 0;
  }

  allows(origin: string): boolean {
    if (this.anyOrigin) return true;
    const normalized = origin.toLowerCase();
    if (this.exact.has(normalized)) return true;
    const port = /^(.*):\d{1,5}$/.exec(normalized);
    return this.anyPort.includes(port ? port[1]! : normalized);
  }
}

/** Problems with a CORS_ORIGINS value, one per entry that is not an origin (scheme://host[:port], `:*` or `*`). */
export function corsOriginProblems(origins: readonly string[]): string[] {
  return origins
    .filter((origin) => origin !== "*" && !/^https?:\/\/[a-z0-9.-]+(:(\d{1,5}|\*))?$/i.test(origin))
    .map((origin) => `CORS_ORIGINS entry "${origin}" must be an origin such as https://app.example.com, http://localhost:*, or *`);
}

/** Headers a browser may send on a cross-origin GraphQL request (what Apollo Client, Relay and urql send). */
export const ALLOWED_HEADERS =
  "content-type, authorization, x-request-id, apollo-require-preflight, x-apollo-operation-name, apollographql-client-name, apollographql-client-version";
