import { ConditionFailedError, nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';

/**
 * Wrong user-code guesses per IP address at the device verification page (RFC 8628 §5.1: user
 * codes are short, so guessing must be limited). One counter per address, in a window that starts
 * at its first wrong guess and expires with it (the tenant prefix is added by the TenantStore).
 */
export const GUESS_LIMIT = { max: 10, windowSeconds: 900 };

export const guessKey = (ip: string) => ({ pk: `device-guess#${ip}`, sk: 'guesses' });

/** Whether this address has wrong guesses left in its current window. */
export async function guessesLeft(store: TenantStore, ip: string): Promise<boolean> {
  const item = await store.get<{ count?: number }>(guessKey(ip));
  return (item?.count ?? 0) < GUESS_LIMIT.max;
}

/** Counts a wrong guess atomically; false when the limit is reached. */
export async function countWrongGuess(store: TenantStore, ip: string, now = Date.now()): Promise<boolean> {
  try {
    await store.increment(guessKey(ip), 'count', {
      below: GUESS_LIMIT.max,
      create: { expiresAt: nowSeconds(now) + GUESS_LIMIT.windowSeconds },
    });
    return true;
  } catch (err) {
    if (err instanceof ConditionFailedError) return false;
    throw err;
  }
}
