import { parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { UserRecords } from '../users/user-records.js';
import { getUserSchema } from '../users/get-user-schema.js';

/**
 * POST /get-user — the B2C proxy of GET /v1/users/{userId}: B2C RESTful technical profiles can send
 * claims in the body only (Azure AD B2C).
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    await requireTenantSecret(req, ctx);
    const { userId } = parseJson(req, getUserSchema);
    return json(200, await new UserRecords(ctx.store).view(userId));
  },
  { errors: 'b2c' },
);
