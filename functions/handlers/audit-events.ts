import { auditQuerySchema, listAuditEvents } from '../audit/query.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { validate } from '../validate.js';

/**
 * GET /v1/audit-events?since=&type=&userId=&limit=&cursor= — the tenant's audit events, newest
 * first, with an opaque cursor for the next page (functions/audit/query.ts).
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const query = validate(auditQuerySchema, Object.fromEntries(req.query));
  return json(200, await listAuditEvents(ctx.store, ctx.tenant, query));
});
