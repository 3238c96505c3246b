import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '../clients/client.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import { badRequest, HttpError } from '../http/errors.js';
import type { Signer } from '../signing/signer.js';
import { nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { redeemCode, revokedGrantKey } from './codes.js';
import { mintTokens, type TokenResponse } from './tokens.js';

export const invalidGrant = (description: string) => new HttpError(400, 'invalid_grant', description);

/** How long a revocation must be remembered: longer than any token of the grant lives. */
const REVOCATION_TTL_SECONDS = 2 * 86_400;

/**
 * The authorization_code grant (RFC 6749 §4.1.3). The code is consumed first, with one conditional
 * write; of any number of concurrent redemptions exactly one wins. A replayed code is refused and
 * the tokens the first redemption issued are revoked (RFC 6749 §4.1.2).
 */
export async function exchangeCode(
  form: Record<string, string>,
  client: Client,
  deps: { store: TenantStore; signer: Signer; issuer: string },
): Promise<TokenResponse> {
  if (!client.grant_types.includes('authorization_code')) {
    throw new HttpError(400, 'unauthorized_client', 'this client may not use the authorization_code grant');
  }
  const code = form.code;
  if (!code) throw badRequest('code is required');
  if (code.length > 200) throw invalidGrant('the code is invalid, expired or already used');
  const grantId = randomUUID();
  const result = await redeemCode(deps.store, code, grantId);
  if (result.status === 'replayed') {
    if (result.item.grantId) {
      await deps.store.put(revokedGrantKey(result.item.grantId), {
        reason: 'authorization code replayed',
        expiresAt: nowSeconds() + REVOCATION_TTL_SECONDS,
      });
    }
    throw invalidGrant('the code has already been used; the tokens issued for it are revoked');
  }
  if (result.status !== 'consumed') throw invalidGrant('the code is invalid, expired or already used');
  const grant = result.item;
  if (grant.clientId !== client.client_id) throw invalidGrant('the code was issued to another client');
  // RFC 6749 §4.1.3: redirect_uri must be present and identical when the request included it.
  // Fix: reference 000's documented token request (grant_type, code, client_id, client_secret) has
  // no redirect_uri, so for `/init-auth` grants it may be left out; when sent, it must still match.
  const redirectUriOptional = grant.action !== undefined && form.redirect_uri === undefined;
  if (!redirectUriOptional && form.redirect_uri !== grant.redirectUri) {
    throw invalidGrant('redirect_uri does not match the authorization request');
  }
  if (grant.codeChallenge) {
    const verifier = form.code_verifier;
    if (!verifier) throw invalidGrant('code_verifier is required (PKCE)');
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) throw invalidGrant('code_verifier is malformed (RFC 7636 §4.1)');
    const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
    if (!constantTimeEqual(computed, grant.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge');
  } else if (form.code_verifier !== undefined) {
    throw invalidGrant('code_verifier sent but the authorization request had no code_challenge');
  }
  return mintTokens(deps.signer, deps.issuer, client, grant, grantId);
}
