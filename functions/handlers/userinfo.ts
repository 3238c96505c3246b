import { bearerToken } from '../http/bearer.js';
import { json, tenantHandler } from '../http/handler.js';
import { userInfo } from '../oidc/userinfo.js';
import { ClientRepository } from '../clients/client-repository.js';
import { signedUserInfo } from '../oidc/userinfo-response.js';

/**
 * GET and POST /oidc/userinfo — the UserInfo endpoint (OIDC Core §5.3): `Authorization: Bearer`, or
 * an `access_token` form parameter on POST (RFC 6750 §2.2); 401 with `WWW-Authenticate: Bearer`
 * for a missing, invalid, expired or revoked token.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const token = bearerToken(req, ctx.issuer);
    const claims = await userInfo(token, {
      signer: ctx.signer,
      issuer: ctx.issuer,
      store: ctx.store,
    });
    // OIDC Core §5.3.2: a client that registered userinfo_signed_response_alg gets a signed JWT.
    const clients = new ClientRepository(ctx.store, ctx.tenant);
    const jwt = await signedUserInfo(token, claims, { signer: ctx.signer, issuer: ctx.issuer, clients });
    if (jwt)
      return {
        status: 200,
        headers: { 'content-type': 'application/jwt', 'cache-control': 'no-store', pragma: 'no-cache' },
        body: jwt,
      };
    return json(200, claims, { 'cache-control': 'no-store', pragma: 'no-cache' });
  },
  { errors: 'oauth' },
);
