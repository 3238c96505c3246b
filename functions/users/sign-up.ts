import { randomUUID } from 'node:crypto';
import { maskEmail, normaliseEmail } from '../authenticators/display.js';
import { authenticatorKey } from '../authenticators/repository.js';
import type { AuthenticatorRecord } from '../authenticators/types.js';
import { sha256 } from '../crypto/secrets.js';
import type { TenantStore } from '../store/tenant-store.js';
import { normaliseLogin } from './profile.js';
import { LoginTakenError, ProfileRepository } from './profile-repository.js';

/**
 * Self sign-up: a user who proved an email address with a code becomes a user of the tenant.
 * Nothing is written before the proof, so a sign-up abandoned half-way leaves no user behind.
 */

/**
 * Whose send allowance and code-guess limits a sign-up for `email` counts against: the address
 * itself (hashed, case-insensitive), never a user. New and taken addresses count alike, so the
 * limits tell nothing about which addresses have accounts, and guessing on a sign-up for a taken
 * address never locks its owner out of signing in.
 */
export const signUpSubject = (email: string): string => `signup:${sha256(normaliseLogin(email))}`;

/**
 * Creates the user: the profile (`email`, `email_verified: true`), the login identifier and an
 * emailed-code method for the address, in ONE transaction. Of any number of sign-ups racing for
 * one address exactly one gets a user; the others get `taken` and nothing written.
 */
export async function createSignedUpUser(
  store: TenantStore,
  address: string,
  now = Date.now(),
): Promise<{ userId: string } | 'taken'> {
  const email = normaliseEmail(address);
  const userId = randomUUID();
  const method: AuthenticatorRecord = {
    id: randomUUID(),
    type: 'EMAIL_OTP',
    name: maskEmail(email),
    createdAt: new Date(now).toISOString(),
    email: { address: email },
  };
  try {
    await new ProfileRepository(store).put(
      userId,
      { email, email_verified: true },
      {
        now,
        with: [{ put: { key: authenticatorKey(userId, method.id), item: { ...method }, ifAbsent: true } }],
      },
    );
    return { userId };
  } catch (err) {
    // A concurrent sign-up (or the management API) took the address first.
    if (err instanceof LoginTakenError) return 'taken';
    throw err;
  }
}
