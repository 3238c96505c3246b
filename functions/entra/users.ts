import { randomUUID } from 'node:crypto';
import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { findUserByLogin } from '../users/profile-repository.js';
import { userPk } from '../users/user-records.js';
import type { EntraHint } from './hint.js';
import type { EntraIntegration } from './integration.js';

/**
 * Which local user an Entra user is: the index item `entra#<tid>#<oid>` (in the tenant's part of
 * the table, like every key) names them, and the user's own partition holds the matching link
 * item, so deleting the user (users/profile-repository.ts `deleteUser`) removes the link and a
 * stale index item is recognised. `oid` is the user's immutable object id in their Entra tenant
 * (Microsoft identity platform ID token claims reference); `preferred_username` can change, so it
 * is only used, when the tenant enables it, to link a first sign-in to an existing user.
 */
const indexKey = (tid: string, oid: string): Key => ({ pk: `entra#${tid}#${oid}`, sk: 'user' });
const linkKey = (userId: string, tid: string, oid: string): Key => ({
  pk: userPk(userId),
  sk: `entra#${tid}#${oid}`,
});

interface IndexItem extends Record<string, unknown> {
  userId: string;
}

/**
 * The local user of (tid, oid), created (or linked) on first use. The index item and the link item
 * are written in one transaction whose index put is conditional, so of any number of concurrent
 * first sign-ins exactly one creates the user and the others read it.
 */
export async function entraUser(
  store: TenantStore,
  integration: Pick<EntraIntegration, 'linkExistingUsers'>,
  hint: EntraHint,
  now = Date.now(),
): Promise<{ userId: string; created: boolean }> {
  const { tid, oid } = hint;
  const current = await store.get<IndexItem>(indexKey(tid, oid));
  if (current && (await store.get(linkKey(current.userId, tid, oid))))
    return { userId: current.userId, created: false };
  const linked = integration.linkExistingUsers ? await linkable(store, hint) : undefined;
  const userId = linked ?? randomUUID();
  const at = new Date(now).toISOString();
  try {
    await store.transact([
      current
        ? // A stale index item (its user was deleted): replaced only if still that one.
          { update: { key: indexKey(tid, oid), set: { userId }, match: { userId: current.userId } } }
        : { put: { key: indexKey(tid, oid), item: { userId, createdAt: at }, ifAbsent: true } },
      { put: { key: linkKey(userId, tid, oid), item: { tid, oid, createdAt: at } } },
    ]);
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
    const winner = await store.get<IndexItem>(indexKey(tid, oid));
    if (!winner) throw err;
    return { userId: winner.userId, created: false };
  }
  return { userId, created: linked === undefined };
}

/** An existing user holding the hint's `preferred_username` (or `email`) as a login identifier. */
async function linkable(store: TenantStore, hint: EntraHint): Promise<string | undefined> {
  for (const identifier of [hint.preferredUsername, hint.email]) {
    if (!identifier) continue;
    const found = await findUserByLogin(store, identifier);
    if (found) return found.userId;
  }
  return undefined;
}
