import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { UserRecords } from '../users/user-records.js';

/** GET /v1/users/{userId} — the user, whether they are enrolled, and their authenticators. */
export const handler = tenantHandler(async (req, ctx) => {
  requireTenantSecret(req, ctx);
  return json(200, await new UserRecords(ctx.store).view(req.pathParams.userId!));
});
