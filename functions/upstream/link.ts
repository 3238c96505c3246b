import { randomUUID } from 'node:crypto';
import { sha256 } from '../crypto/secrets.js';
import { ConditionFailedError } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { findUserByLogin, LoginTakenError, ProfileRepository } from '../users/profile-repository.js';
import type { UpstreamIdentity } from './flow.js';
import type { StoredProvider } from './provider.js';

/**
 * The local user behind an upstream account: one link item per (provider, upstream `sub`) — OIDC
 * Core §2 makes `sub` unique and never reassigned within an issuer, and the email is neither —
 * created with a conditional put, so of any number of concurrent first sign-ins exactly one
 * creates the link (and the user) and the others take the user it names.
 *
 * Linking to an existing account by email is the provider's opt-in (`linkByEmail`) and needs the
 * upstream's `email_verified: true` (OIDC Core §5.1: otherwise the address proves nothing).
 * Without it a new user is made, and an address another user holds as login identifier is not
 * given to the new user, so nobody's account is taken over through an upstream that lets anyone
 * claim any address.
 */
const linkKey = (providerId: string, sub: string) => ({
  pk: `upstream-link#${providerId}#${sha256(sub)}`,
  sk: 'link',
});

interface LinkItem {
  userId: string;
  provider: string;
  sub: string;
  createdAt: string;
}

export interface LinkedUser {
  userId: string;
  /** Set when this sign-in made the link. */
  linked?: 'new_user' | 'email';
}

export async function linkedUser(
  store: TenantStore,
  provider: StoredProvider,
  identity: UpstreamIdentity,
  now = Date.now(),
): Promise<LinkedUser> {
  const key = linkKey(provider.id, identity.sub);
  const existing = await store.get<LinkItem & Record<string, unknown>>(key);
  if (existing) return { userId: existing.userId };
  const byEmail =
    provider.linkByEmail && identity.emailVerified && identity.email
      ? await findUserByLogin(store, identity.email)
      : undefined;
  const userId = byEmail?.userId ?? `up-${randomUUID()}`;
  const item: LinkItem = {
    userId,
    provider: provider.id,
    sub: identity.sub,
    createdAt: new Date(now).toISOString(),
  };
  try {
    await store.put(key, { ...item }, { ifAbsent: true });
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
    // Another sign-in of the same upstream account made the link first: its user is the one.
    const winner = await store.get<LinkItem & Record<string, unknown>>(key);
    if (!winner) throw err;
    return { userId: winner.userId };
  }
  if (byEmail) return { userId, linked: 'email' };
  await createProfile(store, userId, identity);
  return { userId, linked: 'new_user' };
}

/** The new user's profile: the upstream's name, and its email only when verified and free. */
async function createProfile(store: TenantStore, userId: string, identity: UpstreamIdentity): Promise<void> {
  const profiles = new ProfileRepository(store);
  const base = { ...(identity.name ? { name: identity.name } : {}) };
  if (identity.email && identity.emailVerified) {
    try {
      await profiles.put(userId, { ...base, email: identity.email, email_verified: true });
      return;
    } catch (err) {
      if (!(err instanceof LoginTakenError)) throw err;
    }
  }
  await profiles.put(userId, base);
}
