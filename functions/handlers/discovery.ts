import { EntraIntegrationRepository, withEntraMetadata } from '../entra/integration.js';
import { json, tenantHandler } from '../http/handler.js';
import { discoveryDocument } from '../oidc/discovery.js';

/**
 * GET /oidc/.well-known/openid-configuration — OpenID Connect Discovery 1.0 §4 for the tenant; the
 * signing algorithms listed are those the tenant's keys can sign with now. The same document answers
 * GET /.well-known/oauth-authorization-server/oidc (RFC 8414 §3.1, the issuer's path inserted after
 * the well-known segment); RFC 8414 §3 lets OpenID metadata serve as OAuth metadata. There is no
 * bare /.well-known/oauth-authorization-server: it would name the issuer `https://host`, which is
 * not this issuer, and §3.3 has clients refuse metadata whose `issuer` differs.
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
