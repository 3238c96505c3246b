import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import {
  MAX_TOKEN_LIFETIME_SECONDS,
  publicJwk,
  SIGNING_ALGS,
  type PublicJwk,
  type SigningAlg,
} from './signer.js';

/**
 * A tenant's signing keys: one item in the tenant's partition (`<tenantId>#signing-keys`), read in
 * one GetItem. Each key's private half is sealed with the secret box (KMS on AWS), bound to the
 * tenant and the key id, so a sealed key copied to another tenant's item does not open there.
 *
 * A key's life is decided by timestamps alone, so every container agrees without coordination:
 * published from `createdAt`; signs from `activeFrom` until a newer key of its algorithm becomes
 * active; stays published for `VERIFICATION_WINDOW_MS` after that; then is pruned on the next write.
 */
export const SIGNING_KEYS_KEY: Key = { pk: 'signing-keys', sk: 'keys' };

/** JWKS `Cache-Control: max-age` and `stale-while-revalidate` (seconds), served by `handlers/jwks.ts`. */
export const JWKS_MAX_AGE_SECONDS = 300;
export const JWKS_STALE_SECONDS = 60;
/**
 * How long a warm container trusts its copy of a tenant's key list before reading it again, at most
 * (the services pass `TENANT_CACHE_SECONDS`, 10 s on AWS).
 */
export const KEY_LIST_CACHE_MS = 10_000;

/**
 * A rotated-in key is published this long before it signs: more than a JWKS cache lifetime
 * (max-age + stale-while-revalidate) plus a container's key-list cache, so a verifier that cached
 * the JWKS just before the new key appeared has refreshed it before the first token signed by it.
 */
export const ROTATION_LEAD_MS = 60 * 60 * 1000;
/** A superseded key stays published until the longest-lived token it signed has expired (plus margin). */
export const VERIFICATION_WINDOW_MS = (MAX_TOKEN_LIFETIME_SECONDS + 3600) * 1000;
/** Scheduled rotation replaces a tenant's keys once they have signed this long. */
export const ROTATION_PERIOD_MS = 30 * 86_400 * 1000;

export interface TenantKeyRecord {
  kid: string;
  alg: SigningAlg;
  publicJwk: PublicJwk;
  /** The private JWK, sealed (`SecretBox`) under `{ tenantId, purpose: signing-key:<kid> }`. */
  sealed: string;
  /** Epoch milliseconds: published from then. */
  createdAt: number;
  /** Epoch milliseconds: signs from then (until a newer key of its algorithm is active). */
  activeFrom: number;
}

export interface TenantKeysItem {
  keys: TenantKeyRecord[];
  /** Changes on every write: rotations and revocations are conditional on it (optimistic locking). */
  rev: string;
  [attr: string]: unknown;
}

/** The encryption context of a tenant's private key: the KMS key policy allows `tenantId` and `purpose`. */
export const keyContext = (tenantId: string, kid: string) => ({ tenantId, purpose: `signing-key:${kid}` });

/** A new key pair for `alg`, its private half sealed for this tenant. */
export async function newKey(
  box: SecretBox,
  tenantId: string,
  alg: SigningAlg,
  createdAt: number,
  activeFrom: number,
): Promise<TenantKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const pub = await exportJWK(publicKey);
  // The kid is the RFC 7638 thumbprint: derived from the key, so two tenants never share one.
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  const priv = await exportJWK(privateKey);
  const sealed = await box.seal(JSON.stringify(priv), keyContext(tenantId, kid));
  return { kid, alg, publicJwk: publicJwk(pub, kid, alg), sealed, createdAt, activeFrom };
}

/** A new tenant's first keys, one per algorithm, active at once (nobody can have cached its JWKS). */
export async function initialKeys(
  box: SecretBox,
  tenantId: string,
  now = Date.now(),
): Promise<TenantKeysItem> {
  const keys = await Promise.all(SIGNING_ALGS.map((alg) => newKey(box, tenantId, alg, now, now)));
  return { keys, rev: randomUUID() };
}

/** When `key` stopped signing: the activation of the next active key of its algorithm, if any. */
function supersededAt(keys: TenantKeyRecord[], key: TenantKeyRecord, now: number): number | undefined {
  const later = keys
    .filter((k) => k.alg === key.alg && k.activeFrom > key.activeFrom && k.activeFrom <= now)
    .map((k) => k.activeFrom);
  return later.length ? Math.min(...later) : undefined;
}

/** The key that signs `alg` tokens at `now`: the most recently activated one. */
export function signingKey(
  keys: TenantKeyRecord[],
  alg: SigningAlg,
  now: number,
): TenantKeyRecord | undefined {
  let best: TenantKeyRecord | undefined;
  for (const k of keys) {
    if (k.alg === alg && k.activeFrom <= now && (!best || k.activeFrom > best.activeFrom)) best = k;
  }
  return best;
}

/** Keys in the JWKS at `now`: current, next (not yet signing) and superseded ones inside their window. */
export function publishedKeys(keys: TenantKeyRecord[], now: number): TenantKeyRecord[] {
  return keys
    .filter((k) => {
      if (k.createdAt > now) return false;
      const until = supersededAt(keys, k, now);
      return until === undefined || until + VERIFICATION_WINDOW_MS > now;
    })
    .sort((a, b) => SIGNING_ALGS.indexOf(a.alg) - SIGNING_ALGS.indexOf(b.alg) || b.activeFrom - a.activeFrom);
}

