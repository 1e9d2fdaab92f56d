import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";

export const SCOPES = {
  /** Update or read any user's attributes, not only one's own. */
  writeAny: "attributes:write:any",
  /** Start, follow and cancel bulk jobs: one's own. */
  bulk: "attributes:bulk",
  /** With attributes:bulk, follow and cancel every caller's bulk jobs, not only one's own. */
  bulkAdmin: "attributes:bulk:admin",
} as const;

/** Who is calling, as far as the subgraph can tell. */
export type Caller =
  /** Authorization is switched off (AUTH_DISABLED=true, or sandbox mode without auth settings). */
  | { readonly kind: "open" }
  | { readonly kind: "authenticated"; readonly subject: string; readonly scopes: ReadonlySet<string> }
  /** No token, or one that did not verify: `problem` says which, without echoing the token. */
  | { readonly kind: "anonymous"; readonly problem: string };

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Caller>;
}

export const OPEN_ACCESS: Authenticator = { authenticate: () => Promise.resolve({ kind: "open" }) };

export interface JwtSettings {
  readonly secret?: string;
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Refuse tokens without `exp` (AUTH_REQUIRE_EXP); default true: a token that never expires is refused. */
  readonly requireExp?: boolean;
  /** Clock difference tolerated when checking `exp` and `nbf` (AUTH_CLOCK_SKEW_SECONDS); default 30. */
  readonly clockSkewSeconds?: number;
}

/** The documented defaults of AUTH_REQUIRE_EXP and AUTH_CLOCK_SKEW_SECONDS. */
export const JWT_DEFAULTS = { requireExp: true, clockSkewSeconds: 30 } as const;

/**
 * Trusts only a verified JWT (forwarded by the gateway as `Authorization: Bearer …`): HS256 with a
 * shared secret, or any key from a JWKS URL. Scopes come from `scope` (space-separated) or `scp`.
 */
export class JwtAuthenticator implements Authenticator {
  private readonly key: Uint8Array | JWTVerifyGetKey;

  constructor(private readonly settings: JwtSettings) {
    if (settings.secret) this.key = new TextEncoder().encode(settings.secret);
    else if (settings.jwksUrl) this.key = createRemoteJWKSet(new URL(settings.jwksUrl));
    else throw new Error("JwtAuthenticator needs a secret or a JWKS URL");
  }

  async authenticate(authorization: string | undefined): Promise<Caller> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? "");
    if (!match) return { kind: "anonymous", problem: authorization ? "the Authorization header is not a Bearer token" : "no bearer token" };
    try {
      const options = {
        ...(this.settings.secret ? { algorithms: ["HS256"] } : {}),
        ...((this.settings.requireExp ?? JWT_DEFAULTS.requireExp) ? { requiredClaims: ["exp"] } : {}),
        clockTolerance: this.settings.clockSkewSeconds ?? JWT_DEFAULTS.clockSkewSeconds,
        ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience ? { audience: this.settings.audience } : {}),
      };
      const { payload } =
        this.key instanceof Uint8Array ? await jwtVerify(match[1]!, this.key, options) : await jwtVerify(match[1]!, this.key, options);
      if (!payload.sub) return { kind: "anonymous", problem: "the token has no subject" };
      return { kind: "authenticated", subject: payload.sub, scopes: scopesOf(payload) };
    } catch (error) {
      return { kind: "anonymous", problem: tokenProblem(error) };
    }
  }
}

function scopesOf(payload: JWTPayload): Set<string> {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === "string") return new Set(raw.split(/\s+/).filter(Boolean));
  if (Array.isArray(raw)) return new Set(raw.filter((s): s is string => typeof s === "string"));
  return new Set();
}

function tokenProblem(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "exp" && error.reason === "missing") return "the token has no exp claim: tokens must expire (AUTH_REQUIRE_EXP)";
    if (error.reason === "missing") return `the token has no ${error.claim} claim`;
    return `the token's ${error.claim} claim is not accepted`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not accepted";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the JWKS matches the token";
  return "the token is not a valid JWT";
}

/** Why the caller may not act on this user's attributes, or undefined when it may. */
/** Why an unauthenticated caller is refused; undefined for any authenticated one (or with authorization off). */
export function refuseAnonymous(caller: Caller): string | undefined {
  return caller.kind === "anonymous" ? `authentication required: ${caller.problem}` : undefined;
}

export function refuseUserAccess(caller: Caller, userId: string): string | undefined {
  if (caller.kind !== "authenticated") return refuseAnonymous(caller);
  if (caller.subject === userId || caller.scopes.has(SCOPES.writeAny)) return undefined;
  return `a caller may only act on its own user unless it holds the ${SCOPES.writeAny} scope`;
}

export function refuseScope(caller: Caller, scope: string): string | undefined {
  if (caller.kind !== "authenticated") return refuseAnonymous(caller);
  return caller.scopes.has(scope) ? undefined : `the ${scope} scope is required`;
}

/** The owner recorded on a bulk job the caller creates: its subject, or none when authorization is off. */
export function bulkJobOwner(caller: Caller): string | undefined {
  return caller.kind === "authenticated" ? caller.subject : undefined;
}

/** The owner recorded on a delivery the caller's update queued (the same rule as bulk jobs). */
export const deliveryOwner = bulkJobOwner;

/**
 * Whether the caller may follow (and cancel) a queued delivery created by `owner`: its owner, or a
 * holder of attributes:write:any (who may update any user anyway). With authorization off everyone
 * may; a delivery without an owner is seen only by such holders once authorization is on.
 */
export function mayAccessDelivery(caller: Caller, owner: string | undefined): boolean {
  if (caller.kind === "open") return true;
  if (caller.kind === "anonymous") return false;
  return caller.scopes.has(SCOPES.writeAny) || (owner !== undefined && caller.subject === owner);
}

/**
 * Whether the caller may see (and so cancel) a bulk job created by `owner`: its owner, or a holder
 * of attributes:bulk:admin. With authorization off everyone may, and jobs have no owner; a job
 * without an owner is seen only by admins once authorization is on.
 */
export function mayAccessBulkJob(caller: Caller, owner: string | undefined): boolean {
  if (caller.kind === "open") return true;
  if (caller.kind === "anonymous") return false;
  return caller.scopes.has(SCOPES.bulkAdmin) || (owner !== undefined && caller.subject === owner);
}
