import * as z from '../zod.js';
import { actionCodeSchema } from '../actions/action.js';
import { initAuthSchema } from '../federation/init-auth.js';

/*
 * The request schemas of the user routes, in one module so the handlers and the OpenAPI generator
 * (`scripts/openapi.ts`) validate and describe the same objects.
 */

/** A user id: what `/init-auth` accepts, so every route refuses the same over-long or odd ids. */
export const userIdSchema = initAuthSchema.shape.userId;

/**
 * Body of `PATCH /v1/users/{userId}`: a merge patch (RFC 7396), any object; each field is checked
 * when the merged profile is validated.
 */
export const userPatchSchema = z.record(z.string(), z.unknown());

/**
 * Path of `GET /v1/users/{userId}/actions/{action}/{idempotencyKey}`, validated like the
 * `/init-auth` input it comes from: an over-long parameter would reach DynamoDB as a key it rejects.
 */
export const outcomePathSchema = z.object({
  userId: userIdSchema,
  action: actionCodeSchema,
  idempotencyKey: z
    .string()
    .check(z.regex(/^[0-9a-f-]{36}$/, 'idempotencyKey is the UUID /init-auth returned')),
});
