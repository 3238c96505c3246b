import type { ActionState } from '../actions/action.js';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import { nowSeconds, type WriteOp, type Key } from '../store/store.js';
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
  /** The upstream identity provider the user signed in through (the ID token's `idp` claim). */
  idp?: string;
  /** RFC 9449 §10: the DPoP key (JWK thumbprint) the token request must prove possession of. */
  dpopJkt?: string;
}

export interface CodeItem extends Grant {
  expiresAt: number;
  /** Set when redeemed: the grant the tokens belong to, so a replay can revoke them. */
  grantId?: string;
  /** Set when redeemed (epoch seconds). */
  consumedAt?: number;
}

/** A code's item, under the hash of the code: the table never holds a usable code. */
export const codeKey = (code: string): Key => ({ pk: `code#${sha256(code)}`, sk: 'code' });

export function newCode(grant: Grant, now = Date.now()): { code: string; key: Key; item: CodeItem } {
  const code = randomSecret();
  return { code, key: codeKey(code), item: { ...grant, expiresAt: nowSeconds(now) + CODE_TTL_SECONDS } };
}

/** Reads a code's record without using it; `undefined` for unknown or expired ones (used ones are returned). */
export function readCode(
  store: TenantStore,
  code: string,
): Promise<(CodeItem & Record<string, unknown>) | undefined> {
  return store.get<CodeItem & Record<string, unknown>>(codeKey(code));
}

/** When the code was issued (epoch seconds): its lifetime counted back from its expiry. */
export const codeIssuedAt = (item: Pick<CodeItem, 'expiresAt'>): number => item.expiresAt - CODE_TTL_SECONDS;

/**
 * The write that uses the code up, recording the grant its tokens belong to, for a transaction
 * with whatever the redemption stores beside it (the refresh token): of any number of concurrent
 * redemptions exactly one transaction commits; the others fail their condition.
 */
export function redeemCodeWrite(code: string, grantId: string): WriteOp {
  return { consume: { key: codeKey(code), set: { grantId } } };
}
