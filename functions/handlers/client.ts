import { isClientId, patchClientSchema, publicView } from '../clients/client.js';
import { ClientRepository } from '../clients/client-repository.js';
import { notFound } from '../errors.js';
import { MAX_BODY_BYTES, parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { audit } from '../http/audit.js';
import { requireTenantSecret } from '../http/tenant-auth.js';

/**
 * GET, PATCH and DELETE /v1/clients/{clientId}; POST /v1/clients/{clientId}/secret rotates a
 * secret. The built-in client (client id = tenant id) is managed here too: e.g. PATCH its
 * `redirect_uris` to register a B2C tenant's `.../oauth2/authresp`. A field the schema refuses and
 * a broken client rule (`ClientRuleError`) answer 400 `invalid_client_metadata` (RFC 7591 §3.2.2;
 * functions/http/domain-errors.ts).
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const clients = new ClientRepository(ctx.store, ctx.tenant);
  const clientId = req.pathParams.clientId;
  // An id no client can have (too long for a store key, or with characters ids never contain) is
  // unknown, at every method alike: 404, as GET answers for any other unknown id.
  if (!isClientId(clientId)) throw notFound('no such client');
  if (req.method === 'PATCH') {
    const patch = parseJson(req, patchClientSchema, MAX_BODY_BYTES, 'invalid_client_metadata');
    const client = await clients.patch(clientId, patch);
    if (!client) throw notFound('no such client');
    await audit(req, ctx).record({
      type: 'client.updated',
      detail: { clientId, fields: Object.keys(patch) },
    });
    return json(200, publicView(client));
  }
  if (req.method === 'DELETE') {
    if (!(await clients.delete(clientId))) throw notFound('no such client');
    await audit(req, ctx).record({ type: 'client.deleted', detail: { clientId } });
    return { status: 204 };
  }
  if (req.method === 'POST') {
    const rotated = await clients.rotateSecret(clientId);
    if (!rotated) throw notFound('no such client');
    await audit(req, ctx).record({ type: 'client.secret_rotated', detail: { clientId } });
    return json(200, { ...publicView(rotated.client), client_secret: rotated.secret });
  }
  const client = await clients.get(clientId);
  if (!client) throw notFound('no such client');
  return json(200, publicView(client));
});
