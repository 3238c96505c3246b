import { randomInt, randomUUID } from 'node:crypto';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import type { Mailer } from '../mail/mailer.js';
import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { maskEmail, normaliseEmail } from './display.js';
import { EMAIL_CODE_MINUTES, emailCodeMail } from './email-message.js';
import { refusedGuess, type GuessLimits } from './guess-limits.js';
import { takeRateLimit } from './rate-limit.js';
import type { AuthenticatorRepository, Clock } from './repository.js';
import { normaliseCode } from './totp.js';
import {
  checkKey,
  fail,
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
export const EMAIL_CODE_MAX_ATTEMPTS = 5;
export const EMAIL_CODE_TTL_SECONDS = EMAIL_CODE_MINUTES * 60;

/*
 * The code in flight lives under the caller's interaction key (the tenant prefix is added by the
 * TenantStore): a new code under the same key replaces the previous one, and two interactions
 * never see each other's code.
 */
export const emailCodeKey = (key: string): Key => ({ pk: `email-code#${key}`, sk: 'code' });

interface EmailCodeItem {
  userId: string;
  codeHash: string;
  to: string;
  attempts: number;
  createdAt: string;
  expiresAt: number;
  consumedAt?: number;
  [k: string]: unknown;
}

/** The code's hash at rest, bound to its interaction key so it is worthless under any other. */
const codeHash = (key: string, code: string) => sha256(`${key}:${code}`);

type EmailMethods = Pick<
  AuthenticatorService,
  'enrollEmail' | 'sendEmailCode' | 'verifyEmailCode' | 'proveEmailCode'
>;

/** Emailed one-time codes: sent rate-limited, single-use, attempt-limited, compared in constant time. */
export class EmailCodes implements EmailMethods {
  constructor(
    private readonly store: TenantStore,
    private readonly repo: AuthenticatorRepository,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly guesses: GuessLimits,
  ) {}

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

    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    const item: EmailCodeItem = {
      userId,
      codeHash: codeHash(o.key, code),
      to,
      attempts: 0,
      createdAt: this.clock.iso(),
      expiresAt: this.clock.seconds() + EMAIL_CODE_TTL_SECONDS,
    };
    await this.store.put(emailCodeKey(o.key), item);
    await this.mailer.send(emailCodeMail({ to, code, tenantName: o.tenantName, locale: o.locale }));
    return { sent: true, to: masked };
  }

  /**
   * Counts the attempt before looking at the code: however many guesses race, at most
   * EMAIL_CODE_MAX_ATTEMPTS of them are ever compared. A string is why the code cannot be tried.
   */
  private async countAttempt(key: Key): Promise<EmailCodeItem | 'used' | 'too_many_attempts' | 'expired'> {
    try {
      return await this.store.increment<EmailCodeItem>(key, 'attempts', {
        below: EMAIL_CODE_MAX_ATTEMPTS,
        unconsumed: true,
      });
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      const current = await this.store.get<EmailCodeItem>(key);
      if (!current) return 'expired';
      return current.consumedAt !== undefined ? 'used' : 'too_many_attempts';
    }
  }

  /**
   * Checks and consumes the code sent under `o.key` to `userId` (the subject it was sent for):
   * the proof that the browser reads the address's mail, and nothing more. A sign-up uses it
   * before any user exists; `verifyEmailCode` adds the user's enrolled method on top.
   */
  async proveEmailCode(
    userId: string,
    o: { key: string; code: string; ip?: string },
  ): Promise<VerifyFailed | { ok: true; to: string }> {
    checkKey(o.key);
    const code = normaliseCode(o.code);
    if (code === undefined) return { ok: false, reason: 'invalid_code' };
    const key = emailCodeKey(o.key);
    const item = await this.countAttempt(key);
    if (typeof item === 'string') return refusedGuess(this.guesses, userId, o.ip, item);
    if (item.expiresAt <= this.clock.seconds()) return { ok: false, reason: 'expired' };
    // The code's own attempts first (no code, no guess); then the user's and the address's
    // limits, shared with TOTP, reserved before the comparison.
    const reserved = await this.guesses.reserve(userId, o.ip);
    if (!reserved.ok) return { ok: false, reason: 'locked', retryAfter: reserved.retryAfter };
    if (item.userId !== userId || !constantTimeEqual(codeHash(o.key, code), item.codeHash)) {
      return { ok: false, reason: 'invalid_code' };
    }
    const consumed = await this.store.consume<EmailCodeItem>(key);
    if (consumed.status !== 'consumed')
      return { ok: false, reason: consumed.status === 'replayed' ? 'used' : 'expired' };
    await this.guesses.succeeded(reserved.reservation);
    return { ok: true, to: item.to };
  }

  async verifyEmailCode(
    userId: string,
    o: { key: string; code: string; enroll?: boolean; ip?: string },
  ): Promise<VerifyResult> {
    const proved = await this.proveEmailCode(userId, o);
    if (!proved.ok) return proved;
    const item = proved;
    const enrolled = (await this.repo.ofType(userId, 'EMAIL_OTP')).find((a) => a.email?.address === item.to);
    if (enrolled) {
      await this.repo.touch(userId, enrolled.id);
      return { ok: true, authenticatorId: enrolled.id };
    }
    if (!o.enroll) return fail('not_enrolled');
    const created = await this.enrollEmail(userId, item.to);
    return { ok: true, authenticatorId: created.id };
  }
}
