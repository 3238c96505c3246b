import { createClientSchema, publicView } from '../clients/client.js';
import { ClientRepository } from '../clients/client-repository.js';
import { MAX_BODY_BYTES, parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { audit } from '../http/audit.js';
import { requireTenantSecret } from '../http/tenant-auth.js';

/**
 * POST /v1/clients registers a client (its secret is shown once); GET /v1/clients lists them. A
 * field the schema refuses and a broken client rule answer 400 `invalid_client_metadata` (RFC 7591
 * §3.2.2; functions/http/domain-errors.ts).
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const clients = new ClientRepository(ctx.store, ctx.tenant);
  if (req.method === 'GET') return json(200, { clients: (await clients.list()).map(publicView) });
  const { client, secret } = await clients.create(
    parseJson(req, createClientSchema, MAX_BODY_BYTES, 'invalid_client_metadata'),
  );
  await audit(req, ctx).record({ type: 'client.created', detail: { clientId: client.client_id } });
  return json(201, { ...publicView(client), ...(secret ? { client_secret: secret } : {}) });
});
