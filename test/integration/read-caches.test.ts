/**
 * The per-container read caches the federated flow relies on to stay within its DynamoDB budget:
 * action configurations and client existence. A write made through this container is seen at once;
 * one made elsewhere (here: straight to the table, as another Lambda container would) is seen when
 * the cached copy runs out (`TENANT_CACHE_SECONDS`), which is the staleness they allow.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActionRepository } from '../../functions/actions/action.js';
import { createClientSchema } from '../../functions/clients/client.js';
import { ClientRepository, clientExists } from '../../functions/clients/client-repository.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import type { Tenant } from '../../functions/tenants/tenant.js';
import { freshStore } from '../support/dynamo.js';

let table: DynamoStore;
beforeAll(async () => {
  table = await freshStore('caches');
});

function tenant(): { tenant: Tenant; store: TenantStore } {
  const t: Tenant = {
    id: randomUUID(),
    slug: 'cache',
    region: 'us',
    name: 'cache',
    secretHash: 'x',
    defaultOutcome: 'CHALLENGE',
    createdAt: new Date().toISOString(),
  };
  return { tenant: t, store: new TenantStore(table, t.id) };
}

const body = (defaultOutcome: 'ALLOW' | 'BLOCK') => ({
  defaultOutcome,
  rules: [],
  allowEnrollment: true,
  maxAttempts: 5,
});

const storedAction = (defaultOutcome: 'ALLOW' | 'BLOCK') => ({
  action: 'signIn',
  defaultOutcome,
  rulesJson: '[]',
  updatedAt: new Date().toISOString(),
});

describe('action cache', () => {
  it("serves this container's writes at once and another container's once the copy runs out", async () => {
    const { tenant: t, store } = tenant();
    const cached = new ActionRepository(store, t, 60_000);
    const uncached = new ActionRepository(store, t, 0);
    expect(await cached.get('signIn')).toMatchObject({ defaultOutcome: 'CHALLENGE', configured: false });

    // Another container configures the action (straight to the table): this one keeps its copy,
    // the tenant default, until it runs out; without the cache the change is seen at once.
    await store.put({ pk: 'actions', sk: 'signIn' }, storedAction('ALLOW'));
    expect(await cached.get('signIn')).toMatchObject({ defaultOutcome: 'CHALLENGE', configured: false });
    expect(await uncached.get('signIn')).toMatchObject({ defaultOutcome: 'ALLOW', configured: true });

    // A write through this container drops its copy at once.
    await cached.put('signIn', body('BLOCK'));
    expect(await cached.get('signIn')).toMatchObject({ defaultOutcome: 'BLOCK', configured: true });
  });
});

describe('client existence (init-auth clientId)', () => {
  it('answers from a client this container has read, and reads the table otherwise', async () => {
    const { tenant: t, store } = tenant();
    const repo = new ClientRepository(store, t, 60_000);
    const { client } = await repo.create(
      createClientSchema.parse({ client_name: 'web', redirect_uris: ['https://app.example/cb'] }),
    );
    const other = (
      await repo.create(
        createClientSchema.parse({ client_name: 'other', redirect_uris: ['https://app.example/cb'] }),
      )
    ).client;
    expect(await clientExists(store, client.client_id)).toBe(true);
    await repo.get(client.client_id);

    // Deleted by another container (straight from the table): the read copy still answers...
    await store.delete({ pk: 'clients', sk: client.client_id });
    expect(await clientExists(store, client.client_id)).toBe(true);
    // ...while a client never read here is looked up.
    await store.delete({ pk: 'clients', sk: other.client_id });
    expect(await clientExists(store, other.client_id)).toBe(false);

    // Deleted through this container: gone at once.
    const third = (
      await repo.create(
        createClientSchema.parse({ client_name: 'third', redirect_uris: ['https://app.example/cb'] }),
      )
    ).client;
    await repo.get(third.client_id);
    expect(await repo.delete(third.client_id)).toBe(true);
    expect(await clientExists(store, third.client_id)).toBe(false);
  });
});
