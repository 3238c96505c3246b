import type { Client } from '../clients/client.js';
import type { WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { userPk } from '../users/user-records.js';

/**
 * Consent a user gave a third-party client, remembered per scope (OIDC Core §3.1.2.4). It lives in
 * the user's partition, one item per client (the tenant prefix is added by the TenantStore), beside
 * the user's other records.
 */
const consentKey = (userId: string, clientId: string) => ({
  pk: userPk(userId),
  sk: `consent#${clientId}`,
});

export async function grantedScopes(
  store: TenantStore,
  userId: string,
  clientId: string,
): Promise<Set<string>> {
  const item = await store.get<{ scopes: string[] }>(consentKey(userId, clientId));
  return new Set(item?.scopes ?? []);
}

export function consentWrite(
  userId: string,
  clientId: string,
  scopes: string[],
  previous: Set<string>,
): WriteOp {
  return {
    put: {
      key: consentKey(userId, clientId),
      item: { scopes: [...new Set([...previous, ...scopes])], grantedAt: new Date().toISOString() },
    },
  };
}

/** Scopes the user has not yet granted this client (none for first-party clients, OIDC Core §3.1.2.4). */
export async function scopesNeedingConsent(
  store: TenantStore,
  client: Client,
  userId: string,
  scope: string,
  force: boolean,
): Promise<string[]> {
  if (client.first_party && !force) return [];
  const requested = scope.split(' ').filter(Boolean);
  if (force) return requested;
  const granted = await grantedScopes(store, userId, client.client_id);
  return requested.filter((s) => !granted.has(s));
}
