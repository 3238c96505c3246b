import { randomBytes } from 'node:crypto';
import { sha256 } from '../crypto/secrets.js';
import { userRevokedAt } from '../oidc/revocations.js';
import { nowSeconds, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { setCookie } from './cookies.js';

/**
 * The provider's login session (single sign-on across the tenant's clients). The browser holds a
 * random cookie; the store keeps only its hash. `sid` is the session's public id, put in ID tokens
 * (OIDC Front-Channel Logout §3) and used to end it.
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
const sessionKey = (cookieValue: string) => sessionKeyOfHash(sha256(cookieValue));
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

export function newSession(
  fields: { userId: string; amr: string[]; acr: string; clients: string[] },
  now = Date.now(),
): { cookieValue: string; session: Session; writes: WriteOp[] } {
  const cookieValue = randomBytes(32).toString('base64url');
  const session: Session = {
    ...fields,
    sid: randomBytes(16).toString('base64url'),
    authTime: Math.floor(now / 1000),
    createdAt: new Date(now).toISOString(),
    expiresAt: nowSeconds(now) + SESSION_TTL_SECONDS,
  };
  const hash = sha256(cookieValue);
  return {
    cookieValue,
    session,
    // Written together (one transaction), so no session exists that its user's index does not list.
    writes: [
      { put: { key: sessionKeyOfHash(hash), item: { ...session } } },
      { put: { key: userSessionKey(session.userId, hash), item: { expiresAt: session.expiresAt } } },
    ],
  };
}

export async function loadSession(
  store: TenantStore,
  cookies: Record<string, string>,
): Promise<Session | undefined> {
  const value = cookies[SESSION_COOKIE];
  if (!value || !COOKIE_PATTERN.test(value)) return undefined;
  const session = await store.get<Session & Record<string, unknown>>(sessionKey(value));
  if (!session) return undefined;
  // A session begun before its user was deleted is dead, even one no index lists (stored before
  // sessions were indexed by user) or one a deletion running concurrently did not find.
  const deletedAt = await userRevokedAt(store, session.userId);
  return deletedAt !== undefined && nowSeconds(Date.parse(session.createdAt)) <= deletedAt
    ? undefined
    : session;
}

/** Remembers that a client got tokens in this session. */
export async function addClient(
  store: TenantStore,
  cookies: Record<string, string>,
  session: Session,
  clientId: string,
): Promise<void> {
  if (session.clients.includes(clientId)) return;
  const value = cookies[SESSION_COOKIE]!;
  await store.update(sessionKey(value), { clients: [...session.clients, clientId] });
}

/** What logout needs to know of a session that ended: whom to tell (Back-Channel Logout §2.5). */
export type EndedSession = Pick<Session, 'sid' | 'userId' | 'clients'>;

const ended = (s: Session): EndedSession => ({ sid: s.sid, userId: s.userId, clients: s.clients ?? [] });

/** Ends the browser's session; returns it, so the clients that got tokens in it can be told. */
export async function endSession(
  store: TenantStore,
  cookies: Record<string, string>,
): Promise<EndedSession | undefined> {
  const value = cookies[SESSION_COOKIE];
  if (!value || !COOKIE_PATTERN.test(value)) return undefined;
  const hash = sha256(value);
  const session = await store.get<Session & Record<string, unknown>>(sessionKeyOfHash(hash));
  await store.delete(sessionKeyOfHash(hash));
  if (!session) return undefined;
  await store.delete(userSessionKey(session.userId, hash));
  return ended(session);
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
        const session = await store.get<Session & Record<string, unknown>>(sessionKeyOfHash(hash));
        await store.delete(sessionKeyOfHash(hash));
        await store.delete(userSessionKey(userId, hash));
        // Expired sessions are still listed until TTL removes them; their clients were told nothing
        // then, and a relying party's session cannot outlive ours, so only live ones are reported.
        if (session && session.expiresAt > nowSeconds()) out.push(ended(session));
      }),
    );
  }
  return out;
}
