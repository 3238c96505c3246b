import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';

/** A fixed-window limit: at most `max` units per `windowSeconds`. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/*
 * One counter per scope, subject and window (the tenant prefix is added by the TenantStore); it
 * expires with its window, so old windows clean themselves up.
 */
export const rateKey = (scope: string, subject: string, window: number): Key => ({
  pk: `rate#${scope}#${subject}`,
  sk: String(window),
});

/**
 * Takes one unit of a fixed-window limit, counted atomically in the table so concurrent requests
 * cannot share a unit. Returns undefined when taken, or the seconds until the window ends when the
 * limit is used up.
 */
export async function takeRateLimit(
  store: TenantStore,
  scope: string,
  subject: string,
  limit: RateLimit,
  nowSeconds: number,
): Promise<number | undefined> {
  const window = Math.floor(nowSeconds / limit.windowSeconds);
  const end = (window + 1) * limit.windowSeconds;
  try {
    await store.increment(rateKey(scope, subject, window), 'count', {
      below: limit.max,
      create: { expiresAt: end },
    });
    return undefined;
  } catch (err) {
    if (err instanceof ConditionFailedError) return Math.max(1, end - nowSeconds);
    throw err;
  }
}
