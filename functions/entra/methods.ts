import type { AuthenticatorType } from '../users/user-records.js';

/**
 * What an Entra EAM request asks for, in the product's terms. Entra sends `claims` with
 * `id_token.amr.values` (the acceptable methods, from its list: `face`, `fido`, `fpt`, `hwk`,
 * `iris`, `otp`, `pop`, `retina`, `sc`, `sms`, `swk`, `tel`, `vbm`) and `id_token.acr.values`
 * (e.g. `possessionorinherence`). Each of the product's methods maps to one of Entra's values:
 * a passkey is `fido` (FIDO2), an authenticator-app code is `otp`, and an emailed code is also
 * `otp` (Entra's list has no value for email; it is a one-time code); a texted code is `sms`.
 */
export const ENTRA_AMR: Record<AuthenticatorType, string> = {
  PASSKEY: 'fido',
  AUTHENTICATOR_APP: 'otp',
  EMAIL_OTP: 'otp',
  SMS: 'sms',
};

const ALL: AuthenticatorType[] = ['PASSKEY', 'AUTHENTICATOR_APP', 'EMAIL_OTP', 'SMS'];

/**
 * Every method of the product is a possession factor (a device holding a passkey or a TOTP seed,
 * a mailbox): the EAM is the second factor after Entra's first, so an `acr` naming possession
 * (`possession`, `possessionorinherence`, `knowledgeorpossession`, …) is satisfied, one that does
 * not (`knowledge`, `inherence`, `knowledgeorinherence`) is not.
 */
const satisfiesAcr = (value: string) => value.includes('possession');

export interface EntraPolicy {
  /** The methods that may be used, in the product's terms. */
  allowed: AuthenticatorType[];
  /** The `acr` value the ID token will carry. */
  acr: string;
}

/**
 * The values a claim request names (OIDC Core §5.5.1: `value` or `values`); `undefined` when it
 * names none (any value will do). Malformed values name nothing acceptable.
 */
const stringValues = (v: unknown): string[] | undefined => {
  if (!v || typeof v !== 'object') return undefined;
  const { values, value } = v as { values?: unknown; value?: unknown };
  if (values !== undefined)
    return Array.isArray(values) ? values.filter((x): x is string => typeof x === 'string') : [];
  if (value !== undefined) return typeof value === 'string' ? [value] : [];
  return undefined;
};

/** The policy of a request's `claims`; `undefined` when no method can satisfy it. */
export function entraPolicy(claimsJson: string | undefined): EntraPolicy | undefined {
  let idToken: Record<string, unknown> = {};
  if (claimsJson) {
    const parsed = JSON.parse(claimsJson) as { id_token?: Record<string, unknown> };
    idToken = parsed.id_token ?? {};
  }
  const amr = stringValues(idToken.amr);
  const acrs = stringValues(idToken.acr);
  const allowed = amr === undefined ? ALL : ALL.filter((m) => amr.includes(ENTRA_AMR[m]));
  const acr = acrs === undefined || acrs.length === 0 ? 'possession' : acrs.find(satisfiesAcr);
  if (!allowed.length || !acr) return undefined;
  return { allowed, acr };
}
