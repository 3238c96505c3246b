import { isSupportedCountry } from 'libphonenumber-js/min';
import * as z from '../zod.js';
import type { TenantSettingsFields } from './settings.js';

/*
 * The PATCH /v1/settings body, apart from the settings themselves (settings.ts): its country check
 * carries libphonenumber's country list, which the pages that only read a setting do without.
 */

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
