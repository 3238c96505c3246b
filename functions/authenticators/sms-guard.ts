import { metric } from '../metrics.js';
import type { TenantStore } from '../store/tenant-store.js';
import { settingsOf, type TenantSettingsFields } from '../tenants/settings.js';
import { takeRateLimit, type RateLimit } from './rate-limit.js';
import type { SmsRefusal } from './types.js';

/**
 * SMS pumping protection: every SMS costs the operator money, and fraudsters make sign-in forms
 * text premium-rate numbers they share revenue on (AWS End User Messaging SMS User Guide,
 * "Artificially inflated traffic"). So before any SMS leaves:
 *
 * 1. the number's country must be one the tenant allows (`sms.allowedCountries`, none by default);
 * 2. the number must be a mobile number (phone.ts refuses premium-rate and other types at entry);
 * 3. fixed-window caps, counted atomically in the table (rate-limit.ts), must all have room.
 *
 * The caps, per tenant (the TenantStore prefixes every counter):
 */
export const SMS_SEND_LIMITS = {
  /** One source address: a household or office signing in, not a script walking a number range. */
  perIp: { max: 20, windowSeconds: 24 * 60 * 60 },
  /** One user: as for emailed codes, 5 in 15 minutes. */
  perUser: { max: 5, windowSeconds: 15 * 60 },
  /** One number, whoever asks: a number being pumped through many accounts stops after 5 an hour. */
  perNumber: { max: 5, windowSeconds: 60 * 60 },
  /** The whole tenant, per UTC day: the most one tenant's SMS can cost before someone looks. */
  perTenant: { max: 1000, windowSeconds: 24 * 60 * 60 },
} as const satisfies Record<string, RateLimit>;

/** The order the caps are taken in: the narrowest attacker-controlled first, the tenant's own last. */
const CAPS = [
  ['perIp', 'sms-ip', 'cap_ip'],
  ['perUser', 'sms-user', 'cap_user'],
  ['perNumber', 'sms-number', 'cap_number'],
  ['perTenant', 'sms-tenant', 'cap_tenant'],
] as const;

/** The tenant's `sms.allowedCountries` (default none: functions/tenants/settings.ts). */
export const allowedSmsCountries = (tenant: TenantSettingsFields): readonly string[] =>
  settingsOf(tenant).sms.allowedCountries;

export interface SmsRefused {
  refusal: SmsRefusal;
  /** With a cap: the seconds until its window ends. */
  retryAfter?: number;
}

/** Counts a refusal in the metrics (`SmsRefused`, dimension `Reason`). */
export function smsRefused(refusal: SmsRefusal, retryAfter?: number): SmsRefused {
  metric('SmsRefused', { Reason: refusal });
  return { refusal, ...(retryAfter !== undefined ? { retryAfter } : {}) };
}

/**
 * May one SMS go to `number` (E.164, of `country`) for `userId` from `ip`? Takes one unit of every
 * cap, or refuses: a cap that is full stops the later ones from being spent, so an attacker who
 * hits the per-address cap does not use up a user's, a number's or the tenant's allowance.
 */
export async function takeSmsAllowance(
  store: TenantStore,
  send: { number: string; country: string; userId: string; ip: string },
  allowedCountries: readonly string[],
  nowSeconds: number,
): Promise<SmsRefused | undefined> {
  if (!allowedCountries.includes(send.country)) return smsRefused('country_not_allowed');
  const subjects = {
    perIp: send.ip || 'unknown',
    perUser: send.userId,
    perNumber: send.number,
    perTenant: 'all',
  };
  for (const [cap, scope, refusal] of CAPS) {
    const retryAfter = await takeRateLimit(store, scope, subjects[cap], SMS_SEND_LIMITS[cap], nowSeconds);
    if (retryAfter !== undefined) return smsRefused(refusal, retryAfter);
  }
  metric('SmsSent', {});
  return undefined;
}
