import type { TenantStore } from '../store/tenant-store.js';
import { TotpAuthenticators } from './authenticator-app.js';
import { EmailCodes } from './email-code.js';
import { GuessLimits, refusedGuess } from './guess-limits.js';
import { AuthenticatorRepository, clockOf } from './repository.js';
import { SmsCodes } from './sms-code.js';
import type { Clock } from './repository.js';
import type { AuthenticatorService, AuthenticatorServiceOptions, PasskeyCeremonies } from './types.js';

/**
 * Builds the passkey ceremonies (passkey.ts, which carries `@simplewebauthn/server` and its ASN.1
 * parsers, about 350 KB): only the hosted pages pass one, so the management API's bundles, which
 * list and remove authenticators but never run a ceremony, do not carry WebAuthn.
 */
export type PasskeysFactory = (
  store: TenantStore,
  repo: AuthenticatorRepository,
  opts: AuthenticatorServiceOptions,
  clock: Clock,
) => PasskeyCeremonies;

const noPasskeys: PasskeyCeremonies = new Proxy({} as PasskeyCeremonies, {
  get() {
    throw new Error('this service was built without passkey ceremonies (see PasskeysFactory)');
  },
});

/**
 * The authenticator layer for one tenant: TOTP apps (authenticator-app.ts), emailed and texted
 * one-time codes (email-code.ts, sms-code.ts, both over sent-codes.ts) and passkeys (passkey.ts) over one repository of the user's authenticators.
 * Stateless apart from the store, so build one per request.
 */
export function createAuthenticatorService(
  store: TenantStore,
  opts: AuthenticatorServiceOptions,
  passkeysFactory?: PasskeysFactory,
): AuthenticatorService {
  const clock = clockOf(opts.now);
  const repo = new AuthenticatorRepository(store, clock);
  const guesses = new GuessLimits(store, clock);
  const totp = new TotpAuthenticators(store, repo, opts, clock, guesses);
  const email = new EmailCodes(store, repo, opts.mailer, clock, guesses);
  const sms = new SmsCodes(store, repo, opts.texter, clock, guesses, opts.rpId);
  const passkeys = passkeysFactory ? passkeysFactory(store, repo, opts, clock) : noPasskeys;
  return {
    list: (userId) => repo.list(userId),
    remove: (userId, authenticatorId) => repo.remove(userId, authenticatorId),
    newTotpSecret: (userId, label) => totp.newTotpSecret(userId, label),
    confirmTotp: (userId, pending, code) => totp.confirmTotp(userId, pending, code),
    createTotp: (userId, label, o) => totp.createTotp(userId, label, o),
    verifyTotp: (userId, code, o) => totp.verifyTotp(userId, code, o),
    refuseGuess: (subject, o) => refusedGuess(guesses, subject, o?.ip, 'invalid_code'),
    enrollEmail: (userId, address) => email.enrollEmail(userId, address),
    sendEmailCode: (userId, o) => email.sendEmailCode(userId, o),
    takeEmailSendAllowance: (subject, ip) => email.takeSendAllowance(subject, ip),
    verifyEmailCode: (userId, o) => email.verifyEmailCode(userId, o),
    proveEmailCode: (subject, o) => email.proveEmailCode(subject, o),
    enrollSms: (userId, phone) => sms.enrollSms(userId, phone),
    sendSmsCode: (userId, o) => sms.sendSmsCode(userId, o),
    verifySmsCode: (userId, o) => sms.verifySmsCode(userId, o),
    passkeyRegistrationOptions: (userId, o) => passkeys.passkeyRegistrationOptions(userId, o),
    verifyPasskeyRegistration: (userId, o) => passkeys.verifyPasskeyRegistration(userId, o),
    passkeyAuthenticationOptions: (userId, o) => passkeys.passkeyAuthenticationOptions(userId, o),
    verifyPasskeyAuthentication: (userId, o) => passkeys.verifyPasskeyAuthentication(userId, o),
  };
}
