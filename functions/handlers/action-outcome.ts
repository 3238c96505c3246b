import { validate } from '../validate.js';
import { notFound } from '../errors.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { UserRecords } from '../users/user-records.js';
import { outcomePathSchema } from '../users/user-schemas.js';

/** GET /v1/users/{userId}/actions/{action}/{idempotencyKey} — the recorded outcome of one action run. */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const { userId, action, idempotencyKey } = validate(outcomePathSchema, req.pathParams);
  const record = await new UserRecords(ctx.store).outcome(userId, action, idempotencyKey);
  if (!record) throw notFound('no outcome recorded for this user, action and idempotency key');
  return json(200, record);
});
