import type { Client } from '../clients/client.js';
import { constantTimeEqual, randomSecret, sha256 } from '../crypto/secrets.js';
import { invalidGrant, invalidRequest, invalidScope, ProtocolError } from '../errors.js';
import { ConditionFailedError, nowSeconds, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Grant } from './authorization-codes.js';
import { clientRevokedAt, grantRevoked, revokeGrant, userRevokedAt } from './revocations.js';
import { resolveAudiences, scopeTokens, type TokenEndpointDeps, type TokenRequest } from './token-request.js';
import { mintTokens, type TokenResponse, type TokenSubject } from './tokens.js';

/**
 * Refresh tokens (RFC 6749 §6, OAuth 2.0 Security BCP §4.14): opaque, 256 random bits, stored only
 * as a hash, bound to the client and to the grant they came from (their family: the `gid` of the
 * access tokens). Each use rotates the token with one transaction that consumes the old one and
 * stores the new one; presenting a rotated token again revokes the whole family.
 */
export const OFFLINE_ACCESS = 'offline_access';

export interface RefreshItem extends TokenSubject {
  clientId: string;
  /** The family: the grant id shared by every token issued from one authorization. */
  grantId: string;
  /** When the family began (epoch seconds): the first authorization. */
  familyIssuedAt: number;
  /** When this token was issued (epoch seconds). */
  issuedAt: number;
  /** The family dies then, whatever the sliding lifetime says. */
  absoluteExpiresAt: number;
  /** Sliding expiry of this token (the TTL attribute). */
  expiresAt: number;
  /** Set when this token was rotated (or revoked). */
  consumedAt?: number;
  /**
   * The DPoP key (JWK thumbprint) a public client's refresh token is bound to (RFC 9449 §5): every
   * use needs a proof by it. Confidential clients' are not: their authentication binds them.
   */
  dpopJkt?: string;
}

type Stored = RefreshItem & Record<string, unknown>;

/** A refresh token's item, under the hash of the token: the table never holds a usable token. */
export const refreshKey = (token: string): Key => ({ pk: `refresh#${sha256(token)}`, sk: 'refresh' });

/** True when the client may receive a refresh token for this scope (OIDC Core §11). */
export function wantsRefreshToken(client: Client, scope: string): boolean {
  return client.grant_types.includes('refresh_token') && scopeTokens(scope).includes(OFFLINE_ACCESS);
}

/** A new refresh token for a grant just redeemed: the first of its family. */
export function newRefreshToken(
  client: Client,
  grant: Grant,
  grantId: string,
  now = Date.now(),
  dpopJkt?: string,
): { token: string; key: Key; item: RefreshItem } {
  const issuedAt = nowSeconds(now);
  const absoluteExpiresAt = issuedAt + client.refresh_token_absolute_lifetime;
  const token = randomSecret();
  const item: RefreshItem = {
    clientId: client.client_id,
    grantId,
    userId: grant.userId,
    scope: grant.scope,
    authTime: grant.authTime,
    ...(grant.amr ? { amr: grant.amr } : {}),
    ...(grant.acr ? { acr: grant.acr } : {}),
    ...(grant.sid ? { sid: grant.sid } : {}),
    ...(grant.action ? { action: grant.action } : {}),
    ...(grant.resources?.length ? { resources: grant.resources } : {}),
    ...(grant.idp ? { idp: grant.idp } : {}),
    ...(dpopJkt && client.client_type === 'public' ? { dpopJkt } : {}),
    familyIssuedAt: issuedAt,
    issuedAt,
    absoluteExpiresAt,
    expiresAt: Math.min(issuedAt + client.refresh_token_lifetime, absoluteExpiresAt),
  };
  return { token, key: refreshKey(token), item };
}

/** Reads a refresh token's record; `undefined` for unknown or expired ones (consumed ones are returned). */
export async function readRefreshToken(store: TenantStore, token: string): Promise<RefreshItem | undefined> {
  if (!token || token.length > 200) return undefined;
  return store.get<Stored>(refreshKey(token));
}

/** Whether the family has been revoked (replay, revocation, code replay) or its user or client deleted. */
export async function familyRevoked(
  store: TenantStore,
  item: Pick<RefreshItem, 'grantId' | 'userId' | 'clientId' | 'familyIssuedAt'>,
): Promise<boolean> {
  const [grant, userDeletedAt, clientDeletedAt] = await Promise.all([
    grantRevoked(store, item.grantId),
    userRevokedAt(store, item.userId),
    clientRevokedAt(store, item.clientId),
  ]);
  const deletedAt = [userDeletedAt, clientDeletedAt].filter((t) => t !== undefined);
  return grant || deletedAt.some((t) => item.familyIssuedAt <= t);
}

