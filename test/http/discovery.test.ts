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

describe('authorization server metadata (RFC 8414)', () => {
  it('is served at the path-inserted well-known URI, the same document as discovery', async () => {
    const t = await server.tenant();
    const oidc = await http(`${t.origin}/oidc/.well-known/openid-configuration`);
    const res = await http(`${t.origin}/.well-known/oauth-authorization-server/oidc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as Record<string, unknown>;
    // RFC 8414 §3.3: the issuer is the URI the metadata URI was built from.
    expect(doc.issuer).toBe(t.issuer);
    expect(doc).toEqual(await oidc.json());
  });

  it('the bare well-known URI (an issuer without path) is not this issuer’s: 404', async () => {
    const t = await server.tenant();
    const res = await http(`${t.origin}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(404);
  });
});
