import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('discovery', () => {
  it('names the tenant issuer for a tenant in each region', async () => {
    for (const region of ['us', 'au', 'eu'] as const) {
      const t = await server.tenant(undefined, region);
      const res = await http(`${t.origin}/oidc/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { issuer: string; jwks_uri: string };
      expect(doc.issuer).toBe(t.issuer);
      expect(doc.jwks_uri).toBe(`${t.issuer}/jwks`);
    }
  });
});
