import { decodeJwt } from 'jose';
import type { ClientRepository } from '../clients/client-repository.js';
import type { Signer } from '../signing/signer.js';

/**
 * Signed UserInfo responses (OIDC Core §5.3.2): for a client that registered
 * `userinfo_signed_response_alg` (OpenID Connect Dynamic Client Registration 1.0 §2), the claims
 * become a JWT signed with the tenant's key of that algorithm, with `iss` and `aud` (the client id)
 * added as §5.3.2 asks; undefined for a client that wants plain JSON.
 *
 * `accessToken` must be the token `userInfo` has just verified: its `client_id` is read from it
 * without verifying it again.
 */
export async function signedUserInfo(
  accessToken: string,
  claims: Record<string, unknown>,
  deps: { signer: Signer; issuer: string; clients: ClientRepository },
): Promise<string | undefined> {
  const clientId = decodeJwt(accessToken).client_id;
  if (typeof clientId !== 'string') return undefined;
  const client = await deps.clients.get(clientId);
  const alg = client?.userinfo_signed_response_alg;
  if (!alg) return undefined;
  return deps.signer.signJwt({ ...claims, iss: deps.issuer, aud: clientId }, { alg });
}
