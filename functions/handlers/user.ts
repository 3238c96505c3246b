import { initAuthSchema } from '../federation/init-auth.js';
import { validate } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { UserRecords } from '../users/user-records.js';

/** GET /v1/users/{userId} — the user, whether they are enrolled, and their authenticators. */
export const handler = tenantHandler(async (req, ctx) => {
  requireTenantSecret(req, ctx);
  // Fix: a userId no /init-auth call can create (e.g. 3000 characters) is a 400, not a key DynamoDB rejects (500).
  const userId = validate(initAuthSchema.shape.userId, req.pathParams.userId);
  return json(200, await new UserRecords(ctx.store).view(userId));
});
