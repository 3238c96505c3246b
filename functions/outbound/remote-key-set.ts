import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { guardedRequest } from './guarded-fetch.js';

/**
 * Someone else's JSON Web Key Set (an upstream provider's, Microsoft Entra ID's), for jose's
 * `jwtVerify`: fetched through the guarded client, kept for `maxAgeMs`, fetched again at once for
 * a `kid` it does not hold but at most once per `cooldownMs` (so tokens with made-up `kid`s cannot
 * make the provider hammer the key server), one fetch at a time. The key choice itself (kid, alg,
 * kty, use) is jose's `createLocalJWKSet`.
 *
 * Why not jose's `createRemoteJWKSet`, which does the same: it builds a `Headers` and reads a
 * `Response`, and the first use of either in a process loads Node's bundled undici, measured here
 * at 27–45 ms: a cold function verifying its first upstream ID token paid that on top of the fetch.
 */

export interface RemoteKeySetOptions {
  /** Each fetch's limit (connection and whole answer). */
  timeoutMs: number;
  /** At most one refetch per this long for an unknown `kid` (jose's `cooldownDuration`). */
  cooldownMs: number;
  /** The key set is fetched again, before use, once it is this old (jose's `cacheMaxAge`). */
  maxAgeMs: number;
  /** What the URI is, in a refusal of the guarded client ("an upstream JWKS URI"). */
  what: string;
  now?: () => number;
}

/** A key set that could not be fetched or read: the key server's trouble, not the token's. */
export class KeySetUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySetUnavailableError';
  }
}

/** The largest key set accepted (a JWKS of a few dozen keys is a few tens of KB). */
const MAX_JWKS_BYTES = 256 * 1024;

export function remoteKeySet(uri: string, opts: RemoteKeySetOptions): JWTVerifyGetKey {
  const now = opts.now ?? Date.now;
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;

  const fetchKeys = async (): Promise<void> => {
    let res;
    try {
      res = await guardedRequest(uri, {
        headers: { accept: 'application/json, application/jwk-set+json' },
        timeoutMs: opts.timeoutMs,
        what: opts.what,
        maxBytes: MAX_JWKS_BYTES,
      });
    } catch (err) {
      throw new KeySetUnavailableError(`the key set at ${uri} could not be fetched`, { cause: err });
    }
    if (res.status !== 200) throw new KeySetUnavailableError(`the key set at ${uri} answered ${res.status}`);
    let set: ReturnType<typeof createLocalJWKSet>;
    try {
      // createLocalJWKSet refuses anything that is not `{ "keys": [...] }`.
      set = createLocalJWKSet(JSON.parse(res.body) as JSONWebKeySet);
    } catch (err) {
      throw new KeySetUnavailableError(`the key set at ${uri} is not a JWK Set`, { cause: err });
    }
    local = set;
    fetchedAt = now();
  };
  const reload = () =>
    (pending ??= fetchKeys().finally(() => {
      pending = undefined;
    }));

  return async (header, token) => {
    if (!local || now() - fetchedAt >= opts.maxAgeMs) await reload();
    try {
      return await local!(header, token);
    } catch (err) {
      // A key the set does not hold may be a new one (rotation): fetch again, but not too often.
      if (!(err instanceof errors.JWKSNoMatchingKey) || now() - fetchedAt < opts.cooldownMs) throw err;
      await reload();
      return local!(header, token);
    }
  };
}
