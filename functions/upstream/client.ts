import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { constantTimeEqual } from '../crypto/secrets.js';
import { Lru } from '../lru.js';
import { guardedRequest } from '../outbound/guarded-fetch.js';
import { remoteKeySet } from '../outbound/remote-key-set.js';
import { discoveredIssuerMatches, issuerMatches } from './issuer.js';
import type { StoredProvider } from './provider.js';

/**
 * The relying-party side of an upstream sign-in (OIDC Core §3.1, authorization code flow): the
 * provider's discovery document and keys, the token request, and the ID token checks of §3.1.3.7.
 * Every request goes through the guarded client (no private addresses, https on AWS), with a
 * timeout; written on jose rather than a full RP library, because the flow needs only these
 * steps and every byte is in each Lambda bundle of the routes that use it.
 */

/** Why an upstream sign-in stopped: the user or the upstream said no, or it could not be reached. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: 'access_denied' | 'temporarily_unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}

export const UPSTREAM_TIMEOUT_MS = 4_000;
const DISCOVERY_TTL_MS = 60 * 60 * 1000;

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  token_endpoint_auth_methods_supported?: string[];
  code_challenge_methods_supported?: string[];
}

/** Per container: discovery documents by issuer, key sets by JWKS URI (each keeps its keys). */
const discoveries = new Lru<string, { doc: Discovery; until: number }>(100);
const keySets = new Lru<string, JWTVerifyGetKey>(100);

