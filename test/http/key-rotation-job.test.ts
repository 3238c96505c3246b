/**
 * The scheduled rotation (functions/jobs/rotate-keys.ts) as the EventBridge rule runs it, against
 * the local server's tables: a tenant made before per-tenant keys gets its keys, a tenant whose
 * keys are fresh is left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/jobs/rotate-keys.js';
import { servicesFor } from '../../functions/services.js';
import { SIGNING_KEYS_KEY, type TenantKeysItem } from '../../functions/signing/tenant-keys.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('scheduled key rotation', () => {
  it('gives keys to a tenant that has none and leaves fresh keys alone', async () => {
    const fresh = await server.tenant();
    const bare = await server.tenant();
    const { tenants } = await servicesFor('us');
    // As if made before per-tenant keys existed.
    await tenants.scoped(bare.id).delete(SIGNING_KEYS_KEY);
    const before = await tenants.scoped(fresh.id).get<TenantKeysItem>(SIGNING_KEYS_KEY);

    const out = await handler();
    expect(out.failed).toBe(0);
    expect(out.tenants).toBeGreaterThanOrEqual(2);
    // Nobody's keys are 30 days old: keys were created, none rotated.
    expect(out.rotated).toBe(0);
    const bareKeys = await tenants.scoped(bare.id).get<TenantKeysItem>(SIGNING_KEYS_KEY);
    expect(bareKeys?.keys.map((k) => k.alg)).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
    expect(await tenants.scoped(fresh.id).get<TenantKeysItem>(SIGNING_KEYS_KEY)).toEqual(before);
  });
});
