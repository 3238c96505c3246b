import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { rateKey, type RateLimit } from './rate-limit.js';
import type { Clock } from './repository.js';
import type { VerifyFailed, VerifyFailure } from './types.js';

/**
 * Online guessing of authentication codes (TOTP, emailed codes, and any later code method). A
 * 6-digit code has 10^6 values and TOTP accepts 3 of them at a time (RFC 6238 §5.2 window), so
 * what protects it is how many guesses can ever be compared (RFC 4226 §7.3 asks for a throttling
 * scheme, RFC 6238 §5.2 for the same). Two counters are reserved BEFORE a code is compared, so
 * however many requests race, no more guesses are compared than the counters allow:
 *
 * - per user (across interactions, methods and source addresses): after USER_GUESS_LIMITS.free
 *   consecutive failures every further guess waits for an exponential back-off, during which no
 *   code is compared, the right one included. A success forgets the failures.
 * - per source address (per tenant, since the TenantStore prefixes the key): a fixed window on
 *   failed verifications, so one address cannot spray the free guesses of many users.
 */
export const USER_GUESS_LIMITS = {
  /**
   * Consecutive failures compared without delay: enough for a person who mistypes or whose phone
   * clock drifts, far too few to matter against 10^6 codes (10 guesses: 3·10/10^6 ≈ 0.003 %).
   */
  free: 10,
  /** The first back-off, doubled with each further failure (1, 2, 4 … minutes). */
  firstBackoffSeconds: 60,
  /**
   * The longest back-off: a locked-out user waits at most an hour. With 10 free guesses and then
   * 1, 2, 4, 8, 16, 32 minutes, at most 15 guesses fit in any hour (10 + 5), and 1 an hour after
   * that: under the budget of 30 wrong guesses per user per hour.
   */
  maxBackoffSeconds: 60 * 60,
  /** A user's failures are forgotten a day after the last back-off ends without another guess. */
  forgetAfterSeconds: 24 * 60 * 60,
  /**
   * Optimistic writes of the user's counter tried before a racing request is refused: each round
   * has a winner, but a success writes the counter again (the failures are forgotten), so a few
   * more rounds than racers, each after a short random pause.
   */
  tries: 10,
} as const;

/**
 * Failed verifications per source address per tenant: 50 in 10 minutes. An office behind one
 * NAT address mistypes far fewer codes than that; an attacker spraying users from one address
 * gets 300 guesses an hour at most, and each user's own limit still holds. Successes do not count.
 */
export const IP_GUESS_LIMIT: RateLimit = { max: 50, windowSeconds: 10 * 60 };

/** A user's consecutive failures (the tenant prefix is added by the TenantStore). */
export const userGuessKey = (userId: string): Key => ({ pk: `guesses#user#${userId}`, sk: 'state' });

interface GuessState {
  /** Consecutive guesses reserved since the last success (each counts as failed until it succeeds). */
  failures: number;
  /** Epoch seconds before which no code of this user is compared. */
  lockedUntil: number;
  /** Changed by every write: the optimistic-concurrency check of the next one. */
  version: string;
  expiresAt: number;
  [k: string]: unknown;
}

/** The back-off that the n-th consecutive failure starts (0 while guesses are free). */
export function backoffSeconds(failures: number): number {
  if (failures < USER_GUESS_LIMITS.free) return 0;
  const doubled = USER_GUESS_LIMITS.firstBackoffSeconds * 2 ** (failures - USER_GUESS_LIMITS.free);
  return Math.min(doubled, USER_GUESS_LIMITS.maxBackoffSeconds);
}

/** A reserved guess: what to give back when the code turns out right. */
export interface Reservation {
  userId: string;
  ipKey?: Key;
}

/** Either the guess may be compared, or the seconds to wait. */
export type ReserveResult = { ok: true; reservation: Reservation } | { ok: false; retryAfter: number };

export class GuessLimits {
  constructor(
    private readonly store: TenantStore,
    private readonly clock: Clock,
  ) {}

