/**
 * The authenticators a user can prove themselves with, and the service the hosted pages and the
 * management API use. Everything is tenant-scoped (a TenantStore) and lives in the user's partition
 * `user#<userId>` with sort key `authn#<id>` (see functions/users/user-records.ts).
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { SmsRefusalReason } from '../audit/events.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Mailer } from '../mail/mailer.js';
import type { Texter } from '../texting/texter.js';
import type { MobileNumber } from './phone.js';

export type AuthenticatorType = 'PASSKEY' | 'AUTHENTICATOR_APP' | 'EMAIL_OTP' | 'SMS';

export interface AuthenticatorRecord {
  id: string;
  type: AuthenticatorType;
  /** A label the user recognises: "iPhone passkey", "Authenticator app", "j•••@example.com". */
  name: string;
  createdAt: string;
  lastUsedAt?: string;
  /** `secret` is sealed by the secret box (`kms1:`/`loc1:`); items from before sealing hold it in clear. */
  totp?: { secret: string; lastStep?: number };
  email?: { address: string };
  /** `phoneNumber` in E.164; `country` its numbering plan, checked against the tenant's allowed countries at every send. */
  sms?: { phoneNumber: string; country: string };
  passkey?: {
    credentialId: string;
    publicKey: string;
    counter: number;
    transports?: string[];
    backedUp?: boolean;
    deviceType?: string;
  };
}

/** What the management API and pages show: never a secret or key material. */
export interface AuthenticatorView {
  id: string;
  type: AuthenticatorType;
  name: string;
  createdAt: string;
  lastUsedAt?: string;
}

export type VerifyResult =
  | { ok: true; authenticatorId: string }
  /** `retryAfter`: with `locked`, the seconds until a code of this user can be compared again. */
  | { ok: false; reason: string; retryAfter?: number };

/**
 * Why a verification failed (`VerifyResult.reason`). Pages show one message for all of them but
 * the first two; the rest are for logs and tests.
 */
export type VerifyFailure =
  | 'invalid_code' // wrong code (an attempt was counted)
  | 'too_many_attempts' // the emailed code is dead: request a new one
  | 'expired' // no live code or challenge under this key
  | 'used' // already used (one-time code, TOTP step, challenge)
  | 'not_enrolled' // nothing to verify against
  | 'invalid_response' // a WebAuthn response that does not verify
  | 'unknown_credential' // a passkey this user does not have
  | 'taken' // the verified phone number is another user's SMS authenticator
  | 'locked'; // too many wrong guesses (this user, or this address): nothing was compared

export const fail = (reason: VerifyFailure): VerifyFailed => ({ ok: false, reason });

/** A verification that did not pass. */
export type VerifyFailed = Extract<VerifyResult, { ok: false }>;

/** A check that proves something without naming an authenticator (a sign-up's emailed code). */
export type ProveResult = { ok: true } | VerifyFailed;

/** One-time state (emailed codes, WebAuthn challenges) is kept under the caller's interaction key. */
export function checkKey(key: string): void {
  if (!key || key.length > 256) throw new Error('an interaction key of 1 to 256 characters is required');
}

export interface AuthenticatorServiceOptions {
  mailer: Mailer;
  /** Sends SMS codes; without one (`TEXTER=none`), every SMS is refused as `unavailable`. */
  texter?: Texter;
  /** Seals TOTP secrets at rest, bound to their tenant and user (the region's `secretBox`). */
  secretBox: SecretBox;
  /** WebAuthn relying party id: the tenant host without port (`demo.us.localhost`). */
  rpId: string;
  /** Shown by authenticator apps and passkey prompts: the tenant's name. */
  rpName: string;
  /** The exact origin pages are served from (`http://demo.us.localhost:3000`), checked in clientDataJSON. */
  origin: string;
  /** Epoch milliseconds (tests move time). */
  now?: () => number;
}

export interface SendResult {
  sent: boolean;
  /** The address, masked for display: `j•••@example.com`. */
  to: string;
  /** When refused by a rate limit: seconds until another code may be sent. */
  retryAfter?: number;
  /**
   * Why nothing was sent: a rate limit tripped, the user has no enrolled address (and no `to`), or
   * (SMS) the SMS guard refused the number (`refusal` says why).
   */
  reason?: 'rate_limited' | 'no_address' | 'refused';
  /** With SMS, the SMS guard's reason (sms-guard.ts): recorded as an `sms.refused` audit event. */
  refusal?: SmsRefusal;
}

/** Why the SMS guard refused to send (sms-guard.ts); the audit event names the same reasons. */
export type SmsRefusal = SmsRefusalReason;

/**
 * `key` scopes one-time state (WebAuthn challenges, emailed codes) to one interaction, so two
 * browser tabs never consume each other's challenge.
 */
export interface AuthenticatorService {
  list(userId: string): Promise<AuthenticatorRecord[]>;
  remove(userId: string, authenticatorId: string): Promise<boolean>;

