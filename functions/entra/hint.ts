import { decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { guardedRequest } from '../outbound/guarded-fetch.js';
import { remoteKeySet } from '../outbound/remote-key-set.js';
import { Lru } from '../lru.js';
import type { EntraIntegration } from './integration.js';

/**
 * Verifies the `id_token_hint` Microsoft Entra ID sends an external authentication method (EAM):
 * an ID token Entra issued for the provider's application, naming the user and their Entra tenant.
 * Keys come from the tenant's discovery document, `{authority}/{tid}/v2.0/.well-known/openid-configuration`
 * (OpenID Connect Discovery 1.0 §4), and its `jwks_uri`; both are cached per container.
 */

/**
 * Microsoft's "external method provider reference" (sign-in steps) says Entra "provides an expired
 * or soon-to-expire token that contains information to identify the user and tenant": an expired
 * hint is normal. The reference names no bound; this product accepts a hint up to 10 minutes past
 * its `exp` (an interactive second factor starts within seconds of the first), and no older.
 */
export const EXPIRED_HINT_WINDOW_SECONDS = 600;
/** Fetches of discovery and keys give up after this long (a sign-in waits for them). */
const FETCH_TIMEOUT_MS = 5000;
/** How long a discovery document is reused; keys are fetched again on an unknown `kid`. */
const DISCOVERY_TTL_MS = 24 * 3600_000;
/**
 * At most one key-set refetch per this many ms on unknown `kid`s, so
 * hints with made-up `kid`s cannot make the provider hammer the authority.
 */
const KID_REFRESH_COOLDOWN_MS = 5000;
const MAX_HINT_LENGTH = 16_384;

export interface EntraHint {
  sub: string;
  tid: string;
  oid: string;
  preferredUsername?: string;
  email?: string;
}

/** Why a hint was refused, for the error description sent back to Entra (never key material). */
export class EntraHintError extends Error {}

interface Discovered {
  keys: JWTVerifyGetKey;
  jwksUri: string;
  at: number;
}

const discovered = new Lru<string, Discovered>(256);

/**
 * The discovery document, through the guarded client (no redirect followed, https on AWS): not
 * `fetch`, whose first use loads Node's bundled undici (27–45 ms measured) in a cold function.
 */
async function fetchJson(url: string): Promise<Record<string, unknown>> {
  const res = await guardedRequest(url, {
    headers: { accept: 'application/json' },
    timeoutMs: FETCH_TIMEOUT_MS,
    what: 'the Entra discovery document',
  });
  if (res.status !== 200) throw new EntraHintError(`the Entra discovery document answered ${res.status}`);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  if (!body || typeof body !== 'object') throw new EntraHintError('the Entra discovery document is not JSON');
  return body as Record<string, unknown>;
}

/** The key set of one Entra tenant, from its discovery document (cached; a failed fetch is not). */
async function keysFor(authority: string, tid: string, issuer: string, now: number): Promise<Discovered> {
  const cacheKey = `${authority}|${tid}`;
  const hit = discovered.get(cacheKey);
  if (hit && now - hit.at < DISCOVERY_TTL_MS) return hit;
  let doc: Record<string, unknown>;
  try {
    doc = await fetchJson(`${issuer}/.well-known/openid-configuration`);
  } catch (err) {
    if (err instanceof EntraHintError) throw err;
    throw new EntraHintError('the Entra discovery document could not be fetched');
  }
  // OpenID Connect Discovery 1.0 §4.3: the document's issuer is the one it was fetched for.
  if (doc.issuer !== issuer) throw new EntraHintError('the Entra discovery document names another issuer');
  const jwksUri = doc.jwks_uri;
  if (typeof jwksUri !== 'string' || !sameScheme(jwksUri, authority))
    throw new EntraHintError('the Entra discovery document has no usable jwks_uri');
  const entry: Discovered = {
    jwksUri,
    at: now,
    keys:
      hit?.jwksUri === jwksUri
        ? hit.keys
        : remoteKeySet(jwksUri, {
            timeoutMs: FETCH_TIMEOUT_MS,
            cooldownMs: KID_REFRESH_COOLDOWN_MS,
            maxAgeMs: 10 * 60_000,
            what: 'the Entra JWKS URI',
          }),
  };
  discovered.set(cacheKey, entry);
  return entry;
}

/** The key set is fetched with the authority's scheme (https on AWS; config.ts decides). */
function sameScheme(uri: string, authority: string): boolean {
  try {
    return new URL(uri).protocol === new URL(authority).protocol;
  } catch {
    return false;
  }
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined);

/**
 * The hint's claims once it is an RS256 ID token of `{authority}/{tid}/v2.0` for an allowed `tid`,
 * for the integration's application, not older than its `exp` plus the window. `EntraHintError` otherwise.
 */
export async function verifyEntraHint(
  hint: string,
  integration: Pick<EntraIntegration, 'tenantIds' | 'applicationId'>,
  authority: string,
  now = Date.now(),
): Promise<EntraHint> {
  if (!hint || hint.length > MAX_HINT_LENGTH) throw new EntraHintError('id_token_hint is required');
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(hint);
  } catch {
    throw new EntraHintError('id_token_hint is not a JWT');
  }
  const tid = str(unverified.tid)?.toLowerCase();
  // The tenant is checked before anything is fetched: no request from here to a tenant not allowed.
  if (!tid || !integration.tenantIds.includes(tid))
    throw new EntraHintError('id_token_hint is from an Entra tenant this integration does not allow');
  const issuer = `${authority}/${tid}/v2.0`;
  const { keys } = await keysFor(authority, tid, issuer, now);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(hint, keys, {
      issuer,
      audience: integration.applicationId,
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: new Date(now),
      // Expired hints are normal (see EXPIRED_HINT_WINDOW_SECONDS); `exp` still bounds them.
      clockTolerance: EXPIRED_HINT_WINDOW_SECONDS,
    }));
  } catch {
    throw new EntraHintError('id_token_hint is not a valid Entra ID token for this application');
  }
  const sub = str(payload.sub);
  const oid = str(payload.oid)?.toLowerCase();
  if (!sub || !oid || str(payload.tid)?.toLowerCase() !== tid)
    throw new EntraHintError('id_token_hint lacks sub, oid or tid');
  const preferredUsername = str(payload.preferred_username);
  const email = str(payload.email);
  return {
    sub,
    tid,
    oid,
    ...(preferredUsername ? { preferredUsername } : {}),
    ...(email ? { email } : {}),
  };
}
