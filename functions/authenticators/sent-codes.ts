import { randomInt } from 'node:crypto';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { refusedGuess, type GuessLimits } from './guess-limits.js';
import type { AuthenticatorRepository, Clock } from './repository.js';
import { normaliseCode } from './totp.js';
import { checkKey, fail, type AuthenticatorRecord, type VerifyFailed, type VerifyResult } from './types.js';

/** Guesses one sent code survives (emailed or texted): the 5th wrong one kills it. */
export const SENT_CODE_MAX_ATTEMPTS = 5;
/** Minutes a sent code stays valid; the messages say so. */
export const SENT_CODE_MINUTES = 10;

/** A code in flight: who it is for, where it went, and its hash bound to the interaction key. */
export interface SentCodeItem {
  userId: string;
  codeHash: string;
  /** The address or E.164 number the code went to. */
  to: string;
  attempts: number;
  createdAt: string;
  expiresAt: number;
  consumedAt?: number;
  [k: string]: unknown;
}

/**
 * One channel of sent codes (email, SMS): where its codes live, which of a user's authenticators
 * it sends to, and how a verified address becomes one.
 */
export interface CodeChannel {
  type: AuthenticatorRecord['type'];
  /** Key prefix of the code in flight: `email-code`, `sms-code`. */
  prefix: string;
  /** The address an authenticator of this channel holds. */
  addressOf(a: AuthenticatorRecord): string | undefined;
  /** Saves the address a verified code went to as a new authenticator; a string is why not. */
  enroll(userId: string, item: SentCodeItem): Promise<AuthenticatorRecord | 'taken'>;
}

/*
 * The code in flight lives under the caller's interaction key (the tenant prefix is added by the
 * TenantStore): a new code under the same key replaces the previous one, and two interactions
 * never see each other's code.
 */
export const sentCodeKey = (prefix: string, key: string): Key => ({ pk: `${prefix}#${key}`, sk: 'code' });

/** The code's hash at rest, bound to its interaction key so it is worthless under any other. */
const codeHash = (key: string, code: string) => sha256(`${key}:${code}`);

/**
 * One-time codes sent through a channel: stored hashed, single-use, attempt-limited, compared in
 * constant time, and counted in the user's and the address's guess limits (guess-limits.ts). The
 * channel's own sending (and its send limits) stay with the channel.
 */
export class SentCodes {
  constructor(
    private readonly store: TenantStore,
    private readonly repo: AuthenticatorRepository,
    private readonly clock: Clock,
    private readonly guesses: GuessLimits,
    private readonly channel: CodeChannel,
  ) {}

  /** A fresh code for `to` under the interaction key (replacing any earlier one): what to send. */
  async issue(key: string, userId: string, to: string, extra: Record<string, unknown> = {}): Promise<string> {
    checkKey(key);
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    const item: SentCodeItem = {
      ...extra,
      userId,
      codeHash: codeHash(key, code),
      to,
      attempts: 0,
      createdAt: this.clock.iso(),
      expiresAt: this.clock.seconds() + SENT_CODE_MINUTES * 60,
    };
    await this.store.put(sentCodeKey(this.channel.prefix, key), item);
    return code;
  }

  /**
   * Counts the attempt before looking at the code: however many guesses race, at most
   * SENT_CODE_MAX_ATTEMPTS of them are ever compared. A string is why the code cannot be tried.
   */
  private async countAttempt(key: Key): Promise<SentCodeItem | 'used' | 'too_many_attempts' | 'expired'> {
    try {
      return await this.store.increment<SentCodeItem>(key, 'attempts', {
        below: SENT_CODE_MAX_ATTEMPTS,
        unconsumed: true,
      });
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      const current = await this.store.get<SentCodeItem>(key);
      if (!current) return 'expired';
      return current.consumedAt !== undefined ? 'used' : 'too_many_attempts';
    }
  }

  /**
   * Checks and consumes the code sent under `o.key` for `userId` (the subject it was sent for):
   * the proof that the browser reads that address or phone, and nothing more. A sign-up uses it
   * before any user exists; `verify` adds the user's enrolled method on top.
   */
  async prove(
    userId: string,
    o: { key: string; code: string; ip?: string },
  ): Promise<VerifyFailed | { ok: true; item: SentCodeItem }> {
    checkKey(o.key);
    const code = normaliseCode(o.code);
    if (code === undefined) return fail('invalid_code');
    const key = sentCodeKey(this.channel.prefix, o.key);
    const item = await this.countAttempt(key);
    if (typeof item === 'string') return refusedGuess(this.guesses, userId, o.ip, item);
    if (item.expiresAt <= this.clock.seconds()) return fail('expired');
    // The code's own attempts first (no code, no guess); then the user's and the address's
    // limits, shared with TOTP, reserved before the comparison.
    const reserved = await this.guesses.reserve(userId, o.ip);
    if (!reserved.ok) return { ok: false, reason: 'locked', retryAfter: reserved.retryAfter };
    if (item.userId !== userId || !constantTimeEqual(codeHash(o.key, code), item.codeHash)) {
      return fail('invalid_code');
    }
    const consumed = await this.store.consume<SentCodeItem>(key);
    if (consumed.status !== 'consumed') return fail(consumed.status === 'replayed' ? 'used' : 'expired');
    await this.guesses.succeeded(reserved.reservation);
    return { ok: true, item };
  }

  async verify(
    userId: string,
    o: { key: string; code: string; enroll?: boolean; ip?: string },
  ): Promise<VerifyResult> {
    const proved = await this.prove(userId, o);
    if (!proved.ok) return proved;
    const { item } = proved;
    const enrolled = (await this.repo.ofType(userId, this.channel.type)).find(
      (a) => this.channel.addressOf(a) === item.to,
    );
    if (enrolled) {
      await this.repo.touch(userId, enrolled.id);
      return { ok: true, authenticatorId: enrolled.id };
    }
    if (!o.enroll) return fail('not_enrolled');
    const created = await this.channel.enroll(userId, item);
    if (created === 'taken') return fail('taken');
    return { ok: true, authenticatorId: created.id };
  }
}
