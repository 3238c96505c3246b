import { randomUUID } from 'node:crypto';
import type { Mailer } from '../mail/mailer.js';
import type { Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { maskEmail, normaliseEmail } from './display.js';
import { emailCodeMail } from './email-message.js';
import type { GuessLimits } from './guess-limits.js';
import { takeRateLimit } from './rate-limit.js';
import type { AuthenticatorRepository, Clock } from './repository.js';
import { SENT_CODE_MAX_ATTEMPTS, SENT_CODE_MINUTES, SentCodes, sentCodeKey } from './sent-codes.js';
import {
  checkKey,
  type AuthenticatorRecord,
  type AuthenticatorService,
  type VerifyFailed,
  type SendResult,
  type VerifyResult,
} from './types.js';

/** Sending limits for emailed codes: fixed windows, counted atomically in the table. */
export const EMAIL_SEND_LIMITS = {
  perUser: { max: 5, windowSeconds: 15 * 60 },
  perIp: { max: 20, windowSeconds: 60 * 60 },
} as const;
/** Guesses one emailed code survives: the 5th wrong one kills it. */
export const EMAIL_CODE_MAX_ATTEMPTS = SENT_CODE_MAX_ATTEMPTS;
export const EMAIL_CODE_TTL_SECONDS = SENT_CODE_MINUTES * 60;

export const emailCodeKey = (key: string): Key => sentCodeKey('email-code', key);

type EmailMethods = Pick<
  AuthenticatorService,
  'enrollEmail' | 'sendEmailCode' | 'verifyEmailCode' | 'proveEmailCode'
>;

/** Emailed one-time codes: sent rate-limited, then checked like every sent code (sent-codes.ts). */
export class EmailCodes implements EmailMethods {
  private readonly codes: SentCodes;

  constructor(
    private readonly store: TenantStore,
    private readonly repo: AuthenticatorRepository,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    guesses: GuessLimits,
  ) {
    this.codes = new SentCodes(store, repo, clock, guesses, {
      type: 'EMAIL_OTP',
      prefix: 'email-code',
      addressOf: (a) => a.email?.address,
      enroll: (userId, item) => this.enrollEmail(userId, item.to),
    });
  }

  async enrollEmail(userId: string, address: string): Promise<AuthenticatorRecord> {
    const email = normaliseEmail(address);
    const same = (await this.repo.ofType(userId, 'EMAIL_OTP')).find((a) => a.email?.address === email);
    if (same) return same;
    return this.repo.save(userId, {
      id: randomUUID(),
      type: 'EMAIL_OTP',
      name: maskEmail(email),
      createdAt: this.clock.iso(),
      email: { address: email },
    });
  }

  /**
   * Spends one send of the IP's and the subject's allowance; the seconds to wait when either is
   * used up. The IP first: a user's allowance is not spent by requests the IP limit refuses anyway.
   */
  async takeSendAllowance(userId: string, ip: string): Promise<number | undefined> {
    const now = this.clock.seconds();
    return (
      (await takeRateLimit(this.store, 'email-ip', ip || 'unknown', EMAIL_SEND_LIMITS.perIp, now)) ??
      (await takeRateLimit(this.store, 'email-user', userId, EMAIL_SEND_LIMITS.perUser, now))
    );
  }

  async sendEmailCode(
    userId: string,
    o: { key: string; ip: string; to?: string; locale?: string; tenantName: string },
  ): Promise<SendResult> {
    checkKey(o.key);
    const to =
      o.to !== undefined
        ? normaliseEmail(o.to)
        : (await this.repo.ofType(userId, 'EMAIL_OTP'))[0]?.email?.address;
    if (!to) return { sent: false, to: '', reason: 'no_address' };
    const masked = maskEmail(to);
    const retryAfter = await this.takeSendAllowance(userId, o.ip);
    if (retryAfter !== undefined) return { sent: false, to: masked, retryAfter, reason: 'rate_limited' };
    const code = await this.codes.issue(o.key, userId, to);
    await this.mailer.send(emailCodeMail({ to, code, tenantName: o.tenantName, locale: o.locale }));
    return { sent: true, to: masked };
  }

  /**
   * Checks and consumes the code sent under `o.key` to `userId` (the subject it was sent for):
   * the proof that the browser reads the address's mail. A sign-up uses it before any user exists.
   */
  async proveEmailCode(
    userId: string,
    o: { key: string; code: string; ip?: string },
  ): Promise<VerifyFailed | { ok: true; to: string }> {
    const proved = await this.codes.prove(userId, o);
    return proved.ok ? { ok: true, to: proved.item.to } : proved;
  }

  verifyEmailCode(
    userId: string,
    o: { key: string; code: string; enroll?: boolean; ip?: string },
  ): Promise<VerifyResult> {
    return this.codes.verify(userId, o);
  }
}
