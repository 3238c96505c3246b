import { bearerToken } from '../http/bearer.js';
import { json, tenantHandler } from '../http/handler.js';
import { userInfo } from '../oidc/userinfo.js';

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
    return json(200, claims, { 'cache-control': 'no-store', pragma: 'no-cache' });
  },
  { errors: 'oauth' },
);
