import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { sha256 } from '../crypto/secrets.js';
import { invalidClient } from '../errors.js';
import { ConditionFailedError, nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { CLIENT_ASSERTION_ALGS, type Client } from './client.js';

/** RFC 7523 §2.2: the only client assertion type there is for `private_key_jwt`. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How far ahead an assertion's `exp` may be: it is a one-shot credential, not a session. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** Clock skew tolerated between the client and us. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** Where a used `jti` is remembered until its assertion has expired anyway. */
export const assertionJtiKey = (clientId: string, jti: string) => ({
  pk: `assertion#${sha256(`${clientId}:${jti}`)}`,
  sk: 'jti',
});

export interface AssertionContext {
  store: TenantStore;
  /** Values `aud` may carry: the token endpoint URL, the issuer, the endpoint being called. */
  audiences: string[];
  now?: number;
}

/**
 * The client's registered public keys (its inline `jwks`) as a jose key set: the one key lookup for
 * everything a client signs, client assertions (RFC 7523) and request objects (RFC 9101). jose picks
 * the key by `kid`, key type and `alg`, and tries each candidate when several fit.
 */
export function clientKeySet(client: Client): ReturnType<typeof createLocalJWKSet> {
  return createLocalJWKSet((client.jwks ?? { keys: [] }) as unknown as JSONWebKeySet);
}

/** The client an assertion claims to come from (`iss` = `sub` = client_id), before any verification. */
export function assertionClientId(assertion: string): string | undefined {
  try {
    const claims = decodeJwt(assertion);
    return typeof claims.iss === 'string' && claims.iss === claims.sub ? claims.iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a `private_key_jwt` client assertion (RFC 7523 §3, OIDC Core §9): signed with one of the
 * client's registered keys (RS256, PS256 or ES256), iss = sub = client_id, `aud` naming us, an `exp`
 * at most five minutes ahead, and a `jti` never seen before — remembered with one conditional put,
 * so of two concurrent uses of one assertion exactly one passes.
 */
export async function verifyClientAssertion(
  assertion: string,
  client: Client,
  ctx: AssertionContext,
): Promise<void> {
  const fail = (why: string) => invalidClient(`client assertion refused: ${why}`);
  if (client.token_endpoint_auth_method !== 'private_key_jwt' || !client.jwks?.keys.length) {
    throw fail('this client does not authenticate with private_key_jwt');
  }
  const now = ctx.now ?? Date.now();
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, clientKeySet(client), {
      algorithms: [...CLIENT_ASSERTION_ALGS],
      issuer: client.client_id,
      subject: client.client_id,
      audience: ctx.audiences,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
      throw fail('the signature does not verify with the registered keys');
    }
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' || code === 'ERR_JWT_EXPIRED') {
      throw fail((err as Error).message);
    }
    throw fail('not a valid signed JWT');
  }
  const exp = payload.exp!;
  if (exp > nowSeconds(now) + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    throw fail(`exp is more than ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead`);
  }
  const jti = payload.jti!;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw fail('jti must be a string');
  try {
    await ctx.store.put(
      assertionJtiKey(client.client_id, jti),
      { expiresAt: exp + CLOCK_TOLERANCE_SECONDS },
      { ifAbsent: true },
    );
  } catch (err) {
    if (err instanceof ConditionFailedError) throw fail('this assertion (jti) has already been used');
    throw err;
  }
}
