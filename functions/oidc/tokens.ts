import { createHash, randomUUID } from 'node:crypto';
import type { Signer } from '../signing/signer.js';
import type { Client } from '../clients/client.js';
import type { Grant } from './codes.js';

export interface TokenResponse {
  access_token: string;
  id_token?: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url. */
function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

/** The federated challenge's claims (API.md); both tokens carry them. */
function actionClaims(grant: Grant): Record<string, unknown> {
  if (!grant.action) return {};
  return {
    action: grant.action.code,
    action_code: grant.action.code,
    action_state: grant.action.state,
    is_enrolled: grant.action.isEnrolled,
    idempotency_key: grant.action.idempotencyKey,
  };
}

/**
 * Mints the access token (an RFC 9068 JWT, `typ: at+jwt`) and, for `openid` requests, the ID token
 * (OIDC Core §2). Both are RS256 with the JWKS `kid`; B2C reads its claims from the ID token.
 */
export async function mintTokens(
  signer: Signer,
  issuer: string,
  client: Client,
  grant: Grant,
  grantId: string,
  now = Date.now(),
): Promise<TokenResponse> {
  const iat = Math.floor(now / 1000);
  const scopes = grant.scope.split(' ').filter(Boolean);
  const accessTtl = client.access_token_lifetime;
  const access = await signer.signJwt(
    {
      iss: issuer,
      sub: grant.userId,
      aud: client.client_id,
      client_id: client.client_id,
      scope: grant.scope,
      iat,
      exp: iat + accessTtl,
      jti: randomUUID(),
      auth_time: grant.authTime,
      gid: grantId,
      ...actionClaims(grant),
    },
    { typ: 'at+jwt' },
  );
  const response: TokenResponse = { access_token: access, token_type: 'Bearer', expires_in: accessTtl, scope: grant.scope };
  if (scopes.includes('openid')) {
    response.id_token = await signer.signJwt({
      iss: issuer,
      sub: grant.userId,
      aud: client.client_id,
      iat,
      exp: iat + client.id_token_lifetime,
      auth_time: grant.authTime,
      ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
      ...(grant.amr ? { amr: grant.amr } : {}),
      at_hash: atHash(access),
      ...actionClaims(grant),
    });
  }
  return response;
}