  /**
   * TOTP enrollment in two steps: a secret to show (QR code + text), then a code proving the app has
   * it. `sealed` is the same secret sealed for this user: what to keep until the confirmation.
   */
  newTotpSecret(
    userId: string,
    accountLabel: string,
  ): Promise<{ secret: string; sealed: string; uri: string; qrSvg: string }>;
  /** `pending`: the `sealed` (or, from before sealing existed, the clear) secret of `newTotpSecret`. */
  confirmTotp(userId: string, pending: string, code: string): Promise<AuthenticatorRecord | undefined>;
  /** Management API: a TOTP authenticator created at once; its secret and otpauth:// URI are shown once. */
  createTotp(
    userId: string,
    accountLabel: string,
    opts?: { name?: string },
  ): Promise<{ authenticator: AuthenticatorRecord; secret: string; uri: string }>;
  /**
   * Verifies a code against the user's TOTP authenticators; a used code cannot be reused in its
   * window. A guess is reserved from the user's and the address's limits (guess-limits.ts) before
   * the code is compared; `locked` when there is none left.
   */
  verifyTotp(userId: string, code: string, opts?: { ip?: string }): Promise<VerifyResult>;

  /**
   * A code guess that cannot succeed (a sign-in for an identifier that matches nobody): reserved
   * and counted against `subject`'s guess limits like a wrong code, so it locks out alike.
   */
  refuseGuess(subject: string, opts?: { ip?: string }): Promise<VerifyResult>;

  /** Management API: an email address the tenant has already verified. */
  enrollEmail(userId: string, address: string): Promise<AuthenticatorRecord>;
  /** Sends a one-time code to the user's enrolled address (or `to`, when enrolling a new one); rate-limited per user and per IP. */
  sendEmailCode(
    userId: string,
    opts: { key: string; ip: string; to?: string; locale?: string; tenantName: string },
  ): Promise<SendResult>;
  /**
   * Spends one email send of `subject`'s and `ip`'s allowance without sending anything: what a
   * sign-in that sends no mail (an identifier without an address) does, so that the send limit
   * comes after as many sends as for a real account. Seconds to wait when used up.
   */
  takeEmailSendAllowance(subject: string, ip: string): Promise<number | undefined>;
  /**
   * Checks an emailed code: single-use, attempt-limited, constant-time, and counted in the same
   * per-user and per-address guess limits as TOTP. When `enroll` is set, a new EMAIL_OTP
   * authenticator is saved on success.
   */
  verifyEmailCode(
    userId: string,
    opts: { key: string; code: string; enroll?: boolean; ip?: string },
  ): Promise<VerifyResult>;
  /**
   * Checks and consumes an emailed code sent to `subject` (no enrolled method needed): the same
   * single use, attempts and guess limits as `verifyEmailCode`. `to` is where the code went.
   */
  proveEmailCode(
    subject: string,
    opts: { key: string; code: string; ip?: string },
  ): Promise<VerifyFailed | { ok: true; to: string }>;

  /**
   * Management API: a number the tenant has already verified. `taken` when it is another user's
   * SMS authenticator (a number belongs to one user of a tenant, so CIBA can name the user by it).
   */
  enrollSms(userId: string, phone: MobileNumber): Promise<AuthenticatorRecord | 'taken'>;
  /**
   * Texts a one-time code to the user's SMS number (or `to`, when enrolling one), if the SMS guard
   * allows it: the number's country among `allowedCountries`, and the per-number, per-user,
   * per-address and per-tenant caps (sms-guard.ts).
   */
  sendSmsCode(
    userId: string,
    opts: {
      key: string;
      ip: string;
      to?: MobileNumber;
      allowedCountries: readonly string[];
      locale?: string;
      tenantName: string;
    },
  ): Promise<SendResult>;
  /** Checks a texted code exactly like an emailed one; `enroll` saves the number on success. */
  verifySmsCode(
    userId: string,
    opts: { key: string; code: string; enroll?: boolean; ip?: string },
  ): Promise<VerifyResult>;

  passkeyRegistrationOptions(
    userId: string,
    opts: { key: string; userName: string; displayName: string },
  ): Promise<PublicKeyCredentialCreationOptionsJSON>;
  verifyPasskeyRegistration(
    userId: string,
    opts: { key: string; response: RegistrationResponseJSON },
  ): Promise<AuthenticatorRecord | undefined>;
  passkeyAuthenticationOptions(
    userId: string,
    opts: { key: string },
  ): Promise<PublicKeyCredentialRequestOptionsJSON>;
  verifyPasskeyAuthentication(
    userId: string,
    opts: { key: string; response: AuthenticationResponseJSON },
  ): Promise<VerifyResult>;
}

/** The WebAuthn ceremonies of the service: built only where pages run them (service.ts). */
export type PasskeyCeremonies = Pick<
  AuthenticatorService,
  | 'passkeyRegistrationOptions'
  | 'verifyPasskeyRegistration'
  | 'passkeyAuthenticationOptions'
  | 'verifyPasskeyAuthentication'
>;
