import type { ActionState } from '../actions/action.js';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import { nowSeconds, type WriteOp, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { CodeSeal } from './code-seal.js';

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
  /** For a code that carries its grant sealed (`code-seal.ts`): the SHA-256 of the sealed part. */
  sealDigest?: string;
}

/** The random part: 256 bits, 43 base64url characters. */
export const CODE_RANDOM_CHARS = 43;

/**
 * A code's random part and, when it carries one, its sealed grant: `<random><sealed>`, the random
 * part first at its fixed length, so a code stays in the base64url alphabet like any other.
 */
export function splitCode(code: string): { random: string; sealed?: string } {
  return code.length <= CODE_RANDOM_CHARS
    ? { random: code }
    : { random: code.slice(0, CODE_RANDOM_CHARS), sealed: code.slice(CODE_RANDOM_CHARS) };
}

/** A code's item, under the hash of its random part: the table never holds a usable code. */
export const codeKey = (code: string): Key => ({ pk: `code#${sha256(splitCode(code).random)}`, sk: 'code' });

/** A new code for a grant: with a seal, the grant travels in the code too (when it fits). */
export function newCode(
  grant: Grant,
  now = Date.now(),
  seal?: CodeSeal,
): { code: string; key: Key; item: CodeItem } {
  const random = randomSecret();
  const item: CodeItem = { ...grant, expiresAt: nowSeconds(now) + CODE_TTL_SECONDS };
  const sealed = seal?.seal(random, item);
  if (!sealed) return { code: random, key: codeKey(random), item };
  return { code: `${random}${sealed}`, key: codeKey(random), item: { ...item, sealDigest: sha256(sealed) } };
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
export function redeemCodeWrite(code: string, grantId: string, sealDigest?: string): WriteOp {
  // A grant read from the code itself redeems only the item that sealed exactly that grant.
  return {
    consume: { key: codeKey(code), set: { grantId }, ...(sealDigest ? { match: { sealDigest } } : {}) },
  };
}