  /** Reserves one guess for this user from this address; nothing is compared without one. */
  async reserve(userId: string, ip: string | undefined): Promise<ReserveResult> {
    const ipTaken = ip === undefined ? { ok: true as const, key: undefined } : await this.takeIp(ip);
    if (!ipTaken.ok) return ipTaken;
    const retryAfter = await this.takeUser(userId);
    if (retryAfter !== undefined) {
      if (ipTaken.key) await this.giveBack(ipTaken.key);
      return { ok: false, retryAfter };
    }
    return { ok: true, reservation: { userId, ...(ipTaken.key ? { ipKey: ipTaken.key } : {}) } };
  }

  /** The code was right: the user's failures are forgotten and the address's unit given back. */
  async succeeded(reservation: Reservation): Promise<void> {
    await this.store.delete(userGuessKey(reservation.userId));
    if (reservation.ipKey) await this.giveBack(reservation.ipKey);
  }

  private async takeIp(ip: string): Promise<{ ok: true; key: Key } | { ok: false; retryAfter: number }> {
    const now = this.clock.seconds();
    const window = Math.floor(now / IP_GUESS_LIMIT.windowSeconds);
    const end = (window + 1) * IP_GUESS_LIMIT.windowSeconds;
    const key = rateKey('guess-ip', ip || 'unknown', window);
    try {
      await this.store.increment(key, 'count', { below: IP_GUESS_LIMIT.max, create: { expiresAt: end } });
      return { ok: true, key };
    } catch (err) {
      if (err instanceof ConditionFailedError) return { ok: false, retryAfter: Math.max(1, end - now) };
      throw err;
    }
  }

  private async giveBack(key: Key): Promise<void> {
    try {
      await this.store.increment(key, 'count', { by: -1 });
    } catch (err) {
      // The window ended in the meantime: nothing to give back.
      if (!(err instanceof ConditionFailedError)) throw err;
    }
  }

  /**
   * Compare-and-swap on the user's counter: read it, refuse while locked, else write the next
   * state on condition that nobody wrote in between. Of any number of racing requests each write
   * wins for exactly one, so they are counted one by one as if they came in turn; a request that
   * keeps losing is refused (it is one of a burst that a person never sends).
   */
  private async takeUser(userId: string): Promise<number | undefined> {
    const key = userGuessKey(userId);
    let wait = 1;
    for (let i = 0; i < USER_GUESS_LIMITS.tries; i++) {
      const current = await this.store.get<GuessState>(key);
      const now = this.clock.seconds();
      if (current && current.lockedUntil > now) return current.lockedUntil - now;
      const failures = (current?.failures ?? 0) + 1;
      const backoff = backoffSeconds(failures);
      const next: GuessState = {
        failures,
        lockedUntil: backoff ? now + backoff : 0,
        version: randomUUID(),
        expiresAt: now + backoff + USER_GUESS_LIMITS.forgetAfterSeconds,
      };
      try {
        // One conditional UpdateItem, not a transaction: of racing writers one always wins a round
        // (two transactions on one item can both be cancelled), so N racers settle in N rounds.
        if (current) await this.store.update(key, next, { match: { version: current.version } });
        else await this.store.put(key, next, { ifAbsent: true });
        return undefined;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        wait = Math.max(wait, backoff);
        await sleep(Math.random() * Math.min(2 ** i, 32));
      }
    }
    return wait;
  }
}

/**
 * A guess that cannot succeed (no such method, no live code, an identifier that matches nobody)
 * is still reserved and counted like a wrong code: otherwise the lock-out itself would tell an
 * attacker which accounts and methods exist (a real one locks after USER_GUESS_LIMITS.free
 * failures, a missing one never would).
 */
export async function refusedGuess(
  guesses: GuessLimits,
  subject: string,
  ip: string | undefined,
  reason: VerifyFailure,
): Promise<VerifyFailed> {
  const reserved = await guesses.reserve(subject, ip);
  if (!reserved.ok) return { ok: false, reason: 'locked', retryAfter: reserved.retryAfter };
  return { ok: false, reason };
}
