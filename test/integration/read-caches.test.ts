/**
 * The per-container read caches the federated flow and client_credentials rely on to stay within
 * their DynamoDB budget: action configurations, client existence and the auth-failure counters. A write made through this container is seen at once;
 * one made elsewhere (here: straight to the table, as another Lambda container would) is seen when
 * the cached copy runs out (`TENANT_CACHE_SECONDS`), which is the staleness they allow.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ActionRepository } from '../../functions/actions/action.js';
import {
  AUTH_FAILURE_WINDOW_SECONDS,
  MAX_AUTH_FAILURES_PER_IP,
  limitAuthenticationFailures,
} from '../../functions/clients/auth-failures.js';
import { createClientSchema } from '../../functions/clients/client.js';
import { ProtocolError } from '../../functions/errors.js';
import { ClientRepository, clientExists } from '../../functions/clients/client-repository.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import type { Tenant } from '../../functions/tenants/tenant.js';
import { freshStore } from '../support/dynamo.js';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import { IdentityProviderRepository, putProviderSchema } from '../../functions/upstream/provider.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

describe('auth-failure counters (per-container copy)', () => {
  const wrong = () => {
    throw new ProtocolError(401, 'invalid_client', 'wrong secret');
  };
  const right = () => 'ok';
  const status = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (err: unknown) => (err instanceof ProtocolError ? err.status : 500),
    );

  it("a source failing here is judged on fresh counters; other containers' failures are seen late", async () => {
    const { store } = tenant();
    const now = Date.now();
    const window = Math.floor(now / 1000 / AUTH_FAILURE_WINDOW_SECONDS);
    const cache = 60_000;

    // A clean source is read once, then served from the copy: failures another container
    // counted for it (written straight to the table) are not seen while the copy lasts...
    expect(await status(limitAuthenticationFailures(store, '198.51.100.7', right, now, cache))).toBe(200);
    await store.put(
      { pk: 'auth-failures#ip#198.51.100.7', sk: String(window) },
      { count: MAX_AUTH_FAILURES_PER_IP, expiresAt: (window + 2) * AUTH_FAILURE_WINDOW_SECONDS },
    );
    expect(await status(limitAuthenticationFailures(store, '198.51.100.7', right, now, cache))).toBe(200);
    // ...while without the copy they are.
    expect(await status(limitAuthenticationFailures(store, '198.51.100.7', right, now, 0))).toBe(429);

    // A source that fails here drops the copy each time: the limit holds exactly.
    for (let i = 0; i < MAX_AUTH_FAILURES_PER_IP; i++)
      expect(await status(limitAuthenticationFailures(store, '203.0.113.9', wrong, now, cache))).toBe(401);
    expect(await status(limitAuthenticationFailures(store, '203.0.113.9', right, now, cache))).toBe(429);
  });
});

describe("the sign-in page's upstream providers", () => {
  it('are read once per cache lifetime; a put or delete in this container shows at once; the API list is never cached', async () => {
    const { store } = tenant();
    const box = LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'idp-box-')), 'us');
    const providers = new IdentityProviderRepository(store, box, 'https://cache.us.localhost');
    const query = vi.spyOn(store, 'query');
    try {
      expect(await providers.listForLogin()).toEqual([]);
      expect(await providers.listForLogin()).toEqual([]);
      expect(query).toHaveBeenCalledTimes(1);
      const input = putProviderSchema.parse({
        type: 'google',
        name: 'Google',
        client_id: 'c',
        client_secret: 's',
      });
      await providers.put('google', input);
      expect((await providers.listForLogin()).map((p) => p.id)).toEqual(['google']);
      await providers.listForLogin();
      expect(query).toHaveBeenCalledTimes(2);
      // The management API's list reads the table every time.
      await providers.list();
      await providers.list();
      expect(query).toHaveBeenCalledTimes(4);
      expect(await providers.delete('google')).toBe(true);
      expect(await providers.listForLogin()).toEqual([]);
      expect(query).toHaveBeenCalledTimes(5);
    } finally {
      query.mockRestore();
    }
  });
});
