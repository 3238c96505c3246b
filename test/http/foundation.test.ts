import { request } from 'node:http';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegionCode } from '../../functions/regions.js';
import { servicesFor } from '../../functions/services.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

const REGIONS: RegionCode[] = ['us', 'au', 'eu'];
const DISCOVERY = '/oidc/.well-known/openid-configuration';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];
/**
 * A malformed Host is a bad request (400 `invalid_host`), told apart from a well-formed host of an
 * unknown tenant (404) — docs/api.md, "Hosts, tenants and regions".
 */
const MALFORMED_HOST_STATUS = 400;

/** The signer behind a tenant's tokens, as the handlers get it. */
async function signerOf(region: RegionCode, tenantId: string) {
  const services = await servicesFor(region);
  return services.signerFor(services.tenants.scoped(tenantId));
}

let server: TestServer;
const tenants = {} as Record<RegionCode, Awaited<ReturnType<TestServer['tenant']>>>;

beforeAll(async () => {
  server = await startTestServer();
  for (const region of REGIONS) tenants[region] = await server.tenant(undefined, region);
});
afterAll(async () => {
  await server.stop();
});

/** A request to the server with any Host header at all (fetch would not send most of these). */
function raw(
  host: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method, setHost: false, headers: { host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectNoStackTrace(body: string): void {
  expect(body).not.toMatch(/^\s*at /m);
  expect(body).not.toMatch(/\bat .*\.(ts|js):\d+/);
  expect(body).not.toMatch(/node_modules|\/functions\/|Error: /);
}

function expectSecurityHeaders(
  headers: { get(name: string): string | null } | Record<string, unknown>,
): void {
  const get = (n: string) =>
    typeof (headers as { get?: unknown }).get === 'function'
      ? (headers as { get(name: string): string | null }).get(n)
      : ((headers as Record<string, string | undefined>)[n] ?? null);
  expect(get('x-content-type-options')).toBe('nosniff');
  expect(get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  expect(get('content-security-policy')).toMatch(/default-src 'none'/);
  expect(get('x-frame-options')).toBe('DENY');
  expect(get('referrer-policy')).toBe('no-referrer');
}

async function fetchJwks(origin: string): Promise<JSONWebKeySet> {
  const res = await http(`${origin}/oidc/jwks`);
  expect(res.status).toBe(200);
  return (await res.json()) as JSONWebKeySet;
}

describe('discovery and JWKS in every region', () => {
  it.each(REGIONS)('serves discovery for a tenant in %s with its own issuer', async (region) => {
    const t = tenants[region];
    const res = await http(`${t.origin}${DISCOVERY}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(t.issuer).toBe(`http://${t.slug}.${region}.localhost:${server.port}/oidc`);
    expect(doc.issuer).toBe(t.issuer);
    expect(doc.jwks_uri).toBe(`${t.issuer}/jwks`);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
    expect(res.headers.get('cache-control')).toMatch(/\bpublic\b/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expectSecurityHeaders(res.headers);
  });

  it.each(REGIONS)('serves the JWKS for a tenant in %s: public signing keys only', async (region) => {
    const res = await http(`${tenants[region].origin}/oidc/jwks`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toMatch(/\bpublic\b/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expectSecurityHeaders(res.headers);
    const { keys } = (await res.json()) as JSONWebKeySet;
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(keys.map((k) => k.alg)).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
    for (const k of keys) {
      expect(k).toMatchObject({ use: 'sig', kid: expect.any(String) });
      const kty: Record<string, string> = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' };
      expect(k.kty).toBe(kty[k.alg!]);
      for (const m of PRIVATE_MEMBERS) expect(k).not.toHaveProperty(m);
    }
  });

  it.each(REGIONS)(
    'a token signed by the %s signer verifies against the JWKS fetched over HTTP',
    async (region) => {
      const t = tenants[region];
      const signer = await signerOf(region, t.id);
      const now = Math.floor(Date.now() / 1000);
      const jwt = await signer.signJwt(
        { iss: t.issuer, sub: 'user-1', aud: t.id, iat: now, exp: now + 60 },
        { typ: 'at+jwt' },
      );
      const jwks = createLocalJWKSet(await fetchJwks(t.origin));
      const { payload, protectedHeader } = await jwtVerify(jwt, jwks, {
        issuer: t.issuer,
        audience: t.id,
        algorithms: ['RS256'],
        typ: 'at+jwt',
      });
      expect(payload.sub).toBe('user-1');
      expect(protectedHeader.kid).toBe(decodeProtectedHeader(jwt).kid);
    },
  );

  it('keeps each region’s keys apart: a token of one region does not verify in another', async () => {
    const kids = await Promise.all(
      REGIONS.map(async (r) => (await fetchJwks(tenants[r].origin)).keys.map((k) => k.kid)),
    );
    expect(new Set(kids.flat()).size).toBe(kids.flat().length);
    const usJwt = await (await signerOf('us', tenants.us.id)).signJwt({ sub: 'x' });
    await expect(jwtVerify(usJwt, createLocalJWKSet(await fetchJwks(tenants.eu.origin)))).rejects.toThrow();
  });

  // Issue 9 item 4: tenants of one region no longer share a key, so a token tenant A mints (with
  // B's API as audience) does not verify against tenant B's JWKS.
  it('gives every tenant of a region its own keys: no two JWKS share a key, and A’s token fails B’s JWKS', async () => {
    const a = tenants.au;
    const b = await server.tenant(undefined, 'au');
    const c = await server.tenant(undefined, 'au');
    const sets = await Promise.all([a, b, c].map(async (t) => (await fetchJwks(t.origin)).keys));
    const thumbprints = await Promise.all(sets.flat().map((k) => calculateJwkThumbprint(k)));
    expect(new Set(thumbprints).size).toBe(thumbprints.length);
    expect(new Set(sets.flat().map((k) => k.kid)).size).toBe(sets.flat().length);
    const now = Math.floor(Date.now() / 1000);
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
      const fromA = await (
        await signerOf('au', a.id)
      ).signJwt(
        { iss: a.issuer, sub: 'x', aud: 'https://api.b.example', iat: now, exp: now + 60 },
        { typ: 'at+jwt', alg },
      );
      await jwtVerify(fromA, createLocalJWKSet(await fetchJwks(a.origin)));
      await expect(jwtVerify(fromA, createLocalJWKSet(await fetchJwks(b.origin)))).rejects.toThrow(
        /no applicable key found/,
      );
    }
  });

  it('accepts the tenant host in upper case', async () => {
    const t = tenants.us;
    const res = await raw(`${t.slug.toUpperCase()}.US.LOCALHOST:${server.port}`, DISCOVERY);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { issuer: string }).issuer).toBe(t.issuer);
  });
});

describe('bad hosts', () => {
  const unknownTenant = () => raw(`nobody-here.us.localhost:${server.port}`, DISCOVERY);

  it.each([
    ['an IP address', () => `127.0.0.1:${server.port}`],
    ['an IPv6 address', () => `[::1]:${server.port}`],
    ['the bare base domain', () => `localhost:${server.port}`],
    ['a wrong base domain', () => `acme.us.example.com:${server.port}`],
    ['an extra label', () => `x.acme.us.localhost:${server.port}`],
    ['an invalid slug', () => `ac_me.us.localhost:${server.port}`],
    ['a 1-character slug', () => `a.us.localhost:${server.port}`],
  ])('answers %s with a JSON error', async (_name, host) => {
    for (const path of [DISCOVERY, '/oidc/jwks']) {
      const res = await raw(host(), path);
      expect(res.status).toBe(MALFORMED_HOST_STATUS);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String) });
      expect(res.headers['cache-control']).toBe('no-store');
      expectSecurityHeaders(res.headers);
      expectNoStackTrace(res.body);
    }
  });

  it('answers an unknown tenant with 404 JSON', async () => {
    const res = await unknownTenant();
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String) });
    expectNoStackTrace(res.body);
    const jwks = await raw(`nobody-here.eu.localhost:${server.port}`, '/oidc/jwks');
    expect(jwks.status).toBe(404);
  });

  it('answers a us tenant requested under eu exactly like an unknown tenant (no hint)', async () => {
    const t = tenants.us;
    const misplaced = await raw(`${t.slug}.eu.localhost:${server.port}`, DISCOVERY);
    const unknown = await unknownTenant();
    expect(misplaced.status).toBe(404);
    expect(misplaced.body).toBe(unknown.body);
    expect(misplaced.body).not.toContain(t.slug);
    expect(misplaced.body).not.toMatch(/\bus\b/);
    expect(misplaced.headers['content-type']).toBe(unknown.headers['content-type']);
    // ...while the same slug under its own region works.
    expect((await raw(`${t.slug}.us.localhost:${server.port}`, DISCOVERY)).status).toBe(200);
  });

  it('answers a region this deployment does not serve with 421', async () => {
    const res = await raw(`${tenants.us.slug}.xx.localhost:${server.port}`, DISCOVERY);
    expect(res.status).toBe(421);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String) });
    expectSecurityHeaders(res.headers);
    expectNoStackTrace(res.body);
  });

  it('never answers a bad host with a 500', async () => {
    const hosts = [
      '127.0.0.1',
      `[::1]:${server.port}`,
      `${'a'.repeat(64)}.us.localhost`,
      'acme.us.localhost:notaport',
      `acme.us.localhost:${server.port}:1`,
      '%00.us.localhost',
      'acme..localhost',
      '.us.localhost',
      'acme.us.localhost.',
      `${'x.'.repeat(200)}localhost`,
      'nobody-here.xx.localhost',
      'nobody-here.us.localhost',
    ];
    for (const host of hosts) {
      const res = await raw(host, DISCOVERY);
      expect(res.status, host).toBeGreaterThanOrEqual(400);
      expect(res.status, host).toBeLessThan(500);
      expectNoStackTrace(res.body);
    }
  });
});

describe('routing', () => {
  it('answers an unknown path with 404 JSON', async () => {
    const res = await http(`${tenants.us.origin}/no/such/path`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ error: 'not_found' });
    expectSecurityHeaders(res.headers);
    expectNoStackTrace(body);
  });

  it('answers a wrong method with 405 and Allow', async () => {
    for (const path of [DISCOVERY, '/oidc/jwks', '/health']) {
      const res = await http(`${tenants.eu.origin}${path}`, { method: 'POST', body: '{}' });
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow'), path).toBe('GET');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({ error: 'method_not_allowed' });
      expectNoStackTrace(body);
    }
    const del = await http(`${tenants.eu.origin}/oidc/jwks`, { method: 'DELETE' });
    expect(del.status).toBe(405);
  });

  it('answers /health with 200 on any host', async () => {
    for (const url of [`http://127.0.0.1:${server.port}/health`, `${tenants.au.origin}/health`]) {
      const res = await http(url);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      expectSecurityHeaders(res.headers);
    }
  });
});