async function getJson(url: string, what: string): Promise<Record<string, unknown>> {
  let res;
  try {
    res = await guardedRequest(url, {
      headers: { accept: 'application/json' },
      timeoutMs: UPSTREAM_TIMEOUT_MS,
      what,
    });
  } catch (err) {
    throw new UpstreamError('temporarily_unavailable', `${what} not reachable`, { cause: err });
  }
  if (res.status !== 200)
    throw new UpstreamError('temporarily_unavailable', `${what} answered ${res.status}`);
  try {
    const json = JSON.parse(res.body) as unknown;
    if (json && typeof json === 'object' && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new UpstreamError('temporarily_unavailable', `${what} is not a JSON object`);
}

/** The provider's metadata (OpenID Connect Discovery §4), cached for an hour per container. */
export async function discover(provider: StoredProvider, now = Date.now()): Promise<Discovery> {
  const cached = discoveries.get(provider.issuer);
  if (cached && cached.until > now) return cached.doc;
  // Discovery §4.1: a trailing "/" of the issuer is removed before the well-known path is appended.
  const url = `${provider.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const doc = await getJson(url, 'the upstream discovery document');
  // Discovery §4.3: the issuer in the document is the one asked for, or the document is not used.
  if (!discoveredIssuerMatches(provider, doc.issuer))
    throw new UpstreamError(
      'temporarily_unavailable',
      'the upstream discovery document names another issuer',
    );
  for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const)
    if (typeof doc[field] !== 'string' || !URL.canParse(doc[field]))
      throw new UpstreamError('temporarily_unavailable', `the upstream discovery document has no ${field}`);
  const discovery = doc as unknown as Discovery;
  discoveries.set(provider.issuer, { doc: discovery, until: now + DISCOVERY_TTL_MS });
  return discovery;
}

function keySet(jwksUri: string) {
  let set = keySets.get(jwksUri);
  if (!set) {
    set = remoteKeySet(jwksUri, {
      timeoutMs: UPSTREAM_TIMEOUT_MS,
      cooldownMs: 30_000,
      maxAgeMs: 10 * 60_000,
      what: 'an upstream JWKS URI',
    });
    keySets.set(jwksUri, set);
  }
  return set;
}

/**
 * The token request (OIDC Core §3.1.3.1) with the PKCE verifier (RFC 7636 §4.5). Client
 * authentication: client_secret_basic unless the provider lists only client_secret_post
 * (Discovery §3 makes basic the default); the Basic credentials are form-encoded first (RFC 6749
 * §2.3.1).
 */
export async function redeemCode(
  provider: StoredProvider,
  doc: Discovery,
  opts: { code: string; redirectUri: string; codeVerifier: string; clientSecret: string },
): Promise<string> {
  const methods = doc.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  const basic = methods.includes('client_secret_basic');
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: opts.code,
    redirect_uri: opts.redirectUri,
    code_verifier: opts.codeVerifier,
    ...(basic ? {} : { client_id: provider.client_id, client_secret: opts.clientSecret }),
  });
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  let res;
  try {
    res = await guardedRequest(doc.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...(basic
          ? {
              authorization: `Basic ${Buffer.from(`${enc(provider.client_id)}:${enc(opts.clientSecret)}`).toString('base64')}`,
            }
          : {}),
      },
      body: form.toString(),
      timeoutMs: UPSTREAM_TIMEOUT_MS,
      what: 'the upstream token endpoint',
    });
  } catch (err) {
    throw new UpstreamError('temporarily_unavailable', 'the upstream token endpoint is not reachable', {
      cause: err,
    });
  }
  if (res.status >= 500)
    throw new UpstreamError('temporarily_unavailable', `the upstream token endpoint answered ${res.status}`);
  let json: { id_token?: unknown; error?: unknown } = {};
  try {
    json = JSON.parse(res.body) as typeof json;
  } catch {
    // answered below
  }
  if (res.status !== 200 || typeof json.id_token !== 'string') {
    // A refused code (invalid_grant, invalid_client): this sign-in cannot go on (RFC 6749 §5.2).
    const error = typeof json.error === 'string' ? json.error.slice(0, 64) : `status ${res.status}`;
    throw new UpstreamError('access_denied', `the upstream token endpoint refused the code (${error})`);
  }
  return json.id_token;
}

/**
 * The ID token checks of OIDC Core §3.1.3.7: the signature with a key of the provider's JWKS (an
 * asymmetric algorithm only: no `none`, no HMAC with the client secret), `iss` (issuer.ts), `aud`
 * containing the client id and `azp` naming it when there are several audiences, `exp` and `iat`
 * (jose, with a minute of clock skew), and the `nonce` this sign-in sent (§3.1.2.1), compared in
 * constant time.
 */
export async function verifyIdToken(
  provider: StoredProvider,
  doc: Discovery,
  idToken: string,
  nonce: string,
): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, keySet(doc.jwks_uri), {
      audience: provider.client_id,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      clockTolerance: 60,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    }));
  } catch (err) {
    // The keys could not be had (network, timeout, not a JWKS: KeySetUnavailableError, not a
    // JOSEError): the upstream's trouble, not a forgery. Anything jose refused about the token
    // itself is a refusal.
    const code = (err as { code?: string }).code;
    const refused =
      err instanceof joseErrors.JOSEError &&
      !['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC'].includes(code!);
    if (!refused)
      throw new UpstreamError('temporarily_unavailable', 'the upstream keys are not reachable', {
        cause: err,
      });
    throw new UpstreamError('access_denied', `the upstream ID token is not valid (${(err as Error).name})`, {
      cause: err,
    });
  }
  if (!issuerMatches(provider, payload as { iss?: unknown; tid?: unknown }))
    throw new UpstreamError('access_denied', 'the upstream ID token has another issuer');
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== provider.client_id)
    throw new UpstreamError('access_denied', 'the upstream ID token has several audiences and another azp');
  if (typeof payload.nonce !== 'string' || !constantTimeEqual(payload.nonce, nonce))
    throw new UpstreamError('access_denied', 'the upstream ID token has another nonce');
  if (typeof payload.sub !== 'string' || !payload.sub || payload.sub.length > 255)
    throw new UpstreamError('access_denied', 'the upstream ID token has no usable sub');
  return payload;
}
