import * as z from '../zod.js';
import { actionCodeSchema } from '../actions/action.js';
import { initAuthSchema } from '../federation/init-auth.js';
import { validate } from '../validate.js';
import { notFound } from '../errors.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { UserRecords } from '../users/user-records.js';

// Path parameters are validated like the /init-auth input they come from: an over-long one would
// reach DynamoDB as a key it rejects.
const pathSchema = z.object({
  userId: initAuthSchema.shape.userId,
  action: actionCodeSchema,
  idempotencyKey: z
    .string()
    .check(z.regex(/^[0-9a-f-]{36}$/, 'idempotencyKey is the UUID /init-auth returned')),
});

/** GET /v1/users/{userId}/actions/{action}/{idempotencyKey} — the recorded outcome of one action run. */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const { userId, action, idempotencyKey } = validate(pathSchema, req.pathParams);
  const record = await new UserRecords(ctx.store).outcome(userId, action, idempotencyKey);
  if (!record) throw notFound('no outcome recorded for this user, action and idempotency key');
  return json(200, record);
});
