import * as z from '../zod.js';
import { parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { UserRecords } from '../users/user-records.js';

const body = z.object({
  userId: z.string().check(z.minLength(1, 'userId is required'), z.maxLength(256)),
});

/**
 * POST /get-user — the B2C proxy of GET /v1/users/{userId}: B2C RESTful technical profiles can send
 * claims in the body only (Azure AD B2C).
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    await requireTenantSecret(req, ctx);
    const { userId } = parseJson(req, body);
    return json(200, await new UserRecords(ctx.store).view(userId));
  },
  { errors: 'b2c' },
);
