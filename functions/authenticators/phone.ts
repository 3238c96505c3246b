import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';

/**
 * Phone numbers for SMS, parsed with libphonenumber-js and its `mobile` metadata: numbers of any
 * other type (fixed line, premium rate, shared cost, toll free, VoIP, pagers) are not valid under
 * it, so only numbers that can receive an SMS get through (and premium-rate ranges, the target of
 * SMS pumping fraud, never do). Countries where mobile and fixed numbers share ranges (the NANP)
 * are let through as mobile. The full metadata would also name the refused type, but costs
 * another 60 KB in every bundle that parses numbers; the reason given is `not_mobile` for all.
 *
 * Only the management API's and the hosted pages' entry points import this module: everywhere
 * else a number is the E.164 string and the country stored with the authenticator.
 */
export interface MobileNumber {
  /** E.164, e.g. `+64211234567`: how it is stored, indexed and sent to. */
  e164: string;
  /** ISO 3166-1 alpha-2 of the numbering plan, e.g. `NZ`: what the tenant's allowed countries name. */
  country: string;
  /** `+64 •• ••• 4567`: what pages, lists and audit-free logs show. */
  masked: string;
}

/** Why a number is refused before anything is sent. */
export type PhoneProblem = 'invalid' | 'not_mobile';

/** The longest input looked at: an E.164 number is at most 15 digits (ITU-T E.164 §6.1). */
const MAX_INPUT = 32;

/**
 * An international number (`+` and the country code; spaces, dots, dashes and brackets allowed)
 * that can receive SMS, normalised; or why not.
 */
export function parseMobile(input: string): MobileNumber | PhoneProblem {
  const raw = input.trim();
  if (!raw.startsWith('+') || raw.length > MAX_INPUT || !/^\+[\d\s().-]+$/.test(raw)) return 'invalid';
  const parsed = parsePhoneNumberFromString(raw);
  if (!parsed) return 'invalid';
  // Under the mobile metadata a well-formed number of another type is not valid.
  if (!parsed.isValid() || !parsed.country) return parsed.isPossible() ? 'not_mobile' : 'invalid';
  return {
    e164: parsed.number,
    country: parsed.country,
    masked: maskInternational(parsed.formatInternational()),
  };
}

/** `+64 21 123 4567` → `+64 •• ••• 4567`: the country code and the last four digits stay. */
export function maskInternational(formatted: string): string {
  const [cc = '', ...rest] = formatted.split(' ');
  const national = rest.join(' ');
  let keep = 4;
  const masked = [...national]
    .reverse()
    .map((c) => (/\d/.test(c) ? (keep-- > 0 ? c : '•') : c))
    .reverse()
    .join('');
  return `${cc} ${masked}`;
}
