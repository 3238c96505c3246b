import { randomSecret, sha256 } from '../crypto/secrets.js';
import type { ActionState } from '../actions/action.js';
import { MAX_REFRESH_TOKEN_LIFETIME } from '../clients/client.js';
import { nowSeconds, type ConsumeResult } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';

/**
 * Authorization codes (RFC 6749 §4.1.2): 256 random bits, stored only as a hash, short-lived, bound
 * to the client, redirect URI, nonce and PKCE challenge, and redeemed with one conditional write.
 */
export const CODE_TTL_SECONDS = 120;

/** What a code stands for: everything the token endpoint needs, so redemption is one write. */
export interface Grant {
  clientId: string;
  redirectUri: string;
  scope: string;
  userId: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
  authTime: number;
  /** The federated action, for `/init-auth` flows. */
  action?: { code: string; state: ActionState; isEnrolled: boolean; idempotencyKey: string };
  amr?: string[];
  /** Authentication context class (OIDC Core §2): `mfa` when two factors were used. */
  acr?: string;
  /** The login session the code was issued in (OIDC Front-Channel Logout §3 `sid`). */
  sid?: string;
  /** RFC 8707 resource indicators: the access token's audience. */
  resources?: string[];
  /** The `claims` request parameter (OIDC Core §5.5), as validated JSON. */
  claims?: string;
}

export interface CodeItem extends Grant {
  expiresAt: number;
  /** Set when redeemed: the grant the tokens belong to, so a replay can revoke them. */
  grantId?: string;
}

export const codeKey = (code: string) => ({ pk: `code#${sha256(code)}`, sk: 'code' });

export function newCode(
  grant: Grant,
  now = Date.now(),
): { code: string; key: { pk: string; sk: string }; item: CodeItem } {
  const code = randomSecret();
  return { code, key: codeKey(code), item: { ...grant, expiresAt: nowSeconds(now) + CODE_TTL_SECONDS } };
}

export function redeemCode(
  store: TenantStore,
  code: string,
  grantId: string,
): Promise<ConsumeResult<CodeItem & Record<string, unknown>>> {
  return store.consume<CodeItem & Record<string, unknown>>(codeKey(code), { grantId });
}

/**
 * Tokens of a revoked grant (the `gid` of access tokens, the family of refresh tokens) are refused
 * by refresh, userinfo and introspection until they expire anyway.
 */
export const revokedGrantKey = (grantId: string) => ({ pk: `revoked#${grantId}`, sk: 'grant' });

/** One revoked access token, by its `jti` (RFC 7009), kept for the token's remaining life. */
export const revokedTokenKey = (jti: string) => ({ pk: `revoked#${jti}`, sk: 'token' });

/** A deleted user: every token issued for them before `revokedAt` (epoch seconds) is dead. */
export const revokedUserKey = (userId: string) => ({ pk: `revoked-user#${userId}`, sk: 'user' });

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
