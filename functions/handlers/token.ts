import { authenticateClient } from '../clients/client-auth.js';
import { ClientRepository } from '../clients/client-repository.js';
import { parseForm } from '../http/body.js';
import { HttpError } from '../http/errors.js';
import { json, tenantHandler } from '../http/handler.js';
import { exchangeCode } from '../oidc/token-exchange.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** POST /oidc/token — the token endpoint (RFC 6749 §3.2): client authentication, then the grant. */
export const handler = tenantHandler(
  async (req, ctx) => {
    const form = parseForm(req);
    const clients = new ClientRepository(ctx.store, ctx.tenant);
    const client = await authenticateClient(req, form, clients, ctx.tenant);
    const grantType = form.grant_type;
    if (!grantType) throw new HttpError(400, 'invalid_request', 'grant_type is required');
    if (grantType !== 'authorization_code') {
      throw new HttpError(400, 'unsupported_grant_type', `grant_type "${grantType}" is not supported`);
    }
    const tokens = await exchangeCode(form, client, { store: ctx.store, signer: ctx.services.signer, issuer: ctx.issuer });
    return json(200, tokens, NO_STORE);
  },
  { errors: 'oauth' },
);
