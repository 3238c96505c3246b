import { json, tenantHandler } from '../http/handler.js';
import { discoveryDocument } from '../oidc/discovery.js';

/** GET /oidc/.well-known/openid-configuration — OpenID Connect Discovery 1.0 §4 for the tenant. */
export const handler = tenantHandler(async (_req, ctx) =>
  json(200, discoveryDocument(ctx.issuer), {
    'cache-control': 'public, max-age=300',
    'access-control-allow-origin': '*',
  }),
);
