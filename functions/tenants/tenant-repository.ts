import { randomUUID } from 'node:crypto';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import type { RegionCode } from '../regions.js';
import { ConditionFailedError, type Item, type Key, type Store } from '../store/store.js';
import { TenantStore, tenantKey, tenantPartitionPrefix } from '../store/tenant-store.js';
import { slugSchema, type Outcome, type Tenant } from './tenant.js';
import { ReadCache } from '../read-cache.js';
import type { TenantSettingsFields } from './settings.js';

/**
 * Keys: the tenant record lives at `tenant` in the tenant's own partitions (`<tenantId>#tenant`);
 * the slug directory entry, the one item not under a tenant id (it is how a host finds its
 * tenant), at `slug#<slug>`.
 */
const SLUG_PREFIX = 'slug#';
const slugKey = (slug: string): Key => ({ pk: `${SLUG_PREFIX}${slug}`, sk: 'slug' });
export const TENANT_KEY = { pk: 'tenant', sk: 'tenant' } as const;
const tenantRecordKey = (tenantId: string): Key => tenantKey(tenantId, TENANT_KEY);

export class SlugTakenError extends Error {
  constructor(slug: string) {
    super(`the slug "${slug}" is already taken in this region`);
    this.name = 'SlugTakenError';
  }
}
export class InvalidSlugError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSlugError';
  }
}
export class UnknownTenantError extends Error {
  constructor(slug: string) {
    super(`no tenant "${slug}" in this region`);
    this.name = 'UnknownTenantError';
  }
}

export interface CreatedTenant {
  tenant: Tenant;
  /** Shown once; only its hash is stored. */
  secret: string;
}

/** An item a new tenant starts with, in its own partition (its signing keys): key relative to the tenant. */
export type TenantStarter = (tenantId: string) => Promise<{ key: Key; item: Item }>;

/** Tenants of one region's table, with a short-lived cache of host lookups for warm containers. */
export class TenantRepository {
  private readonly cache = new ReadCache<Tenant>();

  constructor(
    private readonly store: Store,
    readonly region: RegionCode,
    private readonly cacheMs = 10_000,
    /** Written in the same transaction as the tenant: its signing keys (functions/signing/tenant-keys.ts). */
    private readonly starter?: TenantStarter,
  ) {}

  scoped(tenantId: string): TenantStore {
    return new TenantStore(this.store, tenantId);
  }

  async create(input: {
    slug: string;
    name?: string;
    defaultOutcome?: Outcome;
    brandColor?: string;
  }): Promise<CreatedTenant> {
    const parsed = slugSchema.safeParse(input.slug);
    if (!parsed.success) throw new InvalidSlugError(parsed.error.issues.map((i) => i.message).join('; '));
    const slug = parsed.data;
    const secret = randomSecret();
    const tenant: Tenant = {
      id: randomUUID(),
      slug,
      region: this.region,
      name: input.name ?? slug,
      secretHash: sha256(secret),
      defaultOutcome: input.defaultOutcome ?? 'CHALLENGE',
      ...(input.brandColor ? { brandColor: input.brandColor.toLowerCase() } : {}),
      createdAt: new Date().toISOString(),
    };
    const starter = this.starter ? await this.starter(tenant.id) : undefined;
    try {
      // One transaction: the slug is claimed and the tenant (with its keys) written together, or nothing.
      await this.store.transact([
        { put: { key: slugKey(slug), item: { tenantId: tenant.id }, ifAbsent: true } },
        { put: { key: tenantRecordKey(tenant.id), item: { ...tenant } } },
        ...(starter ? [{ put: { key: tenantKey(tenant.id, starter.key), item: starter.item } }] : []),
      ]);
    } catch (err) {
      if (err instanceof ConditionFailedError) throw new SlugTakenError(slug);
      throw err;
    }
    return { tenant, secret };
  }

  async findById(tenantId: string): Promise<Tenant | undefined> {
    return this.scoped(tenantId).get<Tenant & Record<string, unknown>>(TENANT_KEY);
  }

  /**
   * The tenant behind a host's slug; cached briefly, so a warm container does not read it on every
   * request. Misses are not cached: a new tenant works at once.
   */
  async findBySlug(slug: string): Promise<Tenant | undefined> {
    return this.cache.get(slug, this.cacheMs, async () => {
      const entry = await this.store.get<{ tenantId: string }>(slugKey(slug));
      return entry ? this.findById(entry.tenantId) : undefined;
    });
  }

  async list(): Promise<Tenant[]> {
    const entries = await this.store.scanPrefix<{ tenantId: string }>(SLUG_PREFIX);
    const tenants = await Promise.all(entries.map((e) => this.findById(e.tenantId)));
    return tenants.filter((t): t is Tenant => Boolean(t)).sort((a, b) => a.slug.localeCompare(b.slug));
  }

  async require(slug: string): Promise<Tenant> {
    this.cache.forget(slug);
    const tenant = await this.findBySlug(slug);
    if (!tenant) throw new UnknownTenantError(slug);
    return tenant;
  }

  /** Replaces the tenant's secret; the old one stops working (warm containers within the cache TTL). */
  async rotateSecret(slug: string): Promise<CreatedTenant> {
    const tenant = await this.require(slug);
    const secret = randomSecret();
    const updated = await this.scoped(tenant.id).update<Tenant & Record<string, unknown>>(TENANT_KEY, {
      secretHash: sha256(secret),
      secretRotatedAt: new Date().toISOString(),
    });
    this.cache.forget(slug);
    return { tenant: updated, secret };
  }

  /** Update tenant settings other than the secret (name, default outcome, functions/tenants/settings.ts). */
  async updateSettings(
    tenantId: string,
    set: Partial<Pick<Tenant, 'name' | 'defaultOutcome' | 'brandColor'>> & TenantSettingsFields,
  ): Promise<Tenant> {
    const updated = await this.scoped(tenantId).update<Tenant & Record<string, unknown>>(TENANT_KEY, {
      ...set,
    });
    this.cache.forget(updated.slug);
    return updated;
  }

  /**
   * Deletes the tenant: first the slug and tenant record together (the host stops resolving at
   * once), then every other item under the tenant id (an operator-run scan).
   */
  async delete(slug: string): Promise<{ tenant: Tenant; itemsDeleted: number }> {
    const tenant = await this.require(slug);
    await this.store.transact([
      { delete: { key: slugKey(slug) } },
      { delete: { key: tenantRecordKey(tenant.id) } },
    ]);
    this.cache.forget(slug);
    const rest = await this.store.scanPrefix<{ pk: string; sk: string }>(tenantPartitionPrefix(tenant.id));
    for (const item of rest) await this.store.delete({ pk: item.pk, sk: item.sk });
    return { tenant, itemsDeleted: rest.length + 2 };
  }
}
