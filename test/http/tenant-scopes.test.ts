/**
 * Tenant-defined scopes: managed at /v1/scopes (validated, bounded, audited, per tenant), their
 * claims released at userinfo to a client registered with the scope, after a consent page that
 * shows the scope's description; discovery lists them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { body, docAuth, federatedTenant, JSON_TYPE, verify, type TestTenant } from '../support/flow.js';
import { authUrl, pageLogin, pageUser, redeemCode, userinfo } from '../support/hosted-login.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

const CB = 'https://rp.example.com/cb';
const HR = { description: 'See your department <b>and</b> roles', claims: ['department', 'roles'] };

let server: TestServer;
let t: TestTenant;
let other: TestTenant;
let hrClient: RegisteredClient;
let plainClient: RegisteredClient;
let idTokenClient: RegisteredClient;

const call = (tenant: TestTenant, method: string, path: string, json?: unknown) =>
  http(`${tenant.origin}${path}`, {
    method,
    headers: { ...JSON_TYPE, authorization: docAuth(tenant) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  other = await federatedTenant(server);
  expect((await call(t, 'PUT', '/v1/scopes/hr', HR)).status).toBe(201);
  const base = { redirect_uris: [CB], client_name: 'HR Portal', first_party: false };
  hrClient = await registerClient(t, { ...base, scope: 'openid hr' });
  plainClient = await registerClient(t, { ...base, scope: 'openid' });
  idTokenClient = await registerClient(t, { ...base, scope: 'openid hr', id_token_scope_claims: true });
});
afterAll(async () => {
  await server.stop();
});

describe('management', () => {
  it('PUT creates then replaces; GET reads one and the list; DELETE removes; all audited', async () => {
    const put = { description: 'Badge data', claims: ['badge'] };
    const created = await call(t, 'PUT', '/v1/scopes/urn:example:badge', put);
    expect(created.status).toBe(201);
    expect(await body(created)).toMatchObject({ scope: 'urn:example:badge', ...put });
    const replaced = await call(t, 'PUT', '/v1/scopes/urn:example:badge', {
      ...put,
      claims: ['badge', 'groups'],
    });
    expect(replaced.status).toBe(200);
    const one = await body<{ claims: string[] }>(await call(t, 'GET', '/v1/scopes/urn:example:badge'));
    expect(one.claims).toEqual(['badge', 'groups']);
    const list = await body<{ scopes: { scope: string }[] }>(await call(t, 'GET', '/v1/scopes'));
    expect(list.scopes.map((s) => s.scope)).toEqual(['hr', 'urn:example:badge']);
    expect((await call(t, 'DELETE', '/v1/scopes/urn:example:badge')).status).toBe(204);
    expect((await call(t, 'DELETE', '/v1/scopes/urn:example:badge')).status).toBe(404);
    expect((await call(t, 'GET', '/v1/scopes/urn:example:badge')).status).toBe(404);
    const events = await body<{ events: { type: string; detail: { scope: string } }[] }>(
      await call(t, 'GET', '/v1/audit-events?limit=50'),
    );
    const types = events.events.filter((e) => e.detail.scope === 'urn:example:badge').map((e) => e.type);
    expect(types).toEqual(['scope.deleted', 'scope.updated', 'scope.updated']);
  });

  it.each([
    ['a standard scope', 'profile', HR],
    ['the provider scope roles', 'roles', HR],
    ['a name with a quote', 'a"b', HR],
    ['a name of 65 characters', 'x'.repeat(65), HR],
    ['a registered claim', 'x1', { description: 'd', claims: ['sub'] }],
    ['a profile claim', 'x2', { description: 'd', claims: ['email'] }],
    ['no claims', 'x3', { description: 'd', claims: [] }],
    ['21 claims', 'x4', { description: 'd', claims: Array.from({ length: 21 }, (_, i) => `c${i}`) }],
    ['repeated claims', 'x5', { description: 'd', claims: ['a', 'a'] }],
    ['an empty description', 'x6', { description: ' ', claims: ['a'] }],
    ['an unknown field', 'x7', { ...HR, extra: 1 }],
  ])('%s is a 400', async (_name, scope, json) => {
    const res = await call(t, 'PUT', `/v1/scopes/${encodeURIComponent(scope)}`, json);
    expect(res.status).toBe(400);
    expect((await call(t, 'GET', `/v1/scopes/${encodeURIComponent(scope)}`)).status).toBe(404);
  });

  it('needs the tenant secret, and another tenant sees none of the scopes', async () => {
    const res = await http(`${t.origin}/v1/scopes/hr`);
    expect(res.status).toBe(401);
    expect((await call(other, 'GET', '/v1/scopes/hr')).status).toBe(404);
    expect(await body(await call(other, 'GET', '/v1/scopes'))).toEqual({ scopes: [] });
  });
});

async function signIn(client: RegisteredClient, scope: string, extra: Record<string, string> = {}) {
  const user = await pageUser(t);
  const patch = { roles: ['admin'], custom_attributes: { department: 'R&D', clearance: 3 } };
  expect((await call(t, 'PATCH', `/v1/users/${user.userId}`, patch)).status).toBe(200);
  const req = authUrl(t, client.client_id, CB, { scope, ...extra });
  const { location, consentPage } = await pageLogin(t, new CookieJar(), req.url, user);
  expect(location.searchParams.get('error'), location.searchParams.get('error_description') ?? '').toBeNull();
  const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
  const { payload } = await verify(t, tokens.id_token, client.client_id);
  return { info: await userinfo(t, tokens.access_token), consentPage, payload };
}

describe('release', () => {
  it('a client registered with the scope gets its claims at userinfo, after consent showed the description', async () => {
    const { info, consentPage } = await signIn(hrClient, 'openid hr');
    expect(consentPage).toContain('See your department &lt;b&gt;and&lt;/b&gt; roles');
    expect(info).toMatchObject({ department: 'R&D', roles: ['admin'] });
    expect(info.clearance).toBeUndefined();
    expect(info.custom_attributes).toBeUndefined();
  });

  it('the ID token carries them only when claims asks for them, or the client asks for scope claims', async () => {
    const plain = await signIn(hrClient, 'openid hr');
    expect(plain.payload.department).toBeUndefined();
    expect(plain.payload.roles).toBeUndefined();
    const claims = JSON.stringify({ id_token: { department: null } });
    const asked = await signIn(hrClient, 'openid hr', { claims });
    expect(asked.payload.department).toBe('R&D');
    expect(asked.payload.roles).toBeUndefined();
    const all = await signIn(idTokenClient, 'openid hr');
    expect(all.payload).toMatchObject({ department: 'R&D', roles: ['admin'] });
  });

  it('claims cannot reach a tenant scope that was not granted', async () => {
    const claims = JSON.stringify({ id_token: { department: null }, userinfo: { department: null } });
    const { payload, info } = await signIn(hrClient, 'openid', { claims });
    expect(payload.department).toBeUndefined();
    expect(info.department).toBeUndefined();
  });

  it('without the scope nothing is released, and a client not registered for it is refused', async () => {
    const { info } = await signIn(hrClient, 'openid');
    expect(info.department).toBeUndefined();
    const req = authUrl(t, plainClient.client_id, CB, { scope: 'openid hr' });
    const res = await http(req.url, { redirect: 'manual' });
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });
});

it('discovery lists the tenant scopes and their claims, and only the tenant’s own', async () => {
  const doc = await body<{ scopes_supported: string[]; claims_supported: string[] }>(
    await http(`${t.issuer}/.well-known/openid-configuration`),
  );
  expect(doc.scopes_supported).toEqual(expect.arrayContaining(['hr', 'openid']));
  expect(doc.claims_supported).toEqual(expect.arrayContaining(['department', 'roles', 'sub']));
  const theirs = await body<{ scopes_supported: string[] }>(
    await http(`${other.issuer}/.well-known/openid-configuration`),
  );
  expect(theirs.scopes_supported).not.toContain('hr');
});
