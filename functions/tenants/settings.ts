import { isSupportedCountry } from 'libphonenumber-js/min';
import * as z from '../zod.js';

/**
 * What a tenant decides about its hosted pages and channels (`GET`/`PATCH /v1/settings`, CLI
 * `update-tenant`). Stored as top-level attributes of the tenant record, so the settings travel
 * with the tenant a warm container already caches (no read per login), and a PATCH sets only the
 * attributes it names (two PATCHes of different settings cannot undo each other).
 */
export interface TenantSettings {
  /** `email`: the hosted login offers "Create an account" proven by an email code. */
  signUp: 'off' | 'email';
  /** Whether a new account must enroll a passkey or an authenticator app, or may skip it. */
  signUpAuthenticator: 'required' | 'optional';
  /**
   * Countries (ISO 3166-1 alpha-2) whose phone numbers may receive SMS codes. Empty until the
   * tenant sets them: SMS pumping fraud targets premium-rate ranges in countries a tenant never
   * serves, so nothing is sent anywhere by default.
   */
  sms: { allowedCountries: string[] };
}

/** The tenant record's attributes that hold the settings. */
export interface TenantSettingsFields {
  signUp?: TenantSettings['signUp'];
  signUpAuthenticator?: TenantSettings['signUpAuthenticator'];
  smsAllowedCountries?: string[];
}

export const DEFAULT_SETTINGS: TenantSettings = {
  signUp: 'off',
  signUpAuthenticator: 'required',
  sms: { allowedCountries: [] },
};

/** The settings of a tenant record, defaults filled in. */
export function settingsOf(tenant: TenantSettingsFields): TenantSettings {
  return {
    signUp: tenant.signUp ?? DEFAULT_SETTINGS.signUp,
    signUpAuthenticator: tenant.signUpAuthenticator ?? DEFAULT_SETTINGS.signUpAuthenticator,
    sms: { allowedCountries: tenant.smsAllowedCountries ?? [] },
  };
}

/** Region codes libphonenumber knows (it has numbering plans for about 245 of them). */
export const countryCodeSchema = z.string().check(
  z.regex(/^[A-Z]{2}$/, 'a country is an ISO 3166-1 alpha-2 code in capitals, e.g. "US"'),
  z.refine((c) => isSupportedCountry(c), 'not a country with a phone numbering plan'),
);

export const patchSettingsSchema = z
  .strictObject({
    signUp: z.optional(z.enum(['off', 'email'])),
    signUpAuthenticator: z.optional(z.enum(['required', 'optional'])),
    sms: z.optional(
      z.strictObject({
        allowedCountries: z.array(countryCodeSchema).check(z.maxLength(250)),
      }),
    ),
  })
  .check(z.refine((p) => Object.keys(p).length > 0, 'name at least one setting to change'));

export type SettingsPatch = z.output<typeof patchSettingsSchema>;

/** The tenant-record attributes a patch sets (countries deduplicated and sorted). */
export function settingsFields(patch: SettingsPatch): TenantSettingsFields {
  return {
    ...(patch.signUp ? { signUp: patch.signUp } : {}),
    ...(patch.signUpAuthenticator ? { signUpAuthenticator: patch.signUpAuthenticator } : {}),
    ...(patch.sms ? { smsAllowedCountries: [...new Set(patch.sms.allowedCountries)].sort() } : {}),
  };
}
