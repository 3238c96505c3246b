import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '../clients/client.js';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import { invalidGrant, invalidRequest, ProtocolError } from '../errors.js';
import type { TenantStore } from '../store/tenant-store.js';
import { ProfileRepository } from '../users/profile-repository.js';
import { ConditionFailedError, nowSeconds, type WriteOp } from '../store/store.js';
import {
  CODE_RANDOM_CHARS,
  codeIssuedAt,
  readCode,
  redeemCodeWrite,
  splitCode,
  type CodeItem,
} from './authorization-codes.js';
import { MAX_SEALED_CHARS } from './code-seal.js';
import { BUILT_IN_SCOPES, tenantScopeClaims, TenantScopeRepository } from '../scopes/tenant-scopes.js';
import { otherRequestedClaims, pickClaims, requestedClaims } from './claims-request.js';
import { newRefreshToken, OFFLINE_ACCESS, wantsRefreshToken } from './refresh.js';
import { notRevokedSince, revokeGrant } from './revocations.js';
import { resolveAudiences, scopeTokens, type TokenEndpointDeps, type TokenRequest } from './token-request.js';
import { mintTokens, type TokenResponse } from './tokens.js';

/**
 * The authorization_code grant (RFC 6749 §4.1.3), for a client the token endpoint has already
 * allowed the grant. The code is read and everything it is bound to is checked first — client,
 * redirect_uri, PKCE, resource — so a request that fails any of them leaves the code usable (another
 * client cannot burn it); only then is it consumed, with one conditional write, so of any number of
 * concurrent redemptions exactly one wins. A replay by the code's client is refused and the tokens
 * the first redemption issued are revoked (RFC 6749 §4.1.2, §10.5).
 */
export async function authorizationCodeGrant(
  { form, resources }: TokenRequest,
  client: Client,
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  const code = form.code;
  if (!code) throw invalidRequest('code is required');
  const dead = () => invalidGrant('the code is invalid, expired or already used');
  if (code.length > MAX_CODE_LENGTH) throw dead();
  // A code that carries its grant is redeemed without reading its item first (code-seal.ts).
  const opened = openSealed(code, deps);
  const stored = opened ?? (await readCode(deps.store, code));
  if (!stored || stored.expiresAt <= nowSeconds()) throw dead();
  // Another client's code is refused without touching it, used or not (RFC 6749 §4.1.3).
  if (stored.clientId !== client.client_id) throw invalidGrant('the code was issued to another client');
  if (stored.consumedAt !== undefined) throw await replayed(deps.store, stored.grantId);
  checkBinding(stored, form, deps.dpopJkt);
  const fallback = stored.resources?.length ? stored.resources : [client.client_id];
  const audiences = resolveAudiences(resources, client, fallback, stored.resources);

  // Sign first, then store: a signing failure (KMS down) answers 503 and leaves the code usable,
  // where consuming first would burn it and turn the client's retry into a "replay".
  const grantId = randomUUID();
  const requested = await claimsFor(stored, client, deps.store);
  // A refresh token only with offline_access, and only for a client allowed the grant (OIDC Core
  // §11); otherwise offline_access is not granted and not reported back.
  const refresh = wantsRefreshToken(client, stored.scope)
    ? newRefreshToken(client, stored, grantId, Date.now(), deps.dpopJkt)
    : undefined;
  const scope = refresh
    ? stored.scope
    : scopeTokens(stored.scope)
        .filter((s) => s !== OFFLINE_ACCESS)
        .join(' ');
  const tokens = await mintTokens(deps.signer, deps.issuer, client, { ...stored, scope }, grantId, {
    audiences,
    ...(refresh ? { refreshToken: refresh.token } : {}),
    ...requested,
    ...(deps.dpopJkt ? { dpopJkt: deps.dpopJkt } : {}),
  });
  // The code is used up and its refresh token written in one transaction: all or nothing, and only
  // while neither the user nor the client has been deleted since the code was issued (a code is
  // revoked with them; a failed check reads as a dead code below).
  const writes: WriteOp[] = [
    redeemCodeWrite(code, grantId, opened ? sha256(splitCode(code).sealed!) : undefined),
    ...notRevokedSince(stored.userId, stored.clientId, codeIssuedAt(stored)),
  ];
  if (refresh) writes.push({ put: { key: refresh.key, item: { ...refresh.item }, ifAbsent: true } });
  try {
    await deps.store.transact(writes);
  } catch (err) {
    if (!(err instanceof ConditionFailedError)) throw err;
    // Another redemption won: it is a replay, whichever request came first (RFC 6749 §4.1.2).
    const now = await readCode(deps.store, code);
    if (now?.consumedAt !== undefined) throw await replayed(deps.store, now.grantId);
    throw dead();
  }
  return tokens;
}

