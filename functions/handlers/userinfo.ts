import { ClientRepository } from '../clients/client-repository.js';
import { presentedToken } from '../http/bearer.js';
import { json, tenantHandler } from '../http/handler.js';
import { userInfo } from '../oidc/userinfo.js';
import { signedUserInfo } from '../oidc/userinfo-response.js';

/**
 * GET and POST /oidc/userinfo — the UserInfo endpoint (OIDC Core §5.3): `Authorization: Bearer`, or
 * an `access_token` form parameter on POST (RFC 6750 §2.2); a DPoP-bound token with
 * `Authorization: DPoP` and a `DPoP` proof (RFC 9449 §7). 401 with `WWW-Authenticate` for a
 * missing, invalid, expired or revoked token or proof.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const presented = presentedToken(req, ctx.issuer);
    const clients = new ClientRepository(ctx.store, ctx.tenant);
    const { claims, dpopNonce } = await userInfo(
      presented,
      { signer: ctx.signer, issuer: ctx.issuer, store: ctx.store },
      {
        proof: {
          proof: req.headers.dpop,
          method: req.method,
          url: `${ctx.issuer}/userinfo`,
          nonceKey: ctx.tenant.secretHash,
        },
        nonceRequired: async (clientId) => (await clients.get(clientId))?.require_dpop_nonce === true,
      },
    );
    const nonce: Record<string, string> = dpopNonce ? { 'dpop-nonce': dpopNonce } : {};
    // OIDC Core §5.3.2: a client that registered userinfo_signed_response_alg gets a signed JWT.
    const jwt = await signedUserInfo(presented.token, claims, {
      signer: ctx.signer,
      issuer: ctx.issuer,
      clients,
    });
    if (jwt)
      return {
        status: 200,
        headers: {
          'content-type': 'application/jwt',
          'cache-control': 'no-store',
          pragma: 'no-cache',
          ...nonce,
        },
        body: jwt,
      };
    return json(200, claims, { 'cache-control': 'no-store', pragma: 'no-cache', ...nonce });
  },
  { errors: 'oauth' },
);
