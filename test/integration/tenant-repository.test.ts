import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { secretMatches, sha256 } from '../../functions/crypto/secrets.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import {
  InvalidSlugError,
  SlugTakenError,
  TENANT_KEY,
  TenantRepository,
  UnknownTenantError,
} from '../../functions/tenants/tenant-repository.js';
import { freshStore } from '../support/dynamo.js';

let store: DynamoStore;
let repo: TenantRepository;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const slug = (prefix = 't') => `${prefix}-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  store = await freshStore('tenants');
  repo = new TenantRepository(store, 'eu', 0);
});

/** Every physical item of a tenant (and its slug entry), read past the repository. */
async function physical(tenantId: string, tenantSlug: string) {
  return [
    ...(await store.scanPrefix<Record<string, unknown>>(`${tenantId}#`)),
    ...(await store.scanPrefix<Record<string, unknown>>(`slug#${tenantSlug}`)),
  ];
}

describe('TenantRepository.create', () => {
  it('returns a 256-bit secret and stores only its SHA-256', async () => {
    const s = slug();
    const { tenant, secret } = await repo.create({ slug: s, name: 'Acme Ltd' });
    expect(tenant).toMatchObject({ slug: s, region: 'eu', name: 'Acme Ltd', defaultOutcome: 'CHALLENGE' });
    expect(tenant.id).toMatch(UUID);
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(tenant.secretHash).toBe(sha256(secret));
    expect(tenant).not.toHaveProperty('secret');

    const items = await physical(tenant.id, s);
    expect(items).toHaveLength(2);
    const record = items.find((i) => i.sk === TENANT_KEY.sk)!;
    expect(record).toMatchObject({
      pk: `${tenant.id}#tenant`,
      id: tenant.id,
      slug: s,
      secretHash: sha256(secret),
    });
    expect(secretMatches(secret, record.secretHash as string)).toBe(true);
    // The clear secret is nowhere at rest, under any attribute.
    for (const item of items) expect(JSON.stringify(item)).not.toContain(secret);
    expect(items.find((i) => i.pk === `slug#${s}`)).toMatchObject({ tenantId: tenant.id });
  });

  it('takes a default name and outcome, and accepts an explicit outcome', async () => {
    const s = slug();
    const { tenant } = await repo.create({ slug: s, defaultOutcome: 'ALLOW' });
    expect(tenant).toMatchObject({ name: s, defaultOutcome: 'ALLOW' });
    expect(await repo.findById(tenant.id)).toEqual(tenant);
  });

  it('gives every tenant its own id and secret', async () => {
    const a = await repo.create({ slug: slug() });
    const b = await repo.create({ slug: slug() });
    expect(a.tenant.id).not.toBe(b.tenant.id);
    expect(a.secret).not.toBe(b.secret);
  });

  it('refuses a slug that is taken, leaving the first tenant intact', async () => {
    const s = slug();
    const first = await repo.create({ slug: s });
    await expect(repo.create({ slug: s })).rejects.toBeInstanceOf(SlugTakenError);
    expect(await repo.findBySlug(s)).toEqual(first.tenant);
    expect((await repo.list()).filter((t) => t.slug === s)).toHaveLength(1);
  });

  it('of 5 concurrent creates of one slug, exactly one wins and the rest are told the slug is taken', async () => {
    const s = slug();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => repo.create({ slug: s })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const r of lost) expect(r.reason).toBeInstanceOf(SlugTakenError);
    const winner = won[0]!.value;
    expect(await repo.findBySlug(s)).toEqual(winner.tenant);
    // The losers left no orphan tenant records behind.
    const records = (await store.scanPrefix<{ sk: string; slug?: string }>('')).filter(
      (i) => i.sk === TENANT_KEY.sk && i.slug === s,
    );
    expect(records).toHaveLength(1);
  });

  it.each([
    ['one character', 'a'],
    ['64 characters', `a${'b'.repeat(63)}`],
    ['upper case', 'Acme'],
    ['an underscore', 'ac_me'],
    ['a dot', 'ac.me'],
    ['a leading hyphen', '-acme'],
    ['a trailing hyphen', 'acme-'],
    ['a double hyphen', 'ac--me'],
    ['a space', 'ac me'],
    ['empty', ''],
    ['a reserved name', 'www'],
    ['a reserved name (oidc)', 'oidc'],
  ])('refuses a slug with %s', async (_name, bad) => {
    await expect(repo.create({ slug: bad })).rejects.toBeInstanceOf(InvalidSlugError);
  });

  it('accepts 2- and 63-character slugs', async () => {
    const two = `${randomBytes(1).toString('hex')}`;
    const long = `x${randomBytes(31).toString('hex')}`;
    expect(long).toHaveLength(63);
    // `two` may collide with an earlier run's slug in this table: a fresh table per file prevents that.
    expect((await repo.create({ slug: two })).tenant.slug).toBe(two);
    expect((await repo.create({ slug: long })).tenant.slug).toBe(long);
  });
});

