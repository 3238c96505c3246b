import { conflict, notFound } from '../errors.js';
import { audit } from '../http/audit.js';
import { MAX_BODY_BYTES, parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import {
  MAX_TENANT_SCOPES,
  putScopeSchema,
  SCOPE_NAME,
  scopeNameSchema,
  TenantScopeRepository,
} from '../scopes/tenant-scopes.js';
import { validate } from '../validate.js';

/**
 * GET /v1/scopes, and PUT, GET and DELETE /v1/scopes/{scope} — the tenant's own scopes: a
 * description for the consent page and the claims each releases (custom attribute keys, `roles`,
 * `groups`) to clients registered with the scope.
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const scopes = new TenantScopeRepository(ctx.store);
  const name = req.pathParams.scope;
  if (name === undefined) return json(200, { scopes: await scopes.list() });
  if (req.method === 'PUT') {
    const scope = validate(scopeNameSchema, name);
    const input = parseJson(req, putScopeSchema, MAX_BODY_BYTES);
    const result = await scopes.put(scope, input);
    if (!result) throw conflict(`a tenant has at most ${MAX_TENANT_SCOPES} scopes`, 'too_many_scopes');
    await audit(req, ctx).record({ type: 'scope.updated', detail: { scope } });
    return json(result.created ? 201 : 200, result.saved);
  }
  // A name no PUT could have stored is simply not there.
  if (!SCOPE_NAME.test(name)) throw notFound('no such scope');
  if (req.method === 'DELETE') {
    if (!(await scopes.delete(name))) throw notFound('no such scope');
    await audit(req, ctx).record({ type: 'scope.deleted', detail: { scope: name } });
    return { status: 204 };
  }
  const scope = await scopes.get(name);
  if (!scope) throw notFound('no such scope');
  return json(200, scope);
});
