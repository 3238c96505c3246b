import { MAX_REFRESH_TOKEN_LIFETIME } from '../clients/client.js';
import { nowSeconds, type Item, type Key, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';

/**
 * Revocation records. Tokens of a revoked grant (the `gid` of access tokens, the family of refresh
 * tokens) are refused by refresh, userinfo and introspection until they expire anyway; so is one
 * access token revoked by its `jti` (RFC 7009), and every token and code of a deleted user, or of
 * a deleted client, issued before the deletion.
 */
const revokedGrantKey = (grantId: string): Key => ({ pk: `revoked#${grantId}`, sk: 'grant' });
const revokedTokenKey = (jti: string): Key => ({ pk: `revoked#${jti}`, sk: 'token' });
const revokedUserKey = (userId: string): Key => ({ pk: `revoked-user#${userId}`, sk: 'user' });
const revokedClientKey = (clientId: string): Key => ({ pk: `revoked-client#${clientId}`, sk: 'client' });

/** How long a grant revocation is remembered: longer than any refresh token family can live. */
export const GRANT_REVOCATION_TTL_SECONDS = MAX_REFRESH_TOKEN_LIFETIME + 86_400;

/** Revokes every token of a grant: its access tokens (`gid`) and its whole refresh token family. */
export async function revokeGrant(
  store: TenantStore,
  grantId: string,
  reason: string,
  now = Date.now(),
): Promise<void> {
  await store.put(revokedGrantKey(grantId), {
    reason,
    revokedAt: nowSeconds(now),
    expiresAt: nowSeconds(now) + GRANT_REVOCATION_TTL_SECONDS,
  });
}

/** Revokes everything issued for a user until now (a deleted user). */
export async function revokeUser(store: TenantStore, userId: string, now = Date.now()): Promise<void> {
  await store.put(revokedUserKey(userId), {
    revokedAt: nowSeconds(now),
    expiresAt: nowSeconds(now) + GRANT_REVOCATION_TTL_SECONDS,
  });
}

/**
 * Revokes everything issued to a client until now (a deleted client): its access tokens, refresh
 * token families and outstanding codes, even if another client were ever registered under its id.
 */
export async function revokeClient(store: TenantStore, clientId: string, now = Date.now()): Promise<void> {
  await store.put(revokedClientKey(clientId), {
    revokedAt: nowSeconds(now),
    expiresAt: nowSeconds(now) + GRANT_REVOCATION_TTL_SECONDS,
  });
}

/** Revokes one access token by its `jti` until it would have expired anyway (RFC 7009). */
export async function revokeAccessToken(
  store: TenantStore,
  token: { jti: string; exp: number },
  now = Date.now(),
): Promise<void> {
  if (token.exp <= nowSeconds(now)) return;
  await store.put(revokedTokenKey(token.jti), { revokedAt: nowSeconds(now), expiresAt: token.exp + 60 });
}

export async function grantRevoked(store: TenantStore, grantId: string): Promise<boolean> {
  return (await store.get(revokedGrantKey(grantId))) !== undefined;
}

export async function accessTokenRevoked(store: TenantStore, jti: string): Promise<boolean> {
  return (await store.get(revokedTokenKey(jti))) !== undefined;
}

/** When the user was deleted (epoch seconds): tokens issued until then are dead. */
export async function userRevokedAt(store: TenantStore, userId: string): Promise<number | undefined> {
  return (await store.get<{ revokedAt: number } & Item>(revokedUserKey(userId)))?.revokedAt;
}

/** When the client was deleted (epoch seconds): tokens and codes issued to it until then are dead. */
export async function clientRevokedAt(store: TenantStore, clientId: string): Promise<number | undefined> {
  return (await store.get<{ revokedAt: number } & Item>(revokedClientKey(clientId)))?.revokedAt;
}

/**
 * Conditions for a transaction that issues tokens from a grant made at `issuedAt` (epoch seconds):
 * it only succeeds while neither the user nor the client has been deleted since. Folded into the
 * write, the check costs no read of its own and no deletion can slip between a read and the write.
 */
export function notRevokedSince(userId: string, clientId: string, issuedAt: number): WriteOp[] {
  return [revokedUserKey(userId), revokedClientKey(clientId)].map((key) => ({
    check: { key, absentOrBelow: { attribute: 'revokedAt', value: issuedAt } },
  }));
}

/**
 * When the user and the client were deleted (epoch seconds), read in one round trip: what a code or
 * refresh token redemption must check together.
 */
export async function userAndClientRevokedAt(
  store: TenantStore,
  userId: string,
  clientId: string,
): Promise<[user: number | undefined, client: number | undefined]> {
  const [user, client] = await store.batchGet<{ revokedAt: number } & Item>([
    revokedUserKey(userId),
    revokedClientKey(clientId),
  ]);
  return [user?.revokedAt, client?.revokedAt];
}
