import { audit } from '../http/audit.js';
import { MAX_BODY_BYTES, parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { patchSettingsSchema, settingsFields } from '../tenants/settings-schema.js';
import { settingsOf } from '../tenants/settings.js';

/**
 * GET and PATCH /v1/settings — the tenant's self sign-up and SMS settings. A PATCH changes only
 * what it names; warm containers see the change within the tenant cache's lifetime (10 s).
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  if (req.method !== 'PATCH') return json(200, settingsOf(ctx.tenant));
  const fields = settingsFields(parseJson(req, patchSettingsSchema, MAX_BODY_BYTES));
  const updated = await ctx.services.tenants.updateSettings(ctx.tenant.id, fields);
  await audit(req, ctx).record({ type: 'tenant.updated', detail: { fields: Object.keys(fields).sort() } });
  return json(200, settingsOf(updated));
});
