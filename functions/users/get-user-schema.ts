import * as z from '../zod.js';

/**
 * Body of `POST /get-user`: the user id in the body, as Azure AD B2C RESTful technical profiles send
 * claims. Its own module, so the handler and the OpenAPI generator (`scripts/openapi.ts`) share it
 * and the `/get-user` bundle carries nothing else.
 */
export const getUserSchema = z.object({
  userId: z.string().check(z.minLength(1, 'userId is required'), z.maxLength(256)),
});
