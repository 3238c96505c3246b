import { authenticateClient } from '../clients/client-auth.js';
import { ClientRepository } from '../clients/client-repository.js';
import { parseForm } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { backchannelAuthentication } from '../oidc/ciba.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * POST /oidc/backchannel — the CIBA backchannel authentication endpoint (CIBA Core §7, poll mode):
 * a confidential client authenticates as at the token endpoint and names the user; the answer is
 * the `auth_req_id` to poll the token endpoint with (and, with `channel: link`, the link).
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const form = parseForm(req);
    const clients = new ClientRepository(ctx.store, ctx.tenant);
    const client = await authenticateClient(req, form, clients, ctx.tenant, {
      store: ctx.store,
      audiences: [`${ctx.issuer}/backchannel`, `${ctx.issuer}/token`, ctx.issuer],
    });
    const response = await backchannelAuthentication(form, client, {
      store: ctx.store,
      origin: ctx.origin,
      mailer: ctx.services.mailer,
    });
    return json(200, response, NO_STORE);
  },
  { errors: 'oauth' },
);
