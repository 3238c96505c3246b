import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256 } from '../crypto/secrets.js';
import { userRevokedAt } from '../oidc/revocations.js';
import { ConditionFailedError, nowSeconds, type WriteOp } from '../store/store.js';
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
  /** The upstream identity provider the user signed in through (the ID token's `idp` claim). */
  idp?: string;
  /** Clients that received tokens in this session (RP-initiated logout ends it for all of them). */
  clients: string[];
  createdAt: string;
  expiresAt: number;
}

/** What a sign-in records of how the user authenticated. */
export type SignInFields = Pick<Session, 'userId' | 'amr' | 'acr' | 'clients' | 'idp'>;

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
 *
 * `rev` changes with every write, and every read-modify-write is conditioned on the `rev` it read
 * (optimistic concurrency): two tabs signing in, or a sign-in racing a token's `addClient`, would
 * otherwise each write back the list they read and one account (or one client, who would then
 * never get a logout token) would be lost. A conflict re-reads and tries again.
 */
interface BrowserRecord {
  accounts: Session[];
  createdAt: string;
  expiresAt: number;
  rev: string;
}
/**
 * Tries of one read-modify-write before the conflict is reported: each loser re-reads after a
 * short random pause, so even 30 writers at once (one browser's tokens for 30 clients) settle.
 */
const WRITE_TRIES = 12;
type StoredRecord = Partial<BrowserRecord> & Partial<Session> & Record<string, unknown>;

/** At most this many accounts per browser; a further sign-in drops the oldest. */
export const MAX_ACCOUNTS = 5;

/**
 * A client that got tokens is added to its own string set on the record (`clients@<sid>`, one
 * atomic `ADD`, no read): tokens for many clients issued at once, in several tabs, all land.
 * Reading merges the set into the account's `clients`.
 */
const clientsAttr = (sid: string) => `clients@${sid}`;

function accountsOf(item: StoredRecord | undefined): Session[] {
  const listed = !item
    ? []
    : Array.isArray(item.accounts)
      ? item.accounts
      : item.userId
        ? [item as Session]
        : [];
  return listed.map((a) => {
    const added = item?.[clientsAttr(a.sid)];
    return added instanceof Set
      ? { ...a, clients: [...new Set([...(a.clients ?? []), ...(added as Set<string>)])] }
      : a;
  });
}

const recordOf = (accounts: Session[], createdAt: string): BrowserRecord => ({
  accounts,
  createdAt,
  // An empty record expires now: DynamoDB TTL skips items whose time is over five years past, so
  // not 0 ("Working with expired items", DynamoDB developer guide).
  expiresAt: accounts.length ? Math.max(...accounts.map((a) => a.expiresAt)) : nowSeconds(),
  rev: randomBytes(9).toString('base64url'),
});

/** Replaces the record read as `read`, only while nobody else has written it since. */
function replaceRecord(hash: string, read: StoredRecord, accounts: Session[]) {
  const record = recordOf(accounts, String(read.createdAt));
  // An item from before revisions has none to compare: it is replaced as before, once.
  const match = typeof read.rev === 'string' ? { rev: read.rev } : undefined;
  return { key: sessionKeyOfHash(hash), set: { ...record }, ...(match ? { match } : {}) };
}

/** `replaceRecord` as a write of its own: one conditional UpdateItem. */
async function rewriteRecord(store: TenantStore, hash: string, read: StoredRecord, accounts: Session[]) {
  const { key, set, match } = replaceRecord(hash, read, accounts);
  await store.update(key, set, match ? { match } : {});
}

/** Runs a read-modify-write again when another writer got in between (see `BrowserRecord`). */
async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ConditionFailedError) || i >= WRITE_TRIES) throw err;
      await sleep(Math.random() * Math.min(2 ** i, 64));
    }
  }
}

function account(fields: SignInFields, now: number): Session {
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
  fields: SignInFields,
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
 * A sign-in on this browser, written: added to the browser's session when it has one (same
 * cookie), else a new one. The user's earlier account on this browser is replaced; past
 * `MAX_ACCOUNTS` the oldest account is dropped. Returns the accounts that were replaced or
 * dropped, so their relying parties can be told (Back-Channel Logout 1.0 §2.5).
 */
export async function signIn(
  store: TenantStore,
  cookies: Record<string, string>,
  fields: SignInFields,
  now = Date.now(),
): Promise<{ cookieValue: string; session: Session; dropped: EndedSession[] }> {
  return retryOnConflict(async () => {
    const value = cookies[SESSION_COOKIE];
    const item = value && COOKIE_PATTERN.test(value) ? await readRecord(store, sha256(value)) : undefined;
    if (!value || !item) {
      const { writes, ...fresh } = newSession(fields, now);
      await store.transact(writes);
      return { ...fresh, dropped: [] };
    }
    const hash = sha256(value);
    const session = account(fields, now);
    const live = accountsOf(item).filter((a) => a.expiresAt > nowSeconds(now));
    const kept = [...live.filter((a) => a.userId !== session.userId), session];
    const gone = [
      ...live.filter((a) => a.userId === session.userId),
      ...kept.splice(0, Math.max(0, kept.length - MAX_ACCOUNTS)),
    ];
    const stillListed = new Set(kept.map((a) => a.userId));
    await store.transact([
      { update: replaceRecord(hash, item, kept) },
      { put: { key: userSessionKey(session.userId, hash), item: { expiresAt: session.expiresAt } } },
      ...[...new Set(gone.map((a) => a.userId))]
        .filter((u) => !stillListed.has(u))
        .map((u): WriteOp => ({ delete: { key: userSessionKey(u, hash) } })),
    ]);
    return { cookieValue: value, session, dropped: gone.map(ended) };
  });
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

/** Remembers that a client got tokens in this account's session (one atomic write, no read). */
export async function addClient(
  store: TenantStore,
  cookies: Record<string, string>,
  session: Session,
  clientId: string,
): Promise<void> {
  if (session.clients.includes(clientId)) return;
  try {
    await store.addToSet(sessionKeyOfHash(sha256(cookies[SESSION_COOKIE]!)), clientsAttr(session.sid), [
      clientId,
    ]);
  } catch (err) {
    // The session ended in between: there is nobody left to tell at logout.
    if (!(err instanceof ConditionFailedError)) throw err;
  }
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
  const { gone, kept } = await retryOnConflict(async () => {
    const item = await readRecord(store, hash);
    const all = accountsOf(item);
    const gone = sid === undefined ? all : all.filter((a) => a.sid === sid);
    const kept = all.filter((a) => !gone.includes(a));
    // With no account left the record is written empty (expired, for TTL to remove) rather than
    // deleted, so the write stays conditional: a sign-in that got in between is not erased.
    if (item) await rewriteRecord(store, hash, item, kept);
    return { gone, kept };
  });
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
        const all = await retryOnConflict(async () => {
          const item = await readRecord(store, hash);
          const all = accountsOf(item);
          const kept = all.filter((a) => a.userId !== userId);
          if (item) await rewriteRecord(store, hash, item, kept);
          return all;
        });
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