/** Reads a tenant's keys; creates them for a tenant made before per-tenant keys existed. */
export async function loadOrCreateKeys(
  store: TenantStore,
  box: SecretBox,
  now = Date.now(),
): Promise<TenantKeysItem> {
  const item = await store.get<TenantKeysItem>(SIGNING_KEYS_KEY);
  if (item) return item;
  const created = await initialKeys(box, store.tenantId, now);
  try {
    await store.put(SIGNING_KEYS_KEY, { ...created }, { ifAbsent: true });
    return created;
  } catch (err) {
    // Another container created them first: theirs are the tenant's keys.
    const raced = await store.get<TenantKeysItem>(SIGNING_KEYS_KEY);
    if (raced) return raced;
    throw err;
  }
}

/** Writes a new key list, only if nobody else wrote since `before` was read. */
async function replaceKeys(
  store: TenantStore,
  before: TenantKeysItem,
  keys: TenantKeyRecord[],
): Promise<void> {
  await store.transact([
    { update: { key: SIGNING_KEYS_KEY, set: { keys, rev: randomUUID() }, match: { rev: before.rev } } },
  ]);
}

/** Drops keys that are neither signing, nor next, nor inside their verification window. */
const pruned = (keys: TenantKeyRecord[], now: number) => {
  const live = new Set(publishedKeys(keys, now).map((k) => k.kid));
  return keys.filter((k) => live.has(k.kid));
};

export interface RotationResult {
  /** Keys added, each published now and signing from its `activeFrom`. */
  added: { kid: string; alg: SigningAlg; activeFrom: number }[];
  /** Keys that signed until now and stay published until the time given. */
  retiring: { kid: string; alg: SigningAlg; publishedUntil: number }[];
}

/**
 * Rotation: for each algorithm without a next key already waiting, a new key published now that
 * signs from `now + ROTATION_LEAD_MS`. With `ifOlderThan`, only algorithms whose current key has
 * signed at least that long (the scheduled rotation). Idempotent: a waiting next key is kept.
 */
export async function rotateKeys(
  store: TenantStore,
  box: SecretBox,
  opts: { now?: number; ifOlderThan?: number } = {},
): Promise<RotationResult> {
  const now = opts.now ?? Date.now();
  const item = await loadOrCreateKeys(store, box, now);
  const due = SIGNING_ALGS.filter((alg) => {
    if (item.keys.some((k) => k.alg === alg && k.activeFrom > now)) return false;
    const current = signingKey(item.keys, alg, now);
    return !current || opts.ifOlderThan === undefined || now - current.activeFrom >= opts.ifOlderThan;
  });
  if (due.length === 0) return { added: [], retiring: [] };
  const activeFrom = now + ROTATION_LEAD_MS;
  const added = await Promise.all(due.map((alg) => newKey(box, store.tenantId, alg, now, activeFrom)));
  await replaceKeys(store, item, [...pruned(item.keys, now), ...added]);
  return {
    added: added.map((k) => ({ kid: k.kid, alg: k.alg, activeFrom: k.activeFrom })),
    retiring: due.flatMap((alg) => {
      const current = signingKey(item.keys, alg, now);
      return current ? [{ kid: current.kid, alg, publishedUntil: activeFrom + VERIFICATION_WINDOW_MS }] : [];
    }),
  };
}

export class UnknownKeyError extends Error {
  constructor(kid: string) {
    super(`the tenant has no signing key "${kid}"`);
    this.name = 'UnknownKeyError';
  }
}

/**
 * Emergency revocation: the key (and its sealed private half) is deleted, so it leaves the JWKS
 * and stops signing at once (warm containers within `KEY_LIST_CACHE_MS`). If it was signing, a
 * waiting next key of its algorithm takes over now, else a new key is made active now: in an
 * emergency there is no waiting for caches; verifiers refetch a JWKS on an unknown `kid`.
 */
export async function revokeKey(
  store: TenantStore,
  box: SecretBox,
  kid: string,
  now = Date.now(),
): Promise<{ revoked: string; replacement?: string }> {
  const item = await loadOrCreateKeys(store, box, now);
  const key = item.keys.find((k) => k.kid === kid);
  if (!key) throw new UnknownKeyError(kid);
  const rest = item.keys.filter((k) => k.kid !== kid);
  let replacement: TenantKeyRecord | undefined;
  if (signingKey(item.keys, key.alg, now)?.kid === kid) {
    const waiting = rest
      .filter((k) => k.alg === key.alg && k.activeFrom > now)
      .sort((a, b) => a.activeFrom - b.activeFrom)[0];
    replacement = waiting
      ? { ...waiting, activeFrom: now }
      : await newKey(box, store.tenantId, key.alg, now, now);
  }
  const keys = replacement ? [...rest.filter((k) => k.kid !== replacement.kid), replacement] : rest;
  await replaceKeys(store, item, keys);
  return { revoked: kid, ...(replacement ? { replacement: replacement.kid } : {}) };
}
