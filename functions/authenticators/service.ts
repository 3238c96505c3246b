import type { TenantStore } from '../store/tenant-store.js';
import { TotpAuthenticators } from './authenticator-app.js';
import { EmailCodes } from './email-code.js';
import { GuessLimits, refusedGuess } from './guess-limits.js';
import { Passkeys } from './passkey.js';
import { AuthenticatorRepository, clockOf } from './repository.js';
import type { AuthenticatorService, AuthenticatorServiceOptions } from './types.js';

/**
 * The authenticator layer for one tenant: TOTP apps (authenticator-app.ts), emailed one-time codes
 * (email-code.ts) and passkeys (passkey.ts) over one repository of the user's authenticators.
 * Stateless apart from the store, so build one per request.
 */
export function createAuthenticatorService(
  store: TenantStore,
  opts: AuthenticatorServiceOptions,
): AuthenticatorService {
  const clock = clockOf(opts.now);
  const repo = new AuthenticatorRepository(store, clock);
  const guesses = new GuessLimits(store, clock);
  const totp = new TotpAuthenticators(store, repo, opts, clock, guesses);
  const email = new EmailCodes(store, repo, opts.mailer, clock, guesses);
  const passkeys = new Passkeys(store, repo, opts, clock);
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
    passkeyRegistrationOptions: (userId, o) => passkeys.passkeyRegistrationOptions(userId, o),
    verifyPasskeyRegistration: (userId, o) => passkeys.verifyPasskeyRegistration(userId, o),
    passkeyAuthenticationOptions: (userId, o) => passkeys.passkeyAuthenticationOptions(userId, o),
    verifyPasskeyAuthentication: (userId, o) => passkeys.verifyPasskeyAuthentication(userId, o),
  };
}
