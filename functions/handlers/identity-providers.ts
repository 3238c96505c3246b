import { conflict, notFound } from '../errors.js';
import { audit } from '../http/audit.js';
import { MAX_BODY_BYTES, parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import {
  IdentityProviderRepository,
  MAX_PROVIDERS,
  PROVIDER_ID,
  providerIdSchema,
  putProviderSchema,
} from '../upstream/provider.js';
import { validate } from '../validate.js';

/**
 * GET /v1/identity-providers, and PUT, GET and DELETE /v1/identity-providers/{id} — the tenant's
 * upstream OpenID Connect providers (generic, Google, Microsoft Entra ID, Apple). The client secret
 * (Apple: the private key) is sealed at rest and never part of an answer; `redirect_uri` is the
 * callback to register at the upstream.
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const providers = new IdentityProviderRepository(ctx.store, ctx.services.secretBox, ctx.origin);
  const id = req.pathParams.id;
  if (id === undefined)
    return json(200, { providers: (await providers.list()).map((p) => providers.view(p)) });
  if (req.method === 'PUT') {
    const provider = validate(providerIdSchema, id);
    const input = parseJson(req, putProviderSchema, MAX_BODY_BYTES);
    if (!(await providers.get(provider)) && (await providers.list()).length >= MAX_PROVIDERS)
      throw conflict(`a tenant has at most ${MAX_PROVIDERS} identity providers`, 'too_many_providers');
    const saved = await providers.put(provider, input);
    await audit(req, ctx).record({ type: 'identity_provider.updated', detail: { provider } });
    return json(saved.created ? 201 : 200, providers.view(saved.provider));
  }
  // An id no PUT could have stored is simply not there.
  if (!PROVIDER_ID.test(id)) throw notFound('no such identity provider');
  if (req.method === 'DELETE') {
    if (!(await providers.delete(id))) throw notFound('no such identity provider');
    await audit(req, ctx).record({ type: 'identity_provider.deleted', detail: { provider: id } });
    return { status: 204 };
  }
  const provider = await providers.get(id);
  if (!provider) throw notFound('no such identity provider');
  return json(200, providers.view(provider));
});
