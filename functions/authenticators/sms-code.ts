import { randomUUID } from 'node:crypto';
import { ConditionFailedError } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Texter } from '../texting/texter.js';
import { mailLocale } from './email-message.js';
import type { GuessLimits } from './guess-limits.js';
import type { MobileNumber } from './phone.js';
import {
  authenticatorKey,
  phoneKey,
  type AuthenticatorRepository,
  type Clock,
  type PhoneOwner,
} from './repository.js';
import { SENT_CODE_MINUTES, SentCodes, type SentCodeItem } from './sent-codes.js';
import { smsRefused, takeSmsAllowance } from './sms-guard.js';
import { checkKey, type AuthenticatorRecord, type AuthenticatorService, type SendResult } from './types.js';

/**
 * The text: the code first (a lock screen shows the start), then the WebOTP line that lets a
 * browser on the phone fill the code in for this host only (WICG WebOTP, "origin-bound one-time
 * codes"), which also makes the code useless on a look-alike site.
 */
export function smsCodeText(o: { code: string; tenantName: string; host: string; locale?: string }): string {
  const tenant = o.tenantName.replace(/\p{Cc}+/gu, ' ').trim();
  const line =
    mailLocale(o.locale) === 'es'
      ? `${o.code} es tu código de ${tenant}. Caduca en ${SENT_CODE_MINUTES} minutos.`
      : `${o.code} is your ${tenant} code. It expires in ${SENT_CODE_MINUTES} minutes.`;
  return `${line}\n\n@${o.host} #${o.code}`;
}

type SmsMethods = Pick<AuthenticatorService, 'enrollSms' | 'sendSmsCode' | 'verifySmsCode'>;

/** Texted one-time codes: the SMS guard before every send, then checked like every sent code. */
export class SmsCodes implements SmsMethods {
  private readonly codes: SentCodes;

  constructor(
    private readonly store: TenantStore,
    private readonly repo: AuthenticatorRepository,
    private readonly texter: Texter | undefined,
    private readonly clock: Clock,
    guesses: GuessLimits,
    /** The tenant host without port: the WebOTP line's origin. */
    private readonly host: string,
  ) {
    this.codes = new SentCodes(store, repo, clock, guesses, {
      type: 'SMS',
      prefix: 'sms-code',
      addressOf: (a) => a.sms?.phoneNumber,
      enroll: (userId, item) => this.enrollSms(userId, numberOf(item)),
    });
  }

  async enrollSms(userId: string, phone: MobileNumber): Promise<AuthenticatorRecord | 'taken'> {
    const owner = await this.store.get<PhoneOwner>(phoneKey(phone.e164));
    if (owner && owner.userId !== userId) return 'taken';
    const same = (await this.repo.ofType(userId, 'SMS')).find((a) => a.sms?.phoneNumber === phone.e164);
    if (same) return same;
    const record: AuthenticatorRecord = {
      id: randomUUID(),
      type: 'SMS',
      name: phone.masked,
      createdAt: this.clock.iso(),
      sms: { phoneNumber: phone.e164, country: phone.country },
    };
    try {
      await this.store.transact([
        { put: { key: phoneKey(phone.e164), item: { userId, authenticatorId: record.id }, ifAbsent: true } },
        { put: { key: authenticatorKey(userId, record.id), item: { ...record }, ifAbsent: true } },
      ]);
    } catch (err) {
      // Enrolled by someone else (or by a racing request of this user) in the meantime.
      if (err instanceof ConditionFailedError) return 'taken';
      throw err;
    }
    return record;
  }

  async sendSmsCode(userId: string, o: Parameters<SmsMethods['sendSmsCode']>[1]): Promise<SendResult> {
    checkKey(o.key);
    const to = o.to ?? numberOfRecord((await this.repo.ofType(userId, 'SMS'))[0]);
    if (!to) return { sent: false, to: '', reason: 'no_address' };
    if (!this.texter) return { sent: false, to: to.masked, reason: 'refused', ...smsRefused('unavailable') };
    const refused = await takeSmsAllowance(
      this.store,
      { number: to.e164, country: to.country, userId, ip: o.ip },
      o.allowedCountries,
      this.clock.seconds(),
    );
    if (refused) {
      const reason = refused.retryAfter !== undefined ? 'rate_limited' : 'refused';
      return { sent: false, to: to.masked, reason, ...refused };
    }
    const code = await this.codes.issue(o.key, userId, to.e164, { country: to.country, masked: to.masked });
    await this.texter.sendText({
      to: to.e164,
      text: smsCodeText({ code, tenantName: o.tenantName, host: this.host, locale: o.locale }),
    });
    return { sent: true, to: to.masked };
  }

  verifySmsCode(userId: string, o: { key: string; code: string; enroll?: boolean; ip?: string }) {
    return this.codes.verify(userId, o);
  }
}

/** The number a code in flight went to, as enrolment needs it. */
function numberOf(item: SentCodeItem): MobileNumber {
  return { e164: item.to, country: String(item.country), masked: String(item.masked) };
}

/** An SMS authenticator's number; its name is the masked number it was enrolled with. */
function numberOfRecord(a: AuthenticatorRecord | undefined): MobileNumber | undefined {
  return a?.sms ? { e164: a.sms.phoneNumber, country: a.sms.country, masked: a.name } : undefined;
}
