import { createHash, randomUUID } from 'node:crypto';
import type { Signer, SigningAlg } from '../signing/signer.js';
import type { Client } from '../clients/client.js';
import type { Grant } from './authorization-codes.js';
import { namesWithin } from './claims-request.js';

export interface TokenResponse {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope?: string;
}

/** What tokens are minted from: a redeemed code's grant, or a refresh token's record of it. */
export type TokenSubject = Pick<
  Grant,
  'userId' | 'scope' | 'authTime' | 'nonce' | 'amr' | 'acr' | 'sid' | 'action' | 'resources' | 'idp'
>;

/** The claims an RFC 9068 access token of this provider carries; `typ` is `at+jwt`. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope?: string;
  iat: number;
  exp: number;
  jti: string;
  /** The grant (and refresh token family) the token belongs to; absent for client_credentials. */
  gid?: string;
  /** UserInfo claims the `claims` request parameter asked for (OIDC Core §5.5). */
  uic?: string[];
  auth_time?: number;
  acr?: string;
  amr?: string[];
  action?: string;
  action_code?: string;
  action_state?: string;
  is_enrolled?: boolean;
  idempotency_key?: string;
  /** RFC 9449 §6.1: the JWK SHA-256 thumbprint of the key the token is bound to (DPoP). */
  cnf?: { jkt: string };
}

/** The federated action claims that access tokens (and introspection) may carry. */
export const ACTION_CLAIMS = [
  'action',
  'action_code',
  'action_state',
  'is_enrolled',
  'idempotency_key',
] as const;

/**
 * OIDC Core §3.1.3.6: the left half of the hash of the access token, base64url, with the hash of
 * the ID token's `alg`: SHA-256 for RS256, PS256 and ES256; SHA-512 for EdDSA with Ed25519 (as
 * the OpenID Foundation's errata set it and certified providers do).
 */
