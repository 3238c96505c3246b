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
