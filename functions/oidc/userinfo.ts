import { bearerError } from '../errors.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import { profileClaims } from '../users/profile.js';
import { ProfileRepository } from '../users/profile-repository.js';
import { verifyAccessToken } from './access-tokens.js';
import { pickClaims } from './claims-request.js';
import { scopeTokens } from './token-request.js';

/**
 * The UserInfo endpoint (OIDC Core §5.3): for a live access token of this tenant with the `openid`
 * scope, `sub` and the profile claims its scopes release (§5.4).
 */
export async function userInfo(
  token: string,
  deps: { signer: Signer; issuer: string; store: TenantStore },
): Promise<Record<string, unknown>> {
  const check = await verifyAccessToken(token, deps);
  if (!check.active)
    throw bearerError(401, 'invalid_token', 'the access token is invalid, expired or revoked', deps.issuer);
  const scopes = scopeTokens(check.claims.scope);
  // A client_credentials token never has openid: there is no user behind it.
  if (!scopes.includes('openid') || !check.claims.gid) {
    throw bearerError(403, 'insufficient_scope', 'the access token lacks the openid scope', deps.issuer);
  }
  const profile = await new ProfileRepository(deps.store).get(check.claims.sub);
  // Claims the `claims` request parameter asked for at UserInfo (OIDC Core §5.5), beyond the scopes.
  const asked = Array.isArray(check.claims.uic) ? check.claims.uic.filter((c) => typeof c === 'string') : [];
  return { sub: check.claims.sub, ...pickClaims(profile, asked), ...profileClaims(profile, scopes) };
}