/** The random part and at most `MAX_SEALED_CHARS` of sealed grant. */
const MAX_CODE_LENGTH = CODE_RANDOM_CHARS + MAX_SEALED_CHARS;

function openSealed(code: string, deps: TokenEndpointDeps): CodeItem | undefined {
  const { random, sealed } = splitCode(code);
  return sealed && deps.codeSeal ? deps.codeSeal.open<CodeItem>(random, sealed) : undefined;
}

/** A used code presented again by its client: the tokens it gave are revoked (RFC 6749 §4.1.2). */
async function replayed(store: TenantStore, grantId: string | undefined) {
  // The grant id is the refresh token family too: a replay kills the refresh tokens as well.
  if (grantId) await revokeGrant(store, grantId, 'authorization code replayed');
  return invalidGrant('the code has already been used; the tokens issued for it are revoked');
}

/**
 * RFC 6749 §4.1.3: redirect_uri must be present and identical when the request included it. The
 * Authsignal-style federated flow documents a token request without it (grant_type, code,
 * client_id, client_secret), so for `/init-auth` grants it may be left out; sent, it must match.
 */
function checkBinding(grant: CodeItem, form: Record<string, string>, dpopJkt?: string): void {
  const redirectUriOptional = grant.action !== undefined && form.redirect_uri === undefined;
  if (!redirectUriOptional && form.redirect_uri !== grant.redirectUri) {
    throw invalidGrant('redirect_uri does not match the authorization request');
  }
  checkPkce(grant.codeChallenge, form.code_verifier);
  checkDpopBinding(grant.dpopJkt, dpopJkt);
}

/**
 * RFC 9449 §10: a code bound with `dpop_jkt` is redeemed only with a proof by that key; checked
 * before the code is used, so a request without the key cannot burn it.
 */
function checkDpopBinding(bound: string | undefined, proved: string | undefined): void {
  if (bound === undefined) return;
  if (proved === undefined)
    throw new ProtocolError(
      400,
      'invalid_dpop_proof',
      'this code is bound to a DPoP key: send a proof by it',
    );
  if (!constantTimeEqual(bound, proved)) throw invalidGrant('the code is bound to another DPoP key');
}

/** A code issued before its user or its client was deleted gives nothing. */

/** PKCE (RFC 7636 §4.6): the verifier must hash to the challenge the authorization request sent. */
function checkPkce(challenge: string | undefined, verifier: string | undefined): void {
  if (!challenge) {
    if (verifier !== undefined)
      throw invalidGrant('code_verifier sent but the authorization request had no code_challenge');
    return;
  }
  if (!verifier) throw invalidGrant('code_verifier is required (PKCE)');
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier))
    throw invalidGrant('code_verifier is malformed (RFC 7636 §4.1)');
  const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  if (!constantTimeEqual(computed, challenge))
    throw invalidGrant('code_verifier does not match the code_challenge');
}

/**
 * What the `claims` request parameter asked for (OIDC Core §5.5): ID token values and UserInfo
 * names; and the ID token's claims of the granted tenant scopes (those asked for through `claims`,
 * or all of them for a client with `id_token_scope_claims`).
 */
async function claimsFor(
  grant: { claims?: string; userId: string; scope: string },
  client: Client,
  store: TenantStore,
): Promise<{
  idTokenClaims?: Record<string, unknown>;
  userinfoClaims?: string[];
  scopeClaims?: Record<string, unknown>;
}> {
  const idNames = requestedClaims(grant.claims, 'id_token');
  const userinfoClaims = requestedClaims(grant.claims, 'userinfo');
  // Granted, and still allowed to the client as it is now.
  const allowed = new Set(client.scope.split(' '));
  const own = scopeTokens(grant.scope).filter((s) => !BUILT_IN_SCOPES.includes(s) && allowed.has(s));
  const wanted = client.id_token_scope_claims
    ? undefined
    : new Set([...idNames, ...otherRequestedClaims(grant.claims, 'id_token')]);
  const withScopes = own.length > 0 && (wanted === undefined || wanted.size > 0);
  if (!idNames.length && !withScopes) return grant.claims ? { idTokenClaims: {}, userinfoClaims } : {};
  const [profile, tenantScopes] = await Promise.all([
    new ProfileRepository(store).get(grant.userId),
    withScopes ? new TenantScopeRepository(store).list() : [],
  ]);
  const scoped = tenantScopeClaims(profile, own, tenantScopes);
  const scopeClaims = Object.fromEntries(Object.entries(scoped).filter(([n]) => wanted?.has(n) ?? true));
  return { idTokenClaims: pickClaims(profile, idNames), userinfoClaims, scopeClaims };
}
