import { json, tenantHandler } from '../http/handler.js';
import { discoveryDocument } from '../oidc/discovery.js';

/**
 * GET /oidc/.well-known/openid-configuration — OpenID Connect Discovery 1.0 §4 for the tenant; the
 * signing algorithms listed are those the tenant's keys can sign with now.
 */
export const handler = tenantHandler(async (_req, ctx) =>
  json(200, discoveryDocument(ctx.issuer, await ctx.signer.algorithms()), {
    'cache-control': 'public, max-age=300',
    'access-control-allow-origin': '*',
  }),
);
