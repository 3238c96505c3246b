import { jwtVerify } from 'jose';
import { verificationKeySet, type Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import { accessTokenRevoked, clientRevokedAt, grantRevoked, userRevokedAt } from './revocations.js';
import type { AccessTokenClaims } from './tokens.js';

export type AccessTokenCheck =
  { active: true; claims: AccessTokenClaims } | { active: false; reason: string };

/** Longer than any JWT this provider signs; anything bigger is not ours. */
const MAX_TOKEN_LENGTH = 8192;

export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

/**
 * Checks an access token of this tenant (RFC 9068 §4): a JWT with `typ: at+jwt` signed by one of
 * this tenant's published keys with that key's own algorithm (another tenant's keys are not in the
 * set), `iss` the tenant's issuer, not expired, and not revoked — neither by its `jti`, nor through
 * its grant (`gid`: code replay, refresh token reuse, revocation), nor by deleting its user or client.
 */
export async function verifyAccessToken(
  token: string,
  deps: { signer: Signer; issuer: string; store: TenantStore; now?: number },
): Promise<AccessTokenCheck> {
  if (!token || token.length > MAX_TOKEN_LENGTH || !looksLikeJwt(token))
    return { active: false, reason: 'malformed' };
  const now = deps.now ?? Date.now();
  let claims: AccessTokenClaims;
  try {
    const { keySet, algorithms } = await verificationKeySet(deps.signer);
    const { payload } = await jwtVerify(token, keySet, {
      issuer: deps.issuer,
      typ: 'at+jwt',
      algorithms,
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
      currentDate: new Date(now),
    });
    claims = payload as unknown as AccessTokenClaims;
  } catch (err) {
    return { active: false, reason: (err as { code?: string }).code ?? 'invalid' };
  }
  if (typeof claims.jti !== 'string' || typeof claims.sub !== 'string')
    return { active: false, reason: 'malformed' };
  const [byJti, byGrant, userDeletedAt, clientDeletedAt] = await Promise.all([
    accessTokenRevoked(deps.store, claims.jti),
    claims.gid ? grantRevoked(deps.store, claims.gid) : false,
    // Only a token with a grant has a user behind it; a client_credentials token's sub is the client.
    claims.gid ? userRevokedAt(deps.store, claims.sub) : undefined,
    clientRevokedAt(deps.store, claims.client_id),
  ]);
  if (byJti || byGrant) return { active: false, reason: 'revoked' };
  if (userDeletedAt !== undefined && claims.iat <= userDeletedAt)
    return { active: false, reason: 'user deleted' };
  if (clientDeletedAt !== undefined && claims.iat <= clientDeletedAt)
    return { active: false, reason: 'client deleted' };
  return { active: true, claims };
}
