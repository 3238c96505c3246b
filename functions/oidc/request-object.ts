import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { clientKeySet } from '../clients/client-assertion.js';
import { REQUEST_OBJECT_ALGS, type Client } from '../clients/client.js';
import { sha256 } from '../crypto/secrets.js';
import { ConditionFailedError, nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { PageError, RedirectError } from './authorize-errors.js';

/**
 * Request objects (RFC 9101, OpenID Connect Core §6.1): the authorization request as a JWT signed
 * by the client with a key of its registered `jwks`. Only signed objects are accepted (never
 * `alg: none`): an unsigned object protects nothing and would only let the outer parameters be
 * swapped unnoticed. Remote `request_uri`s are never fetched (see `request-uri.ts`).
 */

/**
 * The longest an object may live, `exp` − `nbf` (or − `iat`): 60 minutes, the bound the FAPI 1.0
 * Advanced profile (§5.2.2, 13) sets, so a leaked object is not a long-lived credential.
 */
export const MAX_REQUEST_OBJECT_LIFETIME_SECONDS = 3600;
/** Longer than any real request; an object is parsed and verified before anything else is read. */
export const MAX_REQUEST_OBJECT_LENGTH = 16_384;
const CLOCK_TOLERANCE_SECONDS = 30;
/** The JWT's own claims (RFC 9101 §4), no part of the authorization request. */
const JWT_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sub']);
/**
 * Explicit typing (RFC 9101 §10.8, RFC 8725 §3.11): `oauth-authz-req+jwt`, or a plain JWT for
 * OpenID Connect clients; any other type (an ID token, a logout token, …) is a different JWT.
 */
const ACCEPTED_TYPES = new Set(['oauth-authz-req+jwt', 'jwt', 'application/oauth-authz-req+jwt']);

/** Where a used `jti` is remembered until its object has expired anyway. */
export const requestObjectJtiKey = (clientId: string, jti: string) => ({
  pk: `reqobj#${sha256(`${clientId}:${jti}`)}`,
  sk: 'jti',
});

export interface RequestObjectContext {
  store: TenantStore;
  /** The issuer, the only accepted `aud` (RFC 9101 §4). */
  issuer: string;
  now?: number;
}

/**
 * A refused object (`invalid_request_object`, RFC 9101 §6.2, OIDC Core §3.1.2.6). `verified` holds
 * the object's parameters when its signature verified with the client's key: then the client made
 * it, and its registered `redirect_uri` and `state` can carry the error back; otherwise nothing in
 * it is trusted and the error is shown on a page (RFC 6749 §4.1.2.1).
 */
export class RequestObjectError extends Error {
  constructor(
    readonly description: string,
    readonly verified?: Record<string, string>,
  ) {
    super(description);
  }
}

/**
 * Verifies a request object of `client` (the outer `client_id`) and returns its authorization
 * request parameters, as strings like the query's: signed with `client.request_object_signing_alg`
 * (or any supported algorithm) by a registered key, `iss` = the client, `aud` = the issuer, an
 * `exp` at most 60 minutes after `nbf`/`iat`, an inner `client_id` equal to the outer one, and a
 * `jti`, when there is one, used once (remembered until `exp` with one conditional write).
 */
export async function verifyRequestObject(
  jwt: string,
  client: Client,
  ctx: RequestObjectContext,
): Promise<Record<string, string>> {
  checkHeader(jwt);
  if (!client.jwks?.keys.length) throw new RequestObjectError('this client has registered no keys (jwks)');
  const now = ctx.now ?? Date.now();
  const payload = await verifySignature(jwt, client, ctx.issuer, now);
  const fail = (why: string) => new RequestObjectError(why, trustedParams(payload));
  checkLifetime(payload, now, fail);
  if (payload.client_id !== undefined && payload.client_id !== client.client_id)
    throw fail('the client_id in the request object differs from the client_id of the request');
  if (payload.request !== undefined || payload.request_uri !== undefined)
    throw fail('a request object must not contain request or request_uri (RFC 9101 §4)');
  const params = toParams(payload, fail);
  if (payload.jti !== undefined) await useJti(payload, client, ctx.store, fail);
  return params;
}

function checkHeader(jwt: string): void {
  if (jwt.length > MAX_REQUEST_OBJECT_LENGTH)
    throw new RequestObjectError(`the request object is longer than ${MAX_REQUEST_OBJECT_LENGTH} characters`);
  if (jwt.split('.').length === 5)
    throw new RequestObjectError('encrypted request objects are not supported: sign it (JWS)');
  let header;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    throw new RequestObjectError('the request object is not a JWT');
  }
  if (header.alg === 'none') throw new RequestObjectError('unsigned request objects (alg none) are refused');
  const typ: unknown = header.typ;
  if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYPES.has(typ.toLowerCase())))
    throw new RequestObjectError('the request object has the typ of another kind of JWT');
}

