import { checkAcr, SUPPORTED_ACR } from './login-request.js';
import { randomUUID } from 'node:crypto';
import type { Client } from '../clients/client.js';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import {
  accessDenied,
  expiredToken,
  invalidGrant,
  invalidScope,
  authorizationPending,
  slowDown,
} from '../errors.js';
import { ConditionFailedError, nowSeconds, type Item, type Key, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Grant } from './authorization-codes.js';
import { newRefreshToken, OFFLINE_ACCESS, wantsRefreshToken } from './refresh.js';
import { userAndClientRevokedAt } from './revocations.js';
import { resolveAudiences, scopeTokens, type TokenEndpointDeps } from './token-request.js';
import { mintTokens, type TokenResponse } from './tokens.js';

/**
 * A grant another device waits for: the device authorization grant (RFC 8628) and CIBA in poll
 * mode (CIBA Core §7). The client holds a secret (the `device_code` or the `auth_req_id`: 256
 * random bits, stored only as a hash) and polls the token endpoint with it; the user signs in on
 * another device through the hosted pages (`startDecoupledLogin`), which move the item from
 * `pending` to `approved` or `denied`. The token endpoint answers, in order: invalid_grant (unknown,
 * another client's, already redeemed), expired_token, access_denied, the tokens (once: one
 * conditional write consumes the grant), else slow_down or authorization_pending.
 */
export type DecoupledKind = 'device' | 'ciba';

/** Seconds a client waits between polls (RFC 8628 §3.2, CIBA Core §7.3). */
export const DEFAULT_INTERVAL = 5;
/** How much `slow_down` raises the interval (RFC 8628 §3.5, CIBA Core §11). */
export const SLOW_DOWN_STEP = 5;
/** Default and longest life of a pending grant (seconds). */
export const DECOUPLED_TTL_SECONDS = 600;
/** After its deadline the item is kept this long so a late poll hears `expired_token`, not `invalid_grant`. */
const EXPIRED_GRACE_SECONDS = 600;

export interface PendingGrant {
  kind: DecoupledKind;
  clientId: string;
  scope: string;
  status: 'pending' | 'approved' | 'denied';
  /** The polling interval (seconds) the client must respect; raised by `slow_down`. */
  interval: number;
  /** When the client last polled (epoch ms, as a string: the compare-and-set token of a poll). */
  lastPoll: string;
  /** When the grant expires (epoch seconds). `expiresAt` (the TTL) comes later. */
  deadline: number;
  /** CIBA: the user the client named; nobody else may approve. */
  expectedUserId?: string;
  bindingMessage?: string;
  /** The client's `acr_values` this provider knows (OIDC Core §3.1.2.1: voluntary), best first. */
  acrValues?: string[];
  // Set by the hosted pages when the user approves (`endDecoupled`) …
  userId?: string;
  authTime?: number;
  amr?: string[];
  acr?: string;
  sid?: string;
  // … or denies.
  error?: string;
  /** Set when the tokens were issued. */
  consumedAt?: number;
  grantId?: string;
  expiresAt: number;
}

type Stored = PendingGrant & Item;

export const pendingGrantKey = (secret: string): Key => ({ pk: `decoupled#${sha256(secret)}`, sk: 'grant' });

/** A new pending grant: the secret for the client, and the item to store at `key`. */
export function newPendingGrant(
  fields: {
    kind: DecoupledKind;
    clientId: string;
    scope: string;
    expiresIn: number;
    expectedUserId?: string;
    bindingMessage?: string;
    acrValues?: string[];
  },
  now = Date.now(),
): { secret: string; key: Key; item: PendingGrant } {
  const secret = randomSecret();
  const deadline = nowSeconds(now) + fields.expiresIn;
  return {
    secret,
    key: pendingGrantKey(secret),
    item: {
      kind: fields.kind,
      clientId: fields.clientId,
      scope: fields.scope,
      status: 'pending',
      interval: DEFAULT_INTERVAL,
      lastPoll: '0',
      deadline,
      ...(fields.expectedUserId ? { expectedUserId: fields.expectedUserId } : {}),
      ...(fields.bindingMessage ? { bindingMessage: fields.bindingMessage } : {}),
      ...(fields.acrValues?.length ? { acrValues: fields.acrValues } : {}),
      expiresAt: deadline + EXPIRED_GRACE_SECONDS,
    },
  };
}

/** Reads a pending grant by its tenant-relative key; `undefined` when unknown or of another kind. */
export async function readPendingGrant(
  store: TenantStore,
  key: Key,
  kind: DecoupledKind,
): Promise<PendingGrant | undefined> {
  const item = await store.get<Stored>(key);
  return item?.kind === kind ? item : undefined;
}

/** Whether the user may still act on the grant: pending, unredeemed, before its deadline. */
export function stillPending(grant: PendingGrant | undefined, now = Date.now()): grant is PendingGrant {
  return (
    grant !== undefined &&
    grant.status === 'pending' &&
    grant.consumedAt === undefined &&
    grant.deadline > nowSeconds(now)
  );
}

/**
 * Scopes a client asks for at a decoupled endpoint: each allowed for the client (`invalid_scope`
 * otherwise); `fallback` when none are sent.
 */
export function checkScope(scope: string | undefined, client: Client, fallback?: string): string {
  if (scope !== undefined && scope.length > 1000) throw invalidScope('scope is too long');
  const requested = scopeTokens(scope ?? fallback);
  if (requested.length === 0) throw invalidScope('scope is required');
  const allowed = new Set(client.scope.split(' '));
  const refused = requested.filter((s) => !allowed.has(s));
  if (refused.length) {
    throw invalidScope(`scope not allowed for this client: ${refused.join(' ').slice(0, 200)}`);
  }
  return requested.join(' ');
}

