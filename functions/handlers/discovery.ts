import { EntraIntegrationRepository, withEntraMetadata } from '../entra/integration.js';
import { json, tenantHandler } from '../http/handler.js';
import { discoveryDocument } from '../oidc/discovery.js';
import { TenantScopeRepository } from '../scopes/tenant-scopes.js';

/**
 * GET /oidc/.well-known/openid-configuration — OpenID Connect Discovery 1.0 §4 for the tenant; the
 * signing algorithms listed are those the tenant's keys can sign with now. The same document answers
 * GET /.well-known/oauth-authorization-server/oidc (RFC 8414 §3.1, the issuer's path inserted after
 * the well-known segment); RFC 8414 §3 lets OpenID metadata serve as OAuth metadata. There is no
 * bare /.well-known/oauth-authorization-server: it would name the issuer `https://host`, which is
 * not this issuer, and §3.3 has clients refuse metadata whose `issuer` differs.
 */
export const handler = tenantHandler(async (_req, ctx) => {
  // The tenant's own scopes and their claims join the lists (one query reads them all).
  const [algs, entra, scopes] = await Promise.all([
    ctx.signer.algorithms(),
    // A tenant with an Entra integration also answers the implicit id_token request (its client only).
    new EntraIntegrationRepository(ctx.store).get(),
    new TenantScopeRepository(ctx.store).list(),
  ]);
  const doc = discoveryDocument(ctx.issuer, algs, scopes);
  return json(200, entra ? withEntraMetadata(doc) : doc, {
    'cache-control': 'public, max-age=300',
    'access-control-allow-origin': '*',
  });
});
