import { firstTime } from '../audit/once.js';
import { recordAudit } from '../audit/record.js';
import { config } from '../config.js';
import { ProtocolError, tooManyRequests } from '../errors.js';
import { ConditionFailedError, nowSeconds, type Item, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { ReadCache } from '../read-cache.js';

/**
 * Limits on FAILED authentication against one tenant: the tenant secret (Basic on `/init-auth`,
 * `/get-user`, `/v1/*`), client secrets and client assertions. Secrets are 256-bit random values,
 * so guessing one is hopeless anyway; these limits cap the work an attacker can make us do and
 * keep a flood of bad credentials from looking like traffic worth serving.
 *
 * Only failures are counted: a successful call never writes and never uses up anything, because
 * Azure AD B2C calls from shared Microsoft addresses and its successful calls must never be slowed
 * by each other. Counters are fixed windows in the table (one item per subject and window, with
 * TTL); a source is judged on the current and the previous window together, so a burst that
 * straddles a window boundary is still seen whole.
 */

/** The counting window. */
export const AUTH_FAILURE_WINDOW_SECONDS = 60;
/**
 * Failures one source IP may have against one tenant in the current plus the previous window
 * before it gets 429. 20 is far above what a misconfigured integration produces before someone
 * notices (each of its calls fails once) and far below any useful guessing rate.
 */
export const MAX_AUTH_FAILURES_PER_IP = 20;
/**
 * Failures one tenant may see from all sources together before every source that has itself
 * failed in the window gets 429: a distributed guesser is slowed to one failure per IP per window.
 * Sources with no failure of their own still get through, so a flood of bad secrets cannot lock
 * the tenant's working integrations (B2C) out. 200 = ten misbehaving IPs at the per-IP limit.
 */
export const MAX_AUTH_FAILURES_PER_TENANT = 200;

const pkOf = (subject: string) => `auth-failures#${subject}`;
const failureKey = (subject: string, window: number): Key => ({ pk: pkOf(subject), sk: String(window) });
const ipSubject = (sourceIp: string) => `ip#${sourceIp.slice(0, 64)}`;
const TENANT_SUBJECT = 'tenant';

interface Counter extends Item {
  count?: number;
}

interface Recent {
  current: number;
  total: number;
}

/**
 * The failures of the current and the previous window of each subject, read in one round trip
 * (one item per subject and window, so the four counters are one `batchGet`).
 */
async function recent(store: TenantStore, subjects: readonly string[], window: number): Promise<Recent[]> {
  const items = await store.batchGet<Counter>(
    subjects.flatMap((s) => [failureKey(s, window), failureKey(s, window - 1)]),
  );
  return subjects.map((_, i) => {
    const current = items[2 * i]?.count ?? 0;
    return { current, total: current + (items[2 * i + 1]?.count ?? 0) };
  });
}

/**
 * Counters this container has read lately, so that sources that do not fail (B2C, a machine
 * client) cost no read per request. Any failure counted here drops the copies it changed, so a
 * failing source is judged on fresh counters every time; what this allows is failures counted by
 * OTHER containers to be seen here late: for this long, then up to as long again while one read
 * refreshes the copy in the background (no request waits for it). Bounded, oldest first out.
 */
export const AUTH_FAILURE_CACHE_MS = 1_000;
const cached = new ReadCache<Recent[]>();

// Tenant ids, window numbers and source addresses hold no `#`: the key cannot be read two ways.
const cacheKey = (tenantId: string, window: number, subjects: readonly string[]) =>
  `${tenantId}#${window}#${subjects.join('#')}`;

function recentCached(
  store: TenantStore,
  subjects: readonly string[],
  window: number,
  cacheMs: number,
): Promise<Recent[]> {
  // Up to one more lifetime stale while one read refreshes it: no request waits for that read.
  return cached.get(
    cacheKey(store.tenantId, window, subjects),
    cacheMs,
    () => recent(store, subjects, window),
    cacheMs,
  );
}

/** Drops this container's copies of a tenant's counters for a source (after it failed). */
function forgetCounts(tenantId: string, window: number, subjects: readonly string[]): void {
  cached.forget(cacheKey(tenantId, window, subjects));
}

/** Whether an error means "these credentials did not authenticate" (and so counts as a failure). */
export const isAuthenticationFailure = (err: unknown): boolean =>
  err instanceof ProtocolError && err.status === 401;

/**
 * Runs one authentication for a request from `sourceIp`. Before anything is compared, a source
 * over its limit gets 429 — even with the right secret: answering a right guess differently from a
 * wrong one while blocked would let the guessing go on at full speed. Afterwards a failure (a 401
 * from `authenticate`) is counted; a success is not.
 */
export async function limitAuthenticationFailures<T>(
  store: TenantStore,
  sourceIp: string,
  authenticate: () => T | Promise<T>,
  now = Date.now(),
  // Off where the other caches are off (TENANT_CACHE_SECONDS=0, as in tests).
  cacheMs = config().tenantCacheSeconds > 0 ? AUTH_FAILURE_CACHE_MS : 0,
): Promise<T> {
  const seconds = nowSeconds(now);
  const window = Math.floor(seconds / AUTH_FAILURE_WINDOW_SECONDS);
  const ip = ipSubject(sourceIp);
  const subjects = [ip, TENANT_SUBJECT];
  const [fromIp, tenant] = (await recentCached(store, subjects, window, cacheMs)) as [Recent, Recent];
  const ipBlocked = fromIp.total >= MAX_AUTH_FAILURES_PER_IP;
  if (ipBlocked || (tenant.total >= MAX_AUTH_FAILURES_PER_TENANT && fromIp.total > 0)) {
    const [counts, max] = ipBlocked
      ? [fromIp, MAX_AUTH_FAILURES_PER_IP]
      : [tenant, MAX_AUTH_FAILURES_PER_TENANT];
    // While the current window alone holds the limit, the next window still sees it as "previous".
    const until = (counts.current >= max ? window + 2 : window + 1) * AUTH_FAILURE_WINDOW_SECONDS;
    if (firstTime(`${store.tenantId}#auth#${ipBlocked ? ip : TENANT_SUBJECT}#${until}`, until * 1000))
      await recordAudit(
        store,
        { type: 'lockout.client_auth', detail: { retryAfter: until - seconds } },
        { actor: { kind: 'client' }, sourceIp },
      );
    throw tooManyRequests(until - seconds, 'too many failed authentications: try again later');
  }
  try {
    return await authenticate();
  } catch (err) {
    if (isAuthenticationFailure(err)) {
      try {
        await recordFailure(store, ip, window, tenant.total < MAX_AUTH_FAILURES_PER_TENANT);
      } finally {
        // After the write: a read racing it may have kept the counts from before.
        forgetCounts(store.tenantId, window, subjects);
      }
    }
    throw err;
  }
}

async function recordFailure(
  store: TenantStore,
  ip: string,
  window: number,
  countTenant: boolean,
): Promise<void> {
  // Kept through the next window, where it is read as the previous one.
  const create = { expiresAt: (window + 2) * AUTH_FAILURE_WINDOW_SECONDS };
  const tenantCount = countTenant
    ? store
        .increment(failureKey(TENANT_SUBJECT, window), 'count', {
          create,
          // Past the ceiling more counting changes nothing: no hot writes under a flood.
          below: MAX_AUTH_FAILURES_PER_TENANT,
        })
        .catch((err: unknown) => {
          if (!(err instanceof ConditionFailedError)) throw err;
        })
    : undefined;
  await Promise.all([store.increment(failureKey(ip, window), 'count', { create }), tenantCount]);
}
