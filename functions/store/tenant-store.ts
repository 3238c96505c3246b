import type { ConsumeResult, IncrementOptions, Item, Key, Store, UpdateOptions, WriteOp } from './store.js';

/**
 * Tenant first: every partition key of a tenant's items starts with the tenant id. This is the one
 * place that knows how; the tenant registry uses it for the few writes it makes on the whole table.
 */
export const tenantPartitionPrefix = (tenantId: string) => `${tenantId}#`;

/** Where a tenant-relative key lives in the region's table. */
export const tenantKey = (tenantId: string, key: Key): Key => ({
  pk: `${tenantPartitionPrefix(tenantId)}${key.pk}`,
  sk: key.sk,
});

/**
 * A view of the region's table that can only reach one tenant's items: every partition key it
 * writes or reads is prefixed with the tenant id, so no query can cross tenants by construction.
 * Use-cases only ever get one of these.
 */
export class TenantStore {
  constructor(
    private readonly store: Store,
    readonly tenantId: string,
  ) {}

  private k(key: Key): Key {
    return tenantKey(this.tenantId, key);
  }

  get<T extends Item>(key: Key): Promise<T | undefined> {
    return this.store.get<T>(this.k(key));
  }
  batchGet<T extends Item>(keys: readonly Key[]): Promise<(T | undefined)[]> {
    return this.store.batchGet<T>(keys.map((key) => this.k(key)));
  }
  put(key: Key, item: Item, opts?: { ifAbsent?: boolean }): Promise<void> {
    return this.store.put(this.k(key), item, opts);
  }
  update<T extends Item>(key: Key, set: Item, opts?: UpdateOptions): Promise<T> {
    return this.store.update<T>(this.k(key), set, opts);
  }
  addToSet(key: Key, attr: string, values: readonly string[]): Promise<void> {
    return this.store.addToSet(this.k(key), attr, values);
  }
  delete(key: Key): Promise<void> {
    return this.store.delete(this.k(key));
  }
  query<T extends Item>(pk: string, skPrefix?: string): Promise<T[]> {
    return this.store.query<T>(`${tenantPartitionPrefix(this.tenantId)}${pk}`, skPrefix);
  }
  consume<T extends Item>(key: Key, extra?: Item): Promise<ConsumeResult<T>> {
    return this.store.consume<T>(this.k(key), extra);
  }
  increment<T extends Item>(key: Key, attr: string | readonly string[], opts?: IncrementOptions): Promise<T> {
    return this.store.increment<T>(this.k(key), attr, opts);
  }
  transact(ops: WriteOp[]): Promise<void> {
    return this.store.transact(
      ops.map((op): WriteOp => {
        if ('put' in op) return { put: { ...op.put, key: this.k(op.put.key) } };
        if ('delete' in op) return { delete: { ...op.delete, key: this.k(op.delete.key) } };
        if ('consume' in op) return { consume: { ...op.consume, key: this.k(op.consume.key) } };
        if ('check' in op) return { check: { ...op.check, key: this.k(op.check.key) } };
        return { update: { ...op.update, key: this.k(op.update.key) } };
      }),
    );
  }
}
