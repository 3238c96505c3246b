import { ActionRepository, actionCodeSchema, putActionSchema } from '../actions/action.js';
import { parseJson, validate } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';

/** GET and PUT /v1/actions/{action} — an action's default outcome (and, later, its rules). */
export const handler = tenantHandler(async (req, ctx) => {
  requireTenantSecret(req, ctx);
  const action = validate(actionCodeSchema, req.pathParams.action);
  const actions = new ActionRepository(ctx.store, ctx.tenant);
  if (req.method === 'PUT') return json(200, await actions.put(action, parseJson(req, putActionSchema)));
  return json(200, await actions.get(action));
});
