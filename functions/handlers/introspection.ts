import { authenticateClient } from '../clients/client-auth.js';
import { ClientRepository } from '../clients/client-repository.js';
import { json, tenantHandler } from '../http/handler.js';
import { introspect } from '../oidc/introspection.js';
import { parseTokenRequest } from '../oidc/token-request.js';

/**
 * POST /oidc/token/introspection — token introspection (RFC 7662): a confidential client asks
 * whether a token is active; `{ "active": false }` for anything it may not know about.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const { form } = parseTokenRequest(req);
    const clients = new ClientRepository(ctx.store, ctx.tenant);
    const client = await authenticateClient(req, form, clients, ctx.tenant, {
      store: ctx.store,
      audiences: [`${ctx.issuer}/token`, ctx.issuer, `${ctx.issuer}/token/introspection`],
    });
    const result = await introspect(form, client, {
      store: ctx.store,
      signer: ctx.services.signer,
      issuer: ctx.issuer,
    });
    return json(200, result, { 'cache-control': 'no-store', pragma: 'no-cache' });
  },
  { errors: 'oauth' },
);
