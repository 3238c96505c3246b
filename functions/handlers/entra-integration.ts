import { ClientRepository } from '../clients/client-repository.js';
import { EntraIntegrationRepository, putEntraSchema } from '../entra/integration.js';
import { conflict, notFound } from '../errors.js';
import { audit } from '../http/audit.js';
import { MAX_BODY_BYTES, parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';

/**
 * PUT, GET and DELETE /v1/integrations/entra — the tenant's Microsoft Entra ID external
 * authentication method: allowed Entra tenant ids, the application id `id_token_hint`s are issued
 * to, and the client id and redirect URI Entra uses (docs/microsoft-entra.md).
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const integrations = new EntraIntegrationRepository(ctx.store);
  if (req.method === 'PUT') {
    const input = parseJson(req, putEntraSchema, MAX_BODY_BYTES);
    // The Entra client is not a registered client: one id must never name both (the implicit
    // id_token response is for the Entra client only).
    if (await new ClientRepository(ctx.store, ctx.tenant).get(input.clientId))
      throw conflict('clientId is the id of a registered client: choose another one');
    const saved = await integrations.put(input);
    await audit(req, ctx).record({ type: 'integration.updated', detail: { integration: 'entra' } });
    return json(200, saved);
  }
  if (req.method === 'DELETE') {
    if (!(await integrations.delete())) throw notFound('no Entra integration');
    await audit(req, ctx).record({ type: 'integration.deleted', detail: { integration: 'entra' } });
    return { status: 204 };
  }
  const integration = await integrations.get();
  if (!integration) throw notFound('no Entra integration');
  return json(200, integration);
});
