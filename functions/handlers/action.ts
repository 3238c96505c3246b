import {
  ActionRepository,
  actionCodeSchema,
  PUT_ACTION_MAX_BYTES,
  putActionSchema,
} from '../actions/action.js';
import { parseJson } from '../http/body.js';
import { validate } from '../validate.js';
import { json, tenantHandler } from '../http/handler.js';
import { audit } from '../http/audit.js';
import { requireTenantSecret } from '../http/tenant-auth.js';

/**
 * GET and PUT /v1/actions/{action} — an action's default outcome, its rules (JSON Logic, validated
 * on save: a 400 names the rule and the problem), `allowEnrollment` and `maxAttempts`.
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const action = validate(actionCodeSchema, req.pathParams.action);
  const actions = new ActionRepository(ctx.store, ctx.tenant);
  if (req.method === 'PUT') {
    const saved = await actions.put(action, parseJson(req, putActionSchema, PUT_ACTION_MAX_BYTES));
    const detail = { action, defaultOutcome: saved.defaultOutcome, rules: saved.rules.length };
    await audit(req, ctx).record({ type: 'action.updated', detail });
    return json(200, saved);
  }
  return json(200, await actions.get(action));
});
