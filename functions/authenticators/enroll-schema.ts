import * as z from '../zod.js';

/** Body of `POST /v1/users/{userId}/authenticators`: a pre-verified email, or an authenticator app. */
export const enrollAuthenticatorSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('EMAIL_OTP'),
    /** An address the tenant has already verified: no code is sent. */
    email: z.email().check(z.maxLength(254)),
  }),
  z.strictObject({
    type: z.literal('AUTHENTICATOR_APP'),
    name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(64))),
  }),
]);

/** Longest user or authenticator id the authenticator routes take in their path. */
export const MAX_AUTHENTICATOR_PATH_ID = 256;
