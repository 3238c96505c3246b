import { authenticateClientAt } from '../http/client-auth.js';
import { json, tenantHandler } from '../http/handler.js';
import { introspect } from '../oidc/introspection.js';
import { parseTokenRequest } from '../http/token-form.js';

/**
 * POST /oidc/token/introspection — token introspection (RFC 7662): a confidential client asks
 * whether a token is active; `{ "active": false }` for anything it may not know about.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const { form } = parseTokenRequest(req);
    const client = await authenticateClientAt(req, form, ctx, '/token/introspection');
    const result = await introspect(form, client, {
      store: ctx.store,
      signer: ctx.signer,
      issuer: ctx.issuer,
    });
    return json(200, result, { 'cache-control': 'no-store', pragma: 'no-cache' });
  },
  { errors: 'oauth' },
);
