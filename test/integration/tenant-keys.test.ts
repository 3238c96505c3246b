/**
 * Per-tenant signing keys on DynamoDB Local: created with the tenant, sealed at rest and bound to
 * it, rotated with overlap (on a moving clock), revoked at once, and opened once per container —
 * with KMS (a local KMS endpoint over HTTP doing real AES-256-GCM, test/support/kms-endpoint.ts)
 * called once, not per token.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsSecretBox } from '../../functions/crypto/kms-secret-box.js';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import { SecretBoxError, type SecretBox } from '../../functions/crypto/secret-box.js';
import { since, snapshot } from '../../functions/metrics.js';
import { startKmsEndpoint, type KmsEndpoint } from '../support/kms-endpoint.js';
import { Lru } from '../../functions/lru.js';
import { SIGNING_ALGS } from '../../functions/signing/signer.js';
import { TenantKeyring, TenantKeyrings } from '../../functions/signing/tenant-keyring.js';
import {
  initialKeys,
  JWKS_MAX_AGE_SECONDS,
  JWKS_STALE_SECONDS,
  KEY_LIST_CACHE_MS,
  revokeKey,
  rotateKeys,
  ROTATION_LEAD_MS,
  SIGNING_KEYS_KEY,
  VERIFICATION_WINDOW_MS,
  type TenantKeysItem,
} from '../../functions/signing/tenant-keys.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import { TenantRepository } from '../../functions/tenants/tenant-repository.js';
import { freshStore } from '../support/dynamo.js';

let raw: DynamoStore;
let box: SecretBox;
let repo: TenantRepository;

beforeAll(async () => {
  raw = await freshStore('tenant-keys');
  box = LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'tenant-keys-')), 'us');
  repo = new TenantRepository(raw, 'us', 0, async (tenantId) => ({
    key: SIGNING_KEYS_KEY,
    item: { ...(await initialKeys(box, tenantId)) },
  }));
});

const slug = () => `k-${randomBytes(4).toString('hex')}`;
const jwksOf = async (ring: TenantKeyring) =>
  createLocalJWKSet({ keys: await ring.publicKeys() } as JSONWebKeySet);
const itemOf = async (tenantId: string) =>
  (await repo.scoped(tenantId).get<TenantKeysItem>(SIGNING_KEYS_KEY))!;

describe('keys created with the tenant', () => {
  it('writes one key per algorithm with the tenant, none of them private in clear', async () => {
    const { tenant } = await repo.create({ slug: slug() });
    const item = await itemOf(tenant.id);
    expect(item.keys.map((k) => k.alg)).toEqual([...SIGNING_ALGS]);
    for (const k of item.keys) {
      expect(k.publicJwk).toMatchObject({ kid: k.kid, alg: k.alg, use: 'sig' });
      expect(k.publicJwk).not.toHaveProperty('d');
      expect(k.sealed).toMatch(/^loc1:/);
    }
    // The private halves, as the keyring opens them, appear nowhere in the stored item.
    const stored = JSON.stringify(item);
    for (const k of item.keys) {
      const priv = JSON.parse(
        await box.open(k.sealed, { tenantId: tenant.id, purpose: `signing-key:${k.kid}` }),
      );
      expect(priv.d).toEqual(expect.any(String));
      expect(stored).not.toContain(priv.d);
    }
    expect(stored).not.toMatch(/"d"\s*:/);
  });

  it('creates keys on first use for a tenant made before per-tenant keys', async () => {
    const old = new TenantRepository(raw, 'us', 0);
    const { tenant } = await old.create({ slug: slug() });
    expect(await repo.scoped(tenant.id).get(SIGNING_KEYS_KEY)).toBeUndefined();
    const ring = new TenantKeyring(repo.scoped(tenant.id), box);
    // Publishing only reads (read-only functions may not write): no keys until the first token.
    expect(await ring.publicKeys()).toEqual([]);
    expect(await ring.algorithms()).toEqual([...SIGNING_ALGS]);
    expect(await repo.scoped(tenant.id).get(SIGNING_KEYS_KEY)).toBeUndefined();
    const jwt = await ring.signJwt({ sub: 'x' });
    await jwtVerify(jwt, await jwksOf(ring));
    expect((await itemOf(tenant.id)).keys).toHaveLength(SIGNING_ALGS.length);
    // A second container (another keyring) finds the same keys rather than making new ones.
    expect(await new TenantKeyring(repo.scoped(tenant.id), box).publicKeys()).toEqual(
      await ring.publicKeys(),
    );
  });

  it('a sealed key copied into another tenant’s item does not open there', async () => {
    const a = (await repo.create({ slug: slug() })).tenant;
    const b = (await repo.create({ slug: slug() })).tenant;
    await repo.scoped(b.id).put(SIGNING_KEYS_KEY, { ...(await itemOf(a.id)) });
    const ring = new TenantKeyring(repo.scoped(b.id), box);
    await expect(ring.signJwt({ sub: 'x' })).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('signs with every algorithm; each verifies against the tenant’s keys, never another tenant’s', async () => {
    const a = new TenantKeyring(repo.scoped((await repo.create({ slug: slug() })).tenant.id), box);
    const b = new TenantKeyring(repo.scoped((await repo.create({ slug: slug() })).tenant.id), box);
    for (const alg of SIGNING_ALGS) {
      const jwt = await a.signJwt({ sub: 'x' }, { alg, typ: 'at+jwt' });
      expect(decodeProtectedHeader(jwt)).toMatchObject({ alg, typ: 'at+jwt' });
      await jwtVerify(jwt, await jwksOf(a), { algorithms: [alg] });
      await expect(jwtVerify(jwt, await jwksOf(b))).rejects.toThrow();
    }
  });
});

describe('rotation on a moving clock', () => {
  it('publishes the next key a JWKS cache lifetime before it signs, keeps the previous one until its tokens expired', async () => {
    const { tenant } = await repo.create({ slug: slug() });
    const store = repo.scoped(tenant.id);
    let now = Date.now();
    const clock = () => now;
    // A new keyring per instant: what a container that just refreshed its key list sees.
    const ring = () => new TenantKeyring(store, box, undefined, clock);
    const kidOf = async () => decodeProtectedHeader(await ring().signJwt({ sub: 'x' })).kid;
    const before = await kidOf();
    const jwksBefore = await ring().publicKeys();

    const result = await rotateKeys(store, box, { now });
    expect(result.added).toHaveLength(SIGNING_ALGS.length);
    const next = result.added.find((k) => k.alg === 'RS256')!;
    expect(next.activeFrom - now).toBe(ROTATION_LEAD_MS);
    // Longer than a verifier's JWKS cache and a container's key-list cache together.
    expect(ROTATION_LEAD_MS).toBeGreaterThan(
      (JWKS_MAX_AGE_SECONDS + JWKS_STALE_SECONDS) * 1000 + KEY_LIST_CACHE_MS,
    );
    // Rotating again while a next key waits changes nothing.
    expect((await rotateKeys(store, box, { now })).added).toEqual([]);

    // Published at once, not signing yet.
    expect((await ring().publicKeys()).map((k) => k.kid)).toEqual(expect.arrayContaining([before, next.kid]));
    now = next.activeFrom - 1;
    expect(await kidOf()).toBe(before);
    // A verifier that fetched the JWKS one cache lifetime before the switch already has the next key.
    now = next.activeFrom - (JWKS_MAX_AGE_SECONDS + JWKS_STALE_SECONDS) * 1000;
    expect((await ring().publicKeys()).map((k) => k.kid)).toContain(next.kid);
    expect(jwksBefore.map((k) => k.kid)).not.toContain(next.kid);

    // Signs from activeFrom; a token the previous key signed just before still verifies until the window ends.
    now = next.activeFrom - 1;
    const oldToken = await ring().signJwt({ sub: 'x', exp: Math.floor(now / 1000) + 86_400 });
    now = next.activeFrom;
    expect(await kidOf()).toBe(next.kid);
    now = next.activeFrom + VERIFICATION_WINDOW_MS - 1;
    // The JWKS at the window's last moment still has the key the token needs, just before the token expires.
    await jwtVerify(oldToken, await jwksOf(ring()), {
      currentDate: new Date(next.activeFrom + 86_400_000 - 5_000),
    });
    now = next.activeFrom + VERIFICATION_WINDOW_MS;
    expect((await ring().publicKeys()).map((k) => k.kid)).not.toContain(before);
    await expect(jwtVerify(oldToken, await jwksOf(ring()))).rejects.toThrow();

    // The next rotation prunes the stored record of the expired key.
    await rotateKeys(store, box, { now });
    expect((await itemOf(tenant.id)).keys.map((k) => k.kid)).not.toContain(before);
  });

  it('the scheduled rotation only rotates keys that have signed long enough', async () => {
    const { tenant } = await repo.create({ slug: slug() });
    const store = repo.scoped(tenant.id);
    const now = Date.now();
    expect((await rotateKeys(store, box, { now, ifOlderThan: 86_400_000 })).added).toEqual([]);
    expect(
      (await rotateKeys(store, box, { now: now + 86_400_000, ifOlderThan: 86_400_000 })).added,
    ).toHaveLength(SIGNING_ALGS.length);
  });

  it('revocation removes a key from the JWKS at once, and a replacement signs', async () => {
    const { tenant } = await repo.create({ slug: slug() });
    const store = repo.scoped(tenant.id);
    let now = Date.now();
    const clock = () => now;
    const warm = new TenantKeyring(store, box, undefined, clock);
    const revoked = decodeProtectedHeader(await warm.signJwt({ sub: 'x' })).kid!;
    const out = await revokeKey(store, box, revoked, now);
    expect(out.replacement).toEqual(expect.any(String));
    const fresh = new TenantKeyring(store, box, undefined, clock);
    expect((await fresh.publicKeys()).map((k) => k.kid)).not.toContain(revoked);
    expect(decodeProtectedHeader(await fresh.signJwt({ sub: 'x' })).kid).toBe(out.replacement);
    // A warm container follows within its key-list cache.
    now += KEY_LIST_CACHE_MS;
    expect((await warm.publicKeys()).map((k) => k.kid)).not.toContain(revoked);
    expect(decodeProtectedHeader(await warm.signJwt({ sub: 'x' })).kid).toBe(out.replacement);
    // A waiting next key takes over at once when the current one is revoked.
    const { added } = await rotateKeys(store, box, { now });
    const rsNext = added.find((k) => k.alg === 'RS256')!;
    const current = decodeProtectedHeader(await fresh.signJwt({ sub: 'x' })).kid!;
    expect((await revokeKey(store, box, current, now)).replacement).toBe(rsNext.kid);
  });
});

describe('a warm container', () => {
  it('keeps at most its capacity of tenants, least recently used forgotten first', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect([lru.get('a'), lru.get('c'), lru.size]).toEqual([1, 3, 2]);
  });
});

describe('SIGNER=tenant with KMS sealing (a local KMS endpoint doing real AES-256-GCM)', () => {
  let kms: KmsEndpoint;
  beforeAll(async () => {
    kms = await startKmsEndpoint();
    kms.addSymmetricKey('arn:aws:kms:us-west-2:111122223333:key/secrets-us', ['alias/identity-secrets-us']);
  });
  afterAll(() => kms.close());

  it('the first token opens the key (one KMS Decrypt); the next tokens make no KMS call', async () => {
    const kmsBox = new KmsSecretBox(kms.client(), 'alias/identity-secrets-us');
    const kmsRepo = new TenantRepository(raw, 'us', 0, async (tenantId) => ({
      key: SIGNING_KEYS_KEY,
      item: { ...(await initialKeys(kmsBox, tenantId)) },
    }));
    const { tenant } = await kmsRepo.create({ slug: slug() });
    expect(kms.inputsOf('Encrypt')).toHaveLength(SIGNING_ALGS.length);
    const rings = new TenantKeyrings(kmsBox);
    const ring = () => rings.for(kmsRepo.scoped(tenant.id));
    kms.calls.length = 0;

    const first = snapshot();
    const jwt = await ring().signJwt({ sub: 'x' });
    await jwtVerify(jwt, await jwksOf(ring()));
    expect(kms.inputsOf('Decrypt')).toHaveLength(1);
    expect(since(first)).toMatchObject({ 'kms:Decrypt': 1, 'signer:signJwt': 1 });

    const warm = snapshot();
    for (let i = 0; i < 20; i++)
      await jwtVerify(await ring().signJwt({ sub: `u${i}` }), await jwksOf(ring()));
    expect(kms.inputsOf('Decrypt')).toHaveLength(1);
    const counted = since(warm);
    expect(counted['signer:signJwt']).toBe(20);
    expect(Object.keys(counted).filter((k) => k.startsWith('kms:'))).toEqual([]);

    // The context binds the ciphertext to the tenant and key: KMS refuses it under another tenant.
    const item = await itemOf(tenant.id);
    const other = (await kmsRepo.create({ slug: slug() })).tenant;
    await kmsRepo.scoped(other.id).put(SIGNING_KEYS_KEY, { ...item });
    await expect(rings.for(kmsRepo.scoped(other.id)).signJwt({ sub: 'x' })).rejects.toBeInstanceOf(
      SecretBoxError,
    );
  });
});