function atHash(accessToken: string, alg: SigningAlg): string {
  const hash = alg === 'EdDSA' ? 'sha512' : 'sha256';
  const digest = createHash(hash).update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** The Authsignal-style federated challenge's claims; both tokens carry them. */
function actionClaims(grant: TokenSubject): Record<string, unknown> {
  if (!grant.action) return {};
  return {
    action: grant.action.code,
    action_code: grant.action.code,
    action_state: grant.action.state,
    is_enrolled: grant.action.isEnrolled,
    idempotency_key: grant.action.idempotencyKey,
  };
}

/**
 * The one place a verified DPoP proof becomes a key-bound token: `cnf.jkt` in the access token
 * (RFC 9449 §6.1) and `token_type: DPoP` in the response (§5); no proof, a bearer token.
 */
function binding(jkt: string | undefined): {
  claims: { cnf?: { jkt: string } };
  tokenType: TokenResponse['token_type'];
} {
  return jkt ? { claims: { cnf: { jkt } }, tokenType: 'DPoP' } : { claims: {}, tokenType: 'Bearer' };
}

/** One audience is a string, several an array (RFC 7519 §4.1.3). */
export const audienceClaim = (audiences: string[]): string | string[] =>
  audiences.length === 1 ? audiences[0]! : audiences;

export interface MintOptions {
  /** The tokens' scope; a refresh may narrow the grant's (RFC 6749 §6). Default: the grant's. */
  scope?: string;
  /** The access token's `aud` (RFC 8707 resources). Default: the grant's resources, else the client id. */
  audiences?: string[];
  /** The refresh token to return with the tokens (already stored). */
  refreshToken?: string;
  /** The ID token carries the authorization request's nonce, except after a refresh (OIDC Core §12.2). */
  withNonce?: boolean;
  /** Profile claims the `claims` parameter asked for in the ID token (OIDC Core §5.5). */
  idTokenClaims?: Record<string, unknown>;
  /** Claims of granted tenant scopes for the ID token (`authorization-code.ts` decides which). */
  scopeClaims?: Record<string, unknown>;
  /** Claim names the `claims` parameter asked for at UserInfo, carried in the access token. */
  userinfoClaims?: string[];
  /** The DPoP key (JWK thumbprint) the token request proved possession of (RFC 9449). */
  dpopJkt?: string;
  now?: number;
}

/**
 * Mints the access token (an RFC 9068 JWT, `typ: at+jwt`) and, for `openid` requests, the ID token
 * (OIDC Core §2), each with the algorithm the client registered (RS256 unless it asked otherwise,
 * OIDC Dynamic Client Registration §2) and the `kid` of the tenant's key; B2C reads its claims from
 * the ID token.
 */
export async function mintTokens(
  signer: Signer,
  issuer: string,
  client: Client,
  grant: TokenSubject,
  grantId: string,
  opts: MintOptions = {},
): Promise<TokenResponse> {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const scope = opts.scope ?? grant.scope;
  const scopes = scope.split(' ').filter(Boolean);
  const accessTtl = client.access_token_lifetime;
  const audiences = opts.audiences ?? (grant.resources?.length ? grant.resources : [client.client_id]);
  // The authorization endpoint kept only claims of scopes the client may have; checked again here
  // against the client as it is now, so narrowing a client's scope also narrows its claims.
  const idClaims = opts.idTokenClaims ?? {};
  const idTokenClaims = Object.fromEntries(
    namesWithin(Object.keys(idClaims), client.scope).map((n) => [n, idClaims[n]]),
  );
  const userinfoClaims = namesWithin(opts.userinfoClaims ?? [], client.scope);
  const bound = binding(opts.dpopJkt);
  const access = await signer.signJwt(
    {
      iss: issuer,
      sub: grant.userId,
      aud: audienceClaim(audiences),
      client_id: client.client_id,
      scope,
      iat,
      exp: iat + accessTtl,
      jti: randomUUID(),
      auth_time: grant.authTime,
      ...(grant.acr ? { acr: grant.acr } : {}),
      ...(grant.amr ? { amr: grant.amr } : {}),
      gid: grantId,
      ...(userinfoClaims.length ? { uic: userinfoClaims } : {}),
      ...actionClaims(grant),
      ...bound.claims,
    },
    { typ: 'at+jwt', alg: client.access_token_signed_response_alg },
  );
  const response: TokenResponse = {
    access_token: access,
    token_type: bound.tokenType,
    expires_in: accessTtl,
    scope,
  };
  if (scopes.includes('openid')) {
    response.id_token = await signer.signJwt(
      {
        iss: issuer,
        sub: grant.userId,
        aud: client.client_id,
        iat,
        exp: iat + client.id_token_lifetime,
        auth_time: grant.authTime,
        ...(grant.nonce !== undefined && opts.withNonce !== false ? { nonce: grant.nonce } : {}),
        ...(grant.acr ? { acr: grant.acr } : {}),
        ...(grant.amr ? { amr: grant.amr } : {}),
        // The login session, for RP-initiated and front-channel logout (id_token_hint).
        ...(grant.sid ? { sid: grant.sid } : {}),
        // The upstream identity provider the user signed in through (with amr `fed`, RFC 8176).
        ...(grant.idp ? { idp: grant.idp } : {}),
        at_hash: atHash(access, client.id_token_signed_response_alg),
        ...opts.scopeClaims,
        ...idTokenClaims,
        ...actionClaims(grant),
      },
      { alg: client.id_token_signed_response_alg },
    );
  }
  if (opts.refreshToken) response.refresh_token = opts.refreshToken;
  return response;
}

/**
 * The client_credentials access token (RFC 6749 §4.4, RFC 9068): the client acts for itself, so
 * `sub` is the client id; no ID token, no refresh token.
 */
export async function mintClientToken(
  signer: Signer,
  issuer: string,
  client: Client,
  scope: string,
  audiences: string[],
  dpopJkt?: string,
  now = Date.now(),
): Promise<TokenResponse> {
  const iat = Math.floor(now / 1000);
  const ttl = client.access_token_lifetime;
  const bound = binding(dpopJkt);
  const access = await signer.signJwt(
    {
      iss: issuer,
      sub: client.client_id,
      aud: audienceClaim(audiences),
      client_id: client.client_id,
      ...(scope ? { scope } : {}),
      iat,
      exp: iat + ttl,
      jti: randomUUID(),
      ...bound.claims,
    },
    { typ: 'at+jwt', alg: client.access_token_signed_response_alg },
  );
  return {
    access_token: access,
    token_type: bound.tokenType,
    expires_in: ttl,
    ...(scope ? { scope } : {}),
  };
}
