import { authenticateClientAt } from '../http/client-auth.js';
import { parseForm } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { pushAuthorizationRequest } from '../oidc/par.js';

/**
 * POST /oidc/request — the pushed authorization request endpoint (RFC 9126 §2): the client
 * authenticates as at the token endpoint (public clients send their client_id only), pushes the
 * authorization request parameters and gets a one-time `request_uri` for `/oidc/auth`.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    // Parameters must not repeat, as at the authorization endpoint (RFC 6749 §3.1).
    const form = parseForm(req);
    const client = await authenticateClientAt(req, form, ctx, '/request');
    return json(201, await pushAuthorizationRequest(form, client, { store: ctx.store, issuer: ctx.issuer }), {
      'cache-control': 'no-store',
      pragma: 'no-cache',
    });
  },
  { errors: 'oauth' },
);