/**
 * One poll of the token endpoint with a device code or an auth_req_id. A poll while pending records
 * its time with a compare-and-set on the previous poll's, so two polls racing each other count as
 * polling too fast, and a poll sooner than `interval` after the last one is `slow_down` (the
 * interval then rises by 5 s for good).
 */
export async function redeemPendingGrant(
  kind: DecoupledKind,
  secret: string,
  client: Client,
  resources: string[],
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  const now = deps.now ?? Date.now();
  const name = kind === 'device' ? 'device_code' : 'auth_req_id';
  if (secret.length > 200) throw invalidGrant(`the ${name} is invalid`);
  const key = pendingGrantKey(secret);
  for (let attempt = 0; attempt < 3; attempt++) {
    const grant = await readPendingGrant(deps.store, key, kind);
    if (!grant) throw invalidGrant(`the ${name} is invalid or has expired`);
    if (grant.clientId !== client.client_id) throw invalidGrant(`the ${name} was issued to another client`);
    if (grant.consumedAt !== undefined) throw invalidGrant(`the ${name} has already been used`);
    if (grant.deadline <= nowSeconds(now)) {
      throw expiredToken(`the ${name} has expired: start again`);
    }
    if (grant.status === 'denied') throw accessDenied('the user denied the request');
    if (grant.status === 'approved') return issue(grant, key, client, resources, deps, now);

    const last = Number(grant.lastPoll);
    const tooSoon = last > 0 && now - last < grant.interval * 1000;
    const set: Item = tooSoon
      ? { lastPoll: String(now), interval: grant.interval + SLOW_DOWN_STEP }
      : { lastPoll: String(now) };
    try {
      await deps.store.transact([
        { update: { key, set, match: { lastPoll: grant.lastPoll, status: 'pending' } } },
      ]);
    } catch (err) {
      if (err instanceof ConditionFailedError) continue; // another poll, or the user, came first
      throw err;
    }
    if (tooSoon) {
      throw slowDown(
        `polling too fast: wait at least ${grant.interval + SLOW_DOWN_STEP} seconds between requests`,
      );
    }
    throw authorizationPending('the user has not yet approved the request');
  }
  throw slowDown('polling too fast: several requests at once');
}

/** The tokens of an approved grant, once: the grant is consumed (and the refresh token stored) in one transaction. */
async function issue(
  grant: PendingGrant,
  key: Key,
  client: Client,
  resources: string[],
  deps: TokenEndpointDeps,
  now: number,
): Promise<TokenResponse> {
  if (!grant.userId || grant.authTime === undefined) throw invalidGrant('the grant is incomplete');
  // CIBA: only the hinted user can approve; the hosted pages see to it, and so does this.
  if (grant.expectedUserId !== undefined && grant.userId !== grant.expectedUserId) {
    throw invalidGrant('the request was approved by another user');
  }
  // Checked before the grant is consumed, so a wrong `resource` does not burn it.
  const audiences = resolveAudiences(resources, client, [client.client_id]);
  // An approval given before the user (or the client) was deleted gives nothing, as for codes.
  const deletedAt = await userAndClientRevokedAt(deps.store, grant.userId, client.client_id);
  if (deletedAt.some((t) => t !== undefined && grant.authTime! <= t)) {
    throw invalidGrant('the grant is no longer valid');
  }
  const grantId = randomUUID();
  const subject: Grant = {
    clientId: client.client_id,
    redirectUri: '',
    scope: grant.scope,
    userId: grant.userId,
    authTime: grant.authTime,
    ...(grant.amr ? { amr: grant.amr } : {}),
    ...(grant.acr ? { acr: grant.acr } : {}),
    ...(grant.sid ? { sid: grant.sid } : {}),
  };
  // A refresh token only with offline_access, for a client allowed the grant (OIDC Core §11).
  const refresh = wantsRefreshToken(client, grant.scope)
    ? newRefreshToken(client, subject, grantId, now, deps.dpopJkt)
    : undefined;
  const scope = refresh
    ? grant.scope
    : scopeTokens(grant.scope)
        .filter((s) => s !== OFFLINE_ACCESS)
        .join(' ');
  // Signed first, then stored: a signing failure (KMS down) answers 503 and leaves the approved
  // grant redeemable by the next poll, where consuming first would burn it.
  const tokens = await mintTokens(deps.signer, deps.issuer, client, { ...subject, scope }, grantId, {
    audiences,
    ...(refresh ? { refreshToken: refresh.token } : {}),
    ...(deps.dpopJkt ? { dpopJkt: deps.dpopJkt } : {}),
    now,
  });
  const ops: WriteOp[] = [
    { consume: { key, match: { status: 'approved', clientId: client.client_id }, set: { grantId } } },
  ];
  if (refresh) ops.push({ put: { key: refresh.key, item: { ...refresh.item }, ifAbsent: true } });
  try {
    await deps.store.transact(ops);
  } catch (err) {
    if (err instanceof ConditionFailedError) throw invalidGrant('the grant has already been used');
    throw err;
  }
  return tokens;
}

/**
 * `acr_values` of a device authorization (RFC 8628 §3.1 allows the authorization request's
 * parameters) or CIBA request (CIBA Core §7.1): voluntary as at `/oidc/auth`, so the values this
 * provider does not know are dropped here, which also bounds what the grant stores.
 */
export function decoupledAcrValues(form: Record<string, string>): string[] {
  return checkAcr(form).filter((v) => (SUPPORTED_ACR as readonly string[]).includes(v));
}
