import { randomBytes } from 'node:crypto';
import { sha256 } from '../crypto/secrets.js';
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
 * TenantStore): the cookie is the only way to find it, and the table never holds the cookie itself. */
const sessionKey = (cookieValue: string) => ({ pk: `session#${sha256(cookieValue)}`, sk: 'session' });

/** The session cookie (`__Host-idp_session` on https; see `cookies.ts`). */
export function sessionCookie(value: string, secure: boolean, maxAge = SESSION_TTL_SECONDS): string {
  return setCookie(SESSION_COOKIE, value, { secure, path: '/', maxAge });
}

export function newSession(
  fields: { userId: string; amr: string[]; acr: string; clients: string[] },
  now = Date.now(),
): { cookieValue: string; session: Session; write: WriteOp } {
  const cookieValue = randomBytes(32).toString('base64url');
  const session: Session = {
    ...fields,
    sid: randomBytes(16).toString('base64url'),
    authTime: Math.floor(now / 1000),
    createdAt: new Date(now).toISOString(),
    expiresAt: nowSeconds(now) + SESSION_TTL_SECONDS,
  };
  return { cookieValue, session, write: { put: { key: sessionKey(cookieValue), item: { ...session } } } };
}

export async function loadSession(
  store: TenantStore,
  cookies: Record<string, string>,
): Promise<Session | undefined> {
  const value = cookies[SESSION_COOKIE];
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined;
  return store.get<Session & Record<string, unknown>>(sessionKey(value));
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

export async function endSession(store: TenantStore, cookies: Record<string, string>): Promise<void> {
  const value = cookies[SESSION_COOKIE];
  if (value && /^[A-Za-z0-9_-]{43}$/.test(value)) await store.delete(sessionKey(value));
}
