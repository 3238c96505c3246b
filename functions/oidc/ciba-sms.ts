import { AuthenticatorRepository, clockOf, findUserByPhone } from '../authenticators/repository.js';
import { takeSmsAllowance } from '../authenticators/sms-guard.js';
import type { SmsRefusal } from '../authenticators/types.js';
import { badRequest, tooManyRequests } from '../errors.js';
import { pickLocale, translator } from '../i18n.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Texter } from '../texting/texter.js';

/**
 * CIBA over SMS, as Transmit Mosaic offers it: the user named by a phone-number `login_hint`
 * (E.164, the number of their verified SMS authenticator), and the link texted to that number.
 * The SMS guard (authenticators/sms-guard.ts) stands before every text, as before every code.
 */

/** E.164 (ITU-T E.164 §6.1): `+`, a country code not starting with 0, at most 15 digits. */
const E164 = /^\+[1-9]\d{5,14}$/;

/** `+64 21-123 (4567)` → `+64211234567`, or undefined when it is not an E.164 number. */
export function e164Hint(hint: string): string | undefined {
  const compact = hint.replace(/[\s().-]/g, '');
  return E164.test(compact) ? compact : undefined;
}

/**
 * The user whose verified SMS number `hint` is. An unknown number gets the same error as an
 * unknown email (CIBA Core §13 `unknown_user_id`), so numbers cannot be told apart from users.
 */
export async function userByPhone(store: TenantStore, hint: string, unknown: () => Error): Promise<string> {
  const number = e164Hint(hint);
  if (!number) throw badRequest('a phone login_hint is an E.164 number, e.g. +64211234567');
  const userId = await findUserByPhone(store, number);
  if (!userId) throw unknown();
  return userId;
}

export interface CibaSms {
  texter: Texter | undefined;
  allowedCountries: readonly string[];
  /** The request's source address: the SMS guard's per-address cap. */
  ip: string;
  /** Records the refusal (audit event `sms.refused`) before the client is answered. */
  refused(detail: { userId: string; reason: SmsRefusal; country?: string }): Promise<void>;
}

/** Where no texter is wired (tests of other channels): every text is refused as `unavailable`. */
export const NO_SMS: CibaSms = { texter: undefined, allowedCountries: [], ip: '', refused: async () => {} };

/** What the texted link says besides the link: who asks, and what the user should see. */
export interface CibaText {
  link: string;
  clientName: string;
  bindingMessage?: string;
  locale?: string;
}

/**
 * Reserves one text to the user's verified SMS number from the SMS guard, before anything is
 * stored; the function returned sends the link. Refused: the client gets `access_denied`, 429
 * with Retry-After for a full cap, 400 for a number the guard refuses.
 */
export async function reserveCibaText(
  store: TenantStore,
  sms: CibaSms,
  userId: string,
  now: number,
): Promise<(text: CibaText) => Promise<void>> {
  const number = (await new AuthenticatorRepository(store, clockOf()).ofType(userId, 'SMS'))[0]?.sms;
  if (!number) throw badRequest('the user has no verified SMS number: use the "email" or "link" channel');
  const refused = sms.texter
    ? await takeSmsAllowance(
        store,
        { number: number.phoneNumber, country: number.country, userId, ip: sms.ip },
        sms.allowedCountries,
        Math.floor(now / 1000),
      )
    : { refusal: 'unavailable' as const };
  if (refused || !sms.texter) {
    const reason = refused?.refusal ?? 'unavailable';
    await sms.refused({ userId, reason, country: number.country });
    if (refused?.retryAfter !== undefined)
      throw tooManyRequests(refused.retryAfter, 'too many sign-in texts: try again later', 'access_denied');
    throw badRequest(`no SMS can be sent to this user's number (${reason})`, 'access_denied');
  }
  const texter = sms.texter;
  return async (text) => {
    const t = translator(pickLocale(text.locale, undefined));
    const client = text.clientName.replace(/\p{Cc}+/gu, ' ').trim();
    const binding = text.bindingMessage
      ? `\n${t('ciba_mail_binding', { message: text.bindingMessage })}`
      : '';
    await texter.sendText({
      to: number.phoneNumber,
      text: `${t('ciba_mail_subject', { client })}: ${text.link}${binding}`,
    });
  };
}