/** Whether a stored refresh token is usable now: live, not rotated, family not revoked. */
export async function refreshTokenActive(
  store: TenantStore,
  item: RefreshItem,
  now = Date.now(),
): Promise<boolean> {
  if (item.consumedAt !== undefined) return false;
  if (item.expiresAt <= nowSeconds(now) || item.absoluteExpiresAt <= nowSeconds(now)) return false;
  return !(await familyRevoked(store, item));
}

/**
 * A key-bound refresh token is used only with a proof by its key (RFC 9449 §5), checked before the
 * token is touched, so a thief without the key cannot burn it or revoke its family.
 */
function checkKeyBinding(item: RefreshItem, dpopJkt: string | undefined): void {
  if (item.dpopJkt === undefined) return;
  if (dpopJkt === undefined)
    throw new ProtocolError(400, 'invalid_dpop_proof', 'this refresh token needs a DPoP proof by its key');
  if (!constantTimeEqual(dpopJkt, item.dpopJkt))
    throw invalidGrant('the refresh token is bound to another DPoP key');
}

/**
 * The refresh_token grant (RFC 6749 §6), for a client the token endpoint has already allowed the
 * grant. In order: the token exists, is this client's and has not been used (a used one is a
 * replay: the family is revoked); the family is not revoked; the scope only narrows; then one
 * transaction rotates the token, so of two concurrent uses exactly one gets new tokens, and the
 * other counts as a replay.
 */
export async function refreshTokenGrant(
  { form, resources }: TokenRequest,
  client: Client,
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  const token = form.refresh_token;
  if (!token) throw invalidRequest('refresh_token is required');
  const now = deps.now ?? Date.now();
  const dead = () => invalidGrant('the refresh token is invalid, expired or revoked');
  const item = await readRefreshToken(deps.store, token);
  if (!item) throw dead();
  // Another client's token is refused without touching it (RFC 6749 §6: bound to the client).
  if (item.clientId !== client.client_id)
    throw invalidGrant('the refresh token was issued to another client');
  if (item.consumedAt !== undefined) {
    await revokeGrant(deps.store, item.grantId, 'refresh token reused', now);
    throw invalidGrant('the refresh token has already been used; its whole family is revoked');
  }
  checkKeyBinding(item, deps.dpopJkt);
  if (item.absoluteExpiresAt <= nowSeconds(now)) throw dead();
  if (await familyRevoked(deps.store, item)) throw dead();

  // RFC 6749 §6: the scope may narrow, never widen; the new refresh token keeps the original scope.
  const granted = scopeTokens(item.scope);
  let scope = item.scope;
  if (form.scope !== undefined) {
    const requested = scopeTokens(form.scope);
    if (requested.length === 0) throw invalidScope('scope is empty');
    const wider = requested.filter((s) => !granted.includes(s));
    if (wider.length) throw invalidScope(`scope exceeds what was granted: ${wider.join(' ')}`);
    scope = requested.join(' ');
  }
  const fallback = item.resources?.length ? item.resources : [client.client_id];
  const audiences = resolveAudiences(resources, client, fallback, item.resources);

  const issuedAt = nowSeconds(now);
  const next = randomSecret();
  const { consumedAt: _consumed, ...unused } = item;
  const nextItem: RefreshItem = {
    ...unused,
    issuedAt,
    // Sliding: each rotation extends the lifetime, never past the family's absolute expiry.
    expiresAt: Math.min(issuedAt + client.refresh_token_lifetime, item.absoluteExpiresAt),
  };
  // Signed before the rotation is written: signing has no side effect, so a KMS failure (503)
  // leaves the presented token unused, and the client's retry rotates it instead of being taken
  // for a replay that revokes the family (RFC 6749 §10.4 is about reuse, not about our outage).
  const response = await mintTokens(deps.signer, deps.issuer, client, item, item.grantId, {
    scope,
    audiences,
    refreshToken: next,
    withNonce: false,
    ...(deps.dpopJkt ? { dpopJkt: deps.dpopJkt } : {}),
    now,
  });
  try {
    await deps.store.transact([
      { consume: { key: refreshKey(token), match: { clientId: client.client_id } } },
      { put: { key: refreshKey(next), item: { ...nextItem }, ifAbsent: true } },
    ]);
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
    // Used in between by a concurrent request: that is a reuse too.
    const now2 = await readRefreshToken(deps.store, token);
    if (now2?.consumedAt !== undefined) {
      await revokeGrant(deps.store, item.grantId, 'refresh token reused concurrently', now);
      throw invalidGrant('the refresh token has already been used; its whole family is revoked');
    }
    throw dead();
  }
  return response;
}
