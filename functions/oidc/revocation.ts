import type { Client } from '../clients/client.js';
import { verifyAccessToken } from './access-tokens.js';
import { kindOf, requireToken } from './introspection.js';
import { readRefreshToken } from './refresh.js';
import { revokeAccessToken, revokeGrant } from './revocations.js';
import type { TokenEndpointDeps } from './token-request.js';

/**
 * Token revocation (RFC 7009 §2). A refresh token revokes its whole family (the grant: its access
 * tokens die with it); an access token is revoked by its `jti` for the rest of its life. A token
 * that is unknown, invalid, already dead or another client's is left alone, and the answer is the
 * same 200 (§2.2), so the endpoint tells nobody anything about tokens they do not hold.
 */
export async function revokeToken(
  form: Record<string, string>,
  client: Client,
  deps: TokenEndpointDeps,
): Promise<void> {
  const token = requireToken(form);
  if (kindOf(token) === 'access_token') {
    const check = await verifyAccessToken(token, deps);
    if (check.active && check.claims.client_id === client.client_id)
      await revokeAccessToken(deps.store, check.claims, deps.now);
    return;
  }
  const item = await readRefreshToken(deps.store, token);
  if (item && item.clientId === client.client_id)
    await revokeGrant(deps.store, item.grantId, 'revoked by the client', deps.now);
}