describe('TenantRepository lookups', () => {
  it('finds a tenant by slug and by id; unknown ones are undefined', async () => {
    const s = slug();
    const { tenant } = await repo.create({ slug: s });
    expect(await repo.findBySlug(s)).toEqual(tenant);
    expect(await repo.findById(tenant.id)).toEqual(tenant);
    expect(await repo.findBySlug(slug('missing'))).toBeUndefined();
    expect(await repo.findById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    await expect(repo.require(slug('missing'))).rejects.toBeInstanceOf(UnknownTenantError);
  });

  it('does not find a tenant of another region’s table', async () => {
    const other = new TenantRepository(await freshStore('tenants-us'), 'us', 0);
    const s = slug();
    await other.create({ slug: s });
    expect(await repo.findBySlug(s)).toBeUndefined();
    // ...and the same slug is free in this region.
    expect((await repo.create({ slug: s })).tenant.region).toBe('eu');
  });

  it('lists tenants sorted by slug', async () => {
    const own = new TenantRepository(await freshStore('tenants-list'), 'au', 0);
    expect(await own.list()).toEqual([]);
    const c = await own.create({ slug: 'charlie' });
    const a = await own.create({ slug: 'alpha' });
    const b = await own.create({ slug: 'bravo' });
    expect(await own.list()).toEqual([a.tenant, b.tenant, c.tenant]);
  });
});

describe('TenantRepository.rotateSecret', () => {
  it('replaces the stored hash: the new secret matches, the old one no longer does', async () => {
    const s = slug();
    const created = await repo.create({ slug: s });
    const rotated = await repo.rotateSecret(s);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.tenant.secretHash).toBe(sha256(rotated.secret));
    expect(rotated.tenant.secretRotatedAt).toEqual(expect.any(String));
    const stored = (await repo.findBySlug(s))!;
    expect(stored.secretHash).toBe(sha256(rotated.secret));
    expect(secretMatches(rotated.secret, stored.secretHash)).toBe(true);
    expect(secretMatches(created.secret, stored.secretHash)).toBe(false);
    expect(stored).toMatchObject({ id: created.tenant.id, slug: s, createdAt: created.tenant.createdAt });
    for (const item of await physical(created.tenant.id, s))
      expect(JSON.stringify(item)).not.toContain(rotated.secret);
  });

  it('is visible at once through a caching repository', async () => {
    const cached = new TenantRepository(store, 'eu', 60_000);
    const s = slug();
    await cached.create({ slug: s });
    await cached.findBySlug(s); // warm the cache
    const rotated = await cached.rotateSecret(s);
    expect((await cached.findBySlug(s))!.secretHash).toBe(sha256(rotated.secret));
  });

  it('refuses an unknown slug', async () => {
    await expect(repo.rotateSecret(slug('missing'))).rejects.toBeInstanceOf(UnknownTenantError);
  });
});

describe('TenantRepository.delete', () => {
  it('removes the tenant, its slug and all its items, and nothing of another tenant', async () => {
    const victim = await repo.create({ slug: slug('victim') });
    const bystander = await repo.create({ slug: slug('bystander') });
    const v = repo.scoped(victim.tenant.id);
    const b = repo.scoped(bystander.tenant.id);
    for (const st of [v, b]) {
      await st.put({ pk: 'client#web', sk: 'client' }, { name: 'web' });
      await st.put({ pk: 'client#web', sk: 'secret#1' }, { hash: 'h' });
      await st.put({ pk: 'code#abc', sk: 'code' }, { expiresAt: Math.floor(Date.now() / 1000) + 600 });
      await st.put({ pk: 'user#1', sk: 'user' }, { email: 'a@example.com' });
    }

    const result = await repo.delete(victim.tenant.slug);
    expect(result.tenant.id).toBe(victim.tenant.id);
    expect(result.itemsDeleted).toBe(6);

    expect(await physical(victim.tenant.id, victim.tenant.slug)).toEqual([]);
    expect(await repo.findBySlug(victim.tenant.slug)).toBeUndefined();
    expect(await repo.findById(victim.tenant.id)).toBeUndefined();
    expect(await v.get({ pk: 'user#1', sk: 'user' })).toBeUndefined();
    expect((await repo.list()).map((t) => t.id)).not.toContain(victim.tenant.id);

    expect(await repo.findBySlug(bystander.tenant.slug)).toEqual(bystander.tenant);
    expect(await b.get({ pk: 'user#1', sk: 'user' })).toEqual({ email: 'a@example.com' });
    expect(await b.query('client#web')).toHaveLength(2);
    expect(await physical(bystander.tenant.id, bystander.tenant.slug)).toHaveLength(6);
  });

  it('frees the slug for a new tenant, which sees none of the old items', async () => {
    const s = slug();
    const old = await repo.create({ slug: s });
    await repo.scoped(old.tenant.id).put({ pk: 'user#1', sk: 'user' }, { v: 1 });
    await repo.delete(s);
    const fresh = await repo.create({ slug: s });
    expect(fresh.tenant.id).not.toBe(old.tenant.id);
    expect(await repo.scoped(fresh.tenant.id).get({ pk: 'user#1', sk: 'user' })).toBeUndefined();
  });

  it('stops resolving at once through a caching repository', async () => {
    const cached = new TenantRepository(store, 'eu', 60_000);
    const s = slug();
    await cached.create({ slug: s });
    expect(await cached.findBySlug(s)).toBeDefined();
    await cached.delete(s);
    expect(await cached.findBySlug(s)).toBeUndefined();
  });

  it('refuses an unknown slug', async () => {
    await expect(repo.delete(slug('missing'))).rejects.toBeInstanceOf(UnknownTenantError);
  });
});
