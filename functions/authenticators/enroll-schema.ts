import * as z from '../zod.js';

/**
 * Body of `POST /v1/users/{userId}/authenticators`: a pre-verified email or mobile number, or an
 * authenticator app. The number is checked further by the handler (phone.ts: E.164, mobile; the
 * tenant's allowed countries).
 */
export const enrollAuthenticatorSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('EMAIL_OTP'),
    /** An address the tenant has already verified: no code is sent. */
    email: z.email().check(z.maxLength(254)),
  }),
  z.strictObject({
    type: z.literal('SMS'),
    /** E.164 (`+64211234567`; spaces, dots, dashes and brackets are ignored): a number the tenant has already verified. */
    phoneNumber: z.string().check(z.minLength(2), z.maxLength(32)),
  }),
  z.strictObject({
    type: z.literal('AUTHENTICATOR_APP'),
    name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(64))),
  }),
]);

/** Longest user or authenticator id the authenticator routes take in their path. */
export const MAX_AUTHENTICATOR_PATH_ID = 256;
