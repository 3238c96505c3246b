import { bearerError } from '../errors.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import { BUILT_IN_SCOPES, tenantScopeClaims, TenantScopeRepository } from '../scopes/tenant-scopes.js';
import { profileClaims } from '../users/profile.js';
import { ProfileRepository } from '../users/profile-repository.js';
import { verifyAccessToken } from './access-tokens.js';
import { checkSenderConstraint, dpopError, type PresentedToken, type ProofRequest } from './dpop.js';
import { pickClaims } from './claims-request.js';
import { scopeTokens } from './token-request.js';

/** How a DPoP-bound token's proof is checked at UserInfo (RFC 9449 §7). */
export interface SenderCheck {
  /** The request as a proof must name it. */
  proof: ProofRequest;
  /** Whether the token's client must use server nonces (its `require_dpop_nonce`). */
  nonceRequired: (clientId: string) => Promise<boolean>;
}

/**
 * The UserInfo endpoint (OIDC Core §5.3): for a live access token of this tenant with the `openid`
 * scope, `sub` and the profile claims its scopes release (§5.4). A DPoP-bound token needs the
 * `DPoP` scheme and a proof by its key (RFC 9449 §7). Returns the claims and, for a client that
 * uses nonces, the next one.
 */
export async function userInfo(
  presented: PresentedToken,
  deps: { signer: Signer; issuer: string; store: TenantStore },
  sender: SenderCheck,
): Promise<{ claims: Record<string, unknown>; dpopNonce?: string }> {
  const check = await verifyAccessToken(presented.token, deps);
  if (!check.active) {
    const why = 'the access token is invalid, expired or revoked';
    if (presented.scheme === 'DPoP') throw dpopError('resource', 'invalid_token', why);
    throw bearerError(401, 'invalid_token', why, deps.issuer);
  }
  const dpopNonce = await checkSenderConstraint(deps.store, presented, check.claims.cnf, sender.proof, () =>
    sender.nonceRequired(check.claims.client_id),
  );
  const scopes = scopeTokens(check.claims.scope);
  // A client_credentials token never has openid: there is no user behind it.
  if (!scopes.includes('openid') || !check.claims.gid) {
    throw bearerError(403, 'insufficient_scope', 'the access token lacks the openid scope', deps.issuer);
  }
  const profile = await new ProfileRepository(deps.store).get(check.claims.sub);
  // Claims the `claims` request parameter asked for at UserInfo (OIDC Core §5.5), beyond the scopes.
  const asked = Array.isArray(check.claims.uic) ? check.claims.uic.filter((c) => typeof c === 'string') : [];
  // The tenant's own scopes are read only when the token carries one (most tokens carry none).
  const own = scopes.some((s) => !BUILT_IN_SCOPES.includes(s))
    ? tenantScopeClaims(profile, scopes, await new TenantScopeRepository(deps.store).list())
    : {};
  const claims = {
    ...own,
    ...pickClaims(profile, asked),
    ...profileClaims(profile, scopes),
    sub: check.claims.sub,
  };
  return { claims, ...(dpopNonce ? { dpopNonce } : {}) };
}
