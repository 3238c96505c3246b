import { EntraIntegrationRepository, withEntraMetadata } from '../entra/integration.js';
import { json, tenantHandler } from '../http/handler.js';
import { discoveryDocument } from '../oidc/discovery.js';

/**
 * GET /oidc/.well-known/openid-configuration — OpenID Connect Discovery 1.0 §4 for the tenant; the
 * signing algorithms listed are those the tenant's keys can sign with now.
 */
export const handler = tenantHandler(async (_req, ctx) => {
  const doc = discoveryDocument(ctx.issuer, await ctx.signer.algorithms());
  // A tenant with an Entra integration also answers the implicit id_token request (its client only).
  const entra = await new EntraIntegrationRepository(ctx.store).get();
  return json(200, entra ? withEntraMetadata(doc) : doc, {
    'cache-control': 'public, max-age=300',
    'access-control-allow-origin': '*',
  });
});
