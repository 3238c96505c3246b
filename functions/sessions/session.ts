import { randomBytes } from 'node:crypto';
import { sha256 } from '../crypto/secrets.js';
import { userRevokedAt } from '../oidc/revocations.js';
import { nowSeconds, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { setCookie } from './cookies.js';

/**
 * The provider's login session (single sign-on across the tenant's clients). The browser holds a
 * random cookie; the store keeps only its hash. Up to `MAX_ACCOUNTS` accounts of the tenant may be
 * signed in under that one cookie, each a `Session` with its own authentication and its own `sid`:
 * the public id put in ID tokens (Back-Channel Logout 1.0 §2.1) and used to end that account.
 */
export interface Session {
  sid: string;
  userId: string;
  /** When the user last actively authenticated (OIDC Core §2 `auth_time`). */
  authTime: number;
  /** RFC 8176 methods used. */
  amr: string[];
  acr: string;
  /** Clients that received tokens in this session (RP-initiated logout ends it for all of them). */
  clients: string[];
  createdAt: string;
  expiresAt: number;
}

/** The bare name; callers read it from `schemeCookies` (the `__Host-` one on https). */
export const SESSION_COOKIE = 'idp_session';
/** A session lasts at most this long; `max_age` and `prompt=login` ask for fresher authentication. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;

/* One item per session, keyed by the hash of its cookie (the tenant prefix is added by the
 * TenantStore): the browser finds it by its cookie, and the table never holds the cookie itself. */
const sessionKeyOfHash = (hash: string) => ({ pk: `session#${hash}`, sk: 'session' });
/* And one index item per session in the user's sessions partition (sort key = the cookie's hash),
 * so that deleting the user can find and end every session they have. */
const userSessionsPk = (userId: string) => `sessions-of#${userId}`;
const userSessionKey = (userId: string, hash: string) => ({
  pk: userSessionsPk(userId),
  sk: `session#${hash}`,
});
const COOKIE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Deletes in flight at once when ending a user's sessions: DynamoDB's batch size, gentle on capacity. */
const DELETE_BATCH = 25;

/** The session cookie (`__Host-idp_session` on https; see `cookies.ts`). */
export function sessionCookie(value: string, secure: boolean, maxAge = SESSION_TTL_SECONDS): string {
  return setCookie(SESSION_COOKIE, value, { secure, path: '/', maxAge });
}

/**
 * What the cookie's item holds: the accounts signed in on this browser, oldest first (the last one
 * is the current account). An item written before several accounts were kept is one `Session`.
 */
interface BrowserRecord {
  accounts: Session[];
  createdAt: string;
  expiresAt: number;
}
type StoredRecord = Partial<BrowserRecord> & Partial<Session> & Record<string, unknown>;

/** At most this many accounts per browser; a further sign-in drops the oldest. */
export const MAX_ACCOUNTS = 5;

const accountsOf = (item: StoredRecord | undefined): Session[] =>
  !item ? [] : Array.isArray(item.accounts) ? item.accounts : item.userId ? [item as Session] : [];

const recordOf = (accounts: Session[], createdAt: string): BrowserRecord => ({
  accounts,
  createdAt,
  expiresAt: Math.max(0, ...accounts.map((a) => a.expiresAt)),
});

function account(
  fields: { userId: string; amr: string[]; acr: string; clients: string[] },
  now: number,
): Session {
  return {
    ...fields,
    sid: randomBytes(16).toString('base64url'),
    authTime: Math.floor(now / 1000),
    createdAt: new Date(now).toISOString(),
    expiresAt: nowSeconds(now) + SESSION_TTL_SECONDS,
  };
}

/** A new browser session with one account (and a new cookie). */
export function newSession(
  fields: { userId: string; amr: string[]; acr: string; clients: string[] },
  now = Date.now(),
): { cookieValue: string; session: Session; writes: WriteOp[] } {
  const cookieValue = randomBytes(32).toString('base64url');
  const session = account(fields, now);
  const hash = sha256(cookieValue);
  return {
    cookieValue,
    session,
    // Written together (one transaction), so no session exists that its user's index does not list.
    writes: [
      { put: { key: sessionKeyOfHash(hash), item: { ...recordOf([session], session.createdAt) } } },
      { put: { key: userSessionKey(session.userId, hash), item: { expiresAt: session.expiresAt } } },
    ],
  };
}

/**
 * A sign-in on this browser: added to the browser's session when it has one (same cookie), else
 * a new one. The user's earlier account on this browser is replaced; past `MAX_ACCOUNTS` the
 * oldest account is dropped. Returns the accounts that were replaced or dropped, so their relying
 * parties can be told (Back-Channel Logout 1.0 §2.5).
 */
export async function signIn(
  store: TenantStore,
  cookies: Record<string, string>,
  fields: { userId: string; amr: string[]; acr: string; clients: string[] },
  now = Date.now(),
): Promise<{ cookieValue: string; session: Session; writes: WriteOp[]; dropped: EndedSession[] }> {
  const value = cookies[SESSION_COOKIE];
  const item = value && COOKIE_PATTERN.test(value) ? await readRecord(store, sha256(value)) : undefined;
  if (!value || !item) return { ...newSession(fields, now), dropped: [] };
  const hash = sha256(value);
  const session = account(fields, now);
  const live = accountsOf(item).filter((a) => a.expiresAt > nowSeconds(now));
  const kept = [...live.filter((a) => a.userId !== session.userId), session];
  const gone = [
    ...live.filter((a) => a.userId === session.userId),
    ...kept.splice(0, Math.max(0, kept.length - MAX_ACCOUNTS)),
  ];
  const stillListed = new Set(kept.map((a) => a.userId));
  const writes: WriteOp[] = [
    { put: { key: sessionKeyOfHash(hash), item: { ...recordOf(kept, String(item.createdAt)) } } },
    { put: { key: userSessionKey(session.userId, hash), item: { expiresAt: session.expiresAt } } },
    ...[...new Set(gone.map((a) => a.userId))]
      .filter((u) => !stillListed.has(u))
      .map((u): WriteOp => ({ delete: { key: userSessionKey(u, hash) } })),
  ];
  return { cookieValue: value, session, writes, dropped: gone.map(ended) };
}

const readRecord = (store: TenantStore, hash: string) =>
  store.get<StoredRecord & { createdAt: string }>(sessionKeyOfHash(hash));

/** A session begun before its user was deleted is dead, even one a concurrent deletion did not find. */
async function alive(store: TenantStore, session: Session, now: number): Promise<boolean> {
  if (session.expiresAt <= nowSeconds(now)) return false;
  const deletedAt = await userRevokedAt(store, session.userId);
  return deletedAt === undefined || nowSeconds(Date.parse(session.createdAt)) > deletedAt;
}

/** Every live account signed in on this browser, oldest first (the last is the current one). */
export async function loadAccounts(
  store: TenantStore,
  cookies: Record<string, string>,
  now = Date.now(),
): Promise<Session[]> {
  const value = cookies[SESSION_COOKIE];
  if (!value || !COOKIE_PATTERN.test(value)) return [];
  const all = accountsOf(await readRecord(store, sha256(value)));
  const live = await Promise.all(all.map((a) => alive(store, a, now)));
  return all.filter((_, i) => live[i]);
}

/** The browser's current account (the one signed in last), or the account with this `sid`. */
export async function loadSession(
  store: TenantStore,
  cookies: Record<string, string>,
  sid?: string,
): Promise<Session | undefined> {
  const accounts = await loadAccounts(store, cookies);
  return sid === undefined ? accounts.at(-1) : accounts.find((a) => a.sid === sid);
}

/** Remembers that a client got tokens in this account's session. */
export async function addClient(
  store: TenantStore,
  cookies: Record<string, string>,
  session: Session,
  clientId: string,
): Promise<void> {
  if (session.clients.includes(clientId)) return;
  const hash = sha256(cookies[SESSION_COOKIE]!);
  const item = await readRecord(store, hash);
  if (!item) return;
  const accounts = accountsOf(item).map((a) =>
    a.sid === session.sid ? { ...a, clients: [...(a.clients ?? []), clientId] } : a,
  );
  await store.update(sessionKeyOfHash(hash), { ...recordOf(accounts, String(item.createdAt)) });
}

/** What logout needs to know of a session that ended: whom to tell (Back-Channel Logout §2.5). */
export type EndedSession = Pick<Session, 'sid' | 'userId' | 'clients'>;

const ended = (s: Session): EndedSession => ({ sid: s.sid, userId: s.userId, clients: s.clients ?? [] });

/**
 * Ends one account of the browser's session (the one with this `sid`), or every account without
 * one; returns what ended, so the clients that got tokens in it can be told, and whether accounts
 * remain (then the cookie stays).
 */
export async function endSession(
  store: TenantStore,
  cookies: Record<string, string>,
  sid?: string,
): Promise<{ ended: EndedSession[]; remaining: number }> {
  const value = cookies[SESSION_COOKIE];
  if (!value || !COOKIE_PATTERN.test(value)) return { ended: [], remaining: 0 };
  const hash = sha256(value);
  const item = await readRecord(store, hash);
  const all = accountsOf(item);
  const gone = sid === undefined ? all : all.filter((a) => a.sid === sid);
  const kept = all.filter((a) => !gone.includes(a));
  if (kept.length && item) await store.put(sessionKeyOfHash(hash), { ...recordOf(kept, item.createdAt) });
  else await store.delete(sessionKeyOfHash(hash));
  const stillListed = new Set(kept.map((a) => a.userId));
  for (const userId of new Set(gone.map((a) => a.userId)))
    if (!stillListed.has(userId)) await store.delete(userSessionKey(userId, hash));
  return { ended: gone.filter((a) => a.expiresAt > nowSeconds()).map(ended), remaining: kept.length };
}

/** Ends every session of a user (the user is being deleted); returns the sessions that ended. */
export async function endUserSessions(store: TenantStore, userId: string): Promise<EndedSession[]> {
  const index = await store.query<{ sk: string } & Record<string, unknown>>(
    userSessionsPk(userId),
    'session#',
  );
  const out: EndedSession[] = [];
  for (let i = 0; i < index.length; i += DELETE_BATCH) {
    await Promise.all(
      index.slice(i, i + DELETE_BATCH).map(async ({ sk }) => {
        const hash = sk.slice('session#'.length);
        const item = await readRecord(store, hash);
        const all = accountsOf(item);
        const kept = all.filter((a) => a.userId !== userId);
        if (kept.length && item)
          await store.put(sessionKeyOfHash(hash), { ...recordOf(kept, item.createdAt) });
        else await store.delete(sessionKeyOfHash(hash));
        await store.delete(userSessionKey(userId, hash));
        // Expired sessions are still listed until TTL removes them; their clients were told nothing
        // then, and a relying party's session cannot outlive ours, so only live ones are reported.
        for (const session of all)
          if (session.userId === userId && session.expiresAt > nowSeconds()) out.push(ended(session));
      }),
    );
  }
  return out;
}
