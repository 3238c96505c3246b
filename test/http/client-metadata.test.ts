/**
 * Client registration and the client routes as an attacker scripts them: one validator for the
 * redirect URIs and scope of create and PATCH (no control characters or whitespace, plain http only
 * for loopback hosts), and client ids no store key can hold answered 404 like any unknown client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_TYPE, body, docAuth, type TestTenant } from '../support/flow.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
let app: RegisteredClient;
beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  app = await registerClient(t, { redirect_uris: ['https://app.example.com/cb'] });
});
afterAll(async () => {
  await server.stop();
});

function call(method: string, path: string, payload?: unknown) {
  return http(`${t.origin}${path}`, {
    method,
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
  });
}

const BAD_REDIRECTS = [
  'https://app.example.com/cb\n',
  'https://app.example.com/c\tb',
  ' https://app.example.com/cb',
  'https://app.example.com/cb ',
  'https://app.example.com/c b',
  'https://app.example.com/cb\u0000',
  'https://app.example.com/cb\u007f',
  'https://app.example.com/cb\u0085',
  'https://app.example.com/cb\u00a0',
  'https://app.example.com/cb\u2028',
  'https://app.example.com/cb\r\nSet-Cookie: x=1',
  'http://app.example.com/cb',
  'http://127.0.0.2/cb',
  'http://localhost.evil.example/cb',
  'http://10.0.0.1/cb',
  'http://[::2]/cb',
];
const GOOD_REDIRECTS = [
  'https://app.example.com/cb',
  'http://localhost:3000/cb',
  'http://app.localhost/cb',
  'http://127.0.0.1:8080/cb',
  'http://[::1]:8080/cb',
  'com.example.app:/cb',
];

describe('redirect URIs: one validator for create and PATCH', () => {
  it.each(BAD_REDIRECTS)('refuses %j at create and at PATCH, and PATCH changes nothing', async (uri) => {
    for (const field of ['redirect_uris', 'post_logout_redirect_uris']) {
      const created = await call('POST', '/v1/clients', { client_name: 'x', [field]: [uri] });
      expect(created.status, await created.clone().text()).toBe(400);
      expect((await body(created)).error).toMatch(/^invalid_/);
      const patched = await call('PATCH', `/v1/clients/${app.client_id}`, { [field]: [uri] });
      expect(patched.status).toBe(400);
      expect((await body(patched)).error).toMatch(/^invalid_/);
    }
    const now = await body<{ redirect_uris: string[] }>(await call('GET', `/v1/clients/${app.client_id}`));
    expect(now.redirect_uris).toEqual(['https://app.example.com/cb']);
  });

  it.each(GOOD_REDIRECTS)('accepts %j at create and at PATCH', async (uri) => {
    const created = await call('POST', '/v1/clients', { client_name: 'x', redirect_uris: [uri] });
    expect(created.status, await created.clone().text()).toBe(201);
    const id = (await body<{ client_id: string }>(created)).client_id;
    const patched = await call('PATCH', `/v1/clients/${id}`, {
      redirect_uris: [uri, 'https://b.example.com/'],
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
  });
});

describe('scope: PATCH validates it exactly like create', () => {
  it.each(['', ' openid', 'openid  profile', 'openid\tprofile', 'openid "x"', 'openid\\x', 'openid\n'])(
    'refuses %j at create and at PATCH',
    async (scope) => {
      const created = await call('POST', '/v1/clients', { client_name: 'x', scope });
      expect(created.status).toBe(400);
      const patched = await call('PATCH', `/v1/clients/${app.client_id}`, { scope });
      expect(patched.status, await patched.clone().text()).toBe(400);
      expect((await body(patched)).error).toMatch(/^invalid_/);
    },
  );

  it('a valid scope is accepted by both', async () => {
    const patched = await call('PATCH', `/v1/clients/${app.client_id}`, { scope: 'openid profile' });
    expect(patched.status).toBe(200);
    expect((await body<{ scope: string }>(patched)).scope).toBe('openid profile');
  });
});

describe('client ids no key can hold answer 404, never 500', () => {
  const ids = ['a'.repeat(1300), 'b'.repeat(5000), encodeURIComponent('é'.repeat(700)), '%00', 'x%0Ay'];
  it.each(ids.map((id) => [id.slice(0, 20), id]))(
    '%s… at GET, PATCH, DELETE and the secret route',
    async (_l, id) => {
      for (const [method, path, payload] of [
        ['GET', `/v1/clients/${id}`, undefined],
        ['PATCH', `/v1/clients/${id}`, { client_name: 'y' }],
        ['DELETE', `/v1/clients/${id}`, undefined],
        ['POST', `/v1/clients/${id}/secret`, undefined],
      ] as const) {
        const res = await call(method, path, payload);
        expect(res.status, `${method} ${await res.clone().text()}`).toBe(404);
        expect((await body(res)).error).toBeTruthy();
      }
    },
  );
});