async function verifySignature(
  jwt: string,
  client: Client,
  issuer: string,
  now: number,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jwt, clientKeySet(client), {
      algorithms: client.request_object_signing_alg
        ? [client.request_object_signing_alg]
        : [...REQUEST_OBJECT_ALGS],
      issuer: client.client_id,
      audience: issuer,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    });
    return payload;
  } catch (err) {
    const { code, payload } = err as { code?: string; payload?: JWTPayload };
    // jose checks the claims only after the signature verified: the payload is the client's own.
    if ((code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' || code === 'ERR_JWT_EXPIRED') && payload)
      throw new RequestObjectError(`request object ${(err as Error).message}`, trustedParams(payload));
    if (code === 'ERR_JOSE_ALG_NOT_ALLOWED')
      throw new RequestObjectError('the request object is not signed with an algorithm this client may use');
    throw new RequestObjectError("the request object's signature does not verify with the client's keys");
  }
}

function checkLifetime(payload: JWTPayload, now: number, fail: (why: string) => Error): void {
  const start = payload.nbf ?? payload.iat ?? nowSeconds(now);
  if (payload.iat !== undefined && payload.iat > nowSeconds(now) + CLOCK_TOLERANCE_SECONDS)
    throw fail('the request object is issued in the future (iat)');
  if (payload.exp! - start > MAX_REQUEST_OBJECT_LIFETIME_SECONDS)
    throw fail(
      `a request object lives at most ${MAX_REQUEST_OBJECT_LIFETIME_SECONDS} seconds (exp - nbf/iat)`,
    );
}

/**
 * The object's claims as request parameters: strings as they are, numbers (`max_age`) as digits,
 * JSON objects (`claims`) as JSON text, a one-element array (`resource`) as its element.
 */
function toParams(payload: JWTPayload, fail: (why: string) => Error): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (JWT_CLAIMS.has(name)) continue;
    if (typeof value === 'string') params[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') params[name] = String(value);
    else if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string')
      params[name] = value[0];
    else if (value && typeof value === 'object' && !Array.isArray(value))
      params[name] = JSON.stringify(value);
    else throw fail(`the request object's ${name} is not a single value`);
  }
  return params;
}

/** The string parameters of a verified object, for carrying an error back (redirect_uri, state). */
function trustedParams(payload: JWTPayload): Record<string, string> {
  return Object.fromEntries(
    Object.entries(payload).filter(([n, v]) => !JWT_CLAIMS.has(n) && typeof v === 'string'),
  ) as Record<string, string>;
}

async function useJti(
  payload: JWTPayload,
  client: Client,
  store: TenantStore,
  fail: (why: string) => Error,
): Promise<void> {
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw fail('jti must be a string');
  try {
    await store.put(
      requestObjectJtiKey(client.client_id, jti),
      { expiresAt: payload.exp! + CLOCK_TOLERANCE_SECONDS },
      { ifAbsent: true },
    );
  } catch (err) {
    if (err instanceof ConditionFailedError) throw fail('this request object (jti) has already been used');
    throw err;
  }
}

/**
 * The authorization endpoint's view of a request (RFC 9101 §5): with a `request` object, only the
 * object's parameters are used and the outer ones are ignored, except `client_id`, which named the
 * client whose keys verified it. OIDC Core §6.1's merging of outer and inner parameters is not
 * applied: an outer parameter that is not signed must not count (FAPI 1.0 Advanced §5.2.2, 10).
 * `signed` says whether the request came as a verified object; `refusal` is an
 * `invalid_request_object` to send to the object's own redirect URI.
 */
export async function readRequestObject(
  outer: Record<string, string>,
  client: Client,
  ctx: RequestObjectContext,
): Promise<{ params: Record<string, string>; signed: boolean; refusal?: RedirectError }> {
  if (outer.request === undefined) return { params: outer, signed: false };
  try {
    const params = await verifyRequestObject(outer.request, client, ctx);
    return { params: { ...params, client_id: client.client_id }, signed: true };
  } catch (err) {
    if (!(err instanceof RequestObjectError)) throw err;
    if (!err.verified)
      throw new PageError(
        400,
        'invalid_request_object',
        `The sign-in request was refused: ${err.description}.`,
      );
    return {
      params: { ...err.verified, client_id: client.client_id },
      signed: false,
      refusal: new RedirectError('invalid_request_object', err.description),
    };
  }
}
