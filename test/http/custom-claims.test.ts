/**
 * Roles, groups and custom attributes: set through the management API, validated, released only
 * under their scopes (`roles`, `groups`, `custom_attributes`) and consent, the `claims` parameter
 * included; `updated_at` under `profile`; discovery lists the scopes and claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { body, docAuth, federatedTenant, JSON_TYPE, verify, type TestTenant } from '../support/flow.js';
import { authUrl, pageLogin, pageUser, redeemCode, userinfo } from '../support/hosted-login.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

const CB = 'https://rp.example.com/cb';
const ATTRS = { department: 'R&D', clearance: 3, contractor: false, sites: ['lon', 'par'] };
const ROLES = ['admin', 'auditor'];
const GROUPS = ['engineering'];
const RELEASED = ['roles', 'groups', 'custom_attributes'];

let server: TestServer;
let t: TestTenant;
let allowed: RegisteredClient;
let openidOnly: RegisteredClient;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  const base = { redirect_uris: [CB], client_name: 'HR Portal', first_party: false };
  allowed = await registerClient(t, { ...base, scope: 'openid profile roles groups custom_attributes' });
  openidOnly = await registerClient(t, { ...base, scope: 'openid' });
});
afterAll(async () => {
  await server.stop();
});

const patchUser = (userId: string, patch: unknown) =>
  http(`${t.origin}/v1/users/${userId}`, {
    method: 'PATCH',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify(patch),
  });

async function userWithAttributes() {
  const user = await pageUser(t);
  const res = await patchUser(user.userId, { roles: ROLES, groups: GROUPS, custom_attributes: ATTRS });
  const view = await body<{ profile: Record<string, unknown> }>(res);
  expect(res.status, JSON.stringify(view)).toBe(200);
  return { user, profile: view.profile };
}

async function tokensFor(client: RegisteredClient, extra: Record<string, string>) {
  const { user, profile } = await userWithAttributes();
  const req = authUrl(t, client.client_id, CB, extra);
  const { location, consentPage } = await pageLogin(t, new CookieJar(), req.url, user);
  expect(location.searchParams.get('error'), location.searchParams.get('error_description') ?? '').toBeNull();
  const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
  const { payload } = await verify(t, tokens.id_token, client.client_id);
  return { profile, payload, info: await userinfo(t, tokens.access_token), consentPage };
}

describe('roles, groups and custom attributes', () => {
  it('are released at userinfo under their scopes, after the consent page named them', async () => {
    const { profile, info, payload, consentPage } = await tokensFor(allowed, {
      scope: 'openid profile roles groups custom_attributes',
    });
    expect(consentPage).toContain('See your roles');
    expect(consentPage).toContain('See the groups you belong to');
    expect(consentPage).toContain('See other details kept about you');
    expect(info).toMatchObject({ roles: ROLES, groups: GROUPS, custom_attributes: ATTRS });
    // OIDC Core §5.1: updated_at is seconds since the epoch, of the last change.
    expect(info.updated_at).toBe(Math.floor(Date.parse(profile.updated_at as string) / 1000));
    // Scope claims go to UserInfo; the ID token carries them only when `claims` asks (§5.4).
    for (const claim of RELEASED) expect(payload[claim]).toBeUndefined();
  });

  it('each scope releases only its own claim', async () => {
    const { info } = await tokensFor(allowed, { scope: 'openid roles' });
    expect(info.roles).toEqual(ROLES);
    expect(info.groups).toBeUndefined();
    expect(info.custom_attributes).toBeUndefined();
    expect(info.updated_at).toBeUndefined();
  });

  it('the claims parameter puts them in the ID token, with consent, for a client allowed the scopes', async () => {
    const claims = JSON.stringify({ id_token: { roles: null, custom_attributes: { essential: true } } });
    const { payload, info, consentPage } = await tokensFor(allowed, { scope: 'openid', claims });
    expect(consentPage).toContain('See your roles');
    expect(payload.roles).toEqual(ROLES);
    expect(payload.custom_attributes).toEqual(ATTRS);
    expect(payload.groups).toBeUndefined();
    expect(info.roles).toBeUndefined();
  });

  it('a client registered for openid alone gets none of them, whatever it asks', async () => {
    const everything = { roles: null, groups: null, custom_attributes: null };
    const claims = JSON.stringify({ id_token: everything, userinfo: everything });
    const { payload, info, consentPage } = await tokensFor(openidOnly, { scope: 'openid', claims });
    for (const claim of RELEASED) {
      expect(payload[claim], `id_token.${claim}`).toBeUndefined();
      expect(info[claim], `userinfo.${claim}`).toBeUndefined();
    }
    expect(consentPage ?? '').not.toContain('See your roles');
  });
});

describe('validation', () => {
  const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i]));
  const big = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`a${i}`, 'x'.repeat(2000)]));
  it.each([
    ['an attribute name with a space', { custom_attributes: { 'a b': 1 } }],
    ['a nested object', { custom_attributes: { a: { b: 1 } } }],
    ['an array of objects', { custom_attributes: { a: [{ b: 1 }] } }],
    ['51 attributes', { custom_attributes: many }],
    ['more than 8 KB of attributes', { custom_attributes: big }],
    ['repeated roles', { roles: ['a', 'a'] }],
    ['101 groups', { groups: Array.from({ length: 101 }, (_, i) => `g${i}`) }],
    ['an empty role', { roles: [''] }],
    ['a role with a control character', { roles: ['a\u0000'] }],
    ['roles that are not a list', { roles: 'admin' }],
  ])('%s is a 400 and changes nothing', async (_name, patch) => {
    const { user } = await userWithAttributes();
    const res = await patchUser(user.userId, patch);
    expect(res.status).toBe(400);
    const after = await body<{ profile: Record<string, unknown> }>(
      await http(`${t.origin}/v1/users/${user.userId}`, { headers: { authorization: docAuth(t) } }),
    );
    expect(after.profile).toMatchObject({ roles: ROLES, groups: GROUPS, custom_attributes: ATTRS });
  });

  it('every change moves updated_at; null removes roles', async () => {
    const { user, profile } = await userWithAttributes();
    const res = await patchUser(user.userId, { roles: null });
    const changed = (await body<{ profile: Record<string, unknown> }>(res)).profile;
    expect(changed.roles).toBeUndefined();
    expect(Date.parse(changed.updated_at as string)).toBeGreaterThan(
      Date.parse(profile.updated_at as string),
    );
  });
});

it('discovery lists the scopes and claims', async () => {
  const doc = await body<{ scopes_supported: string[]; claims_supported: string[] }>(
    await http(`${t.issuer}/.well-known/openid-configuration`),
  );
  expect(doc.scopes_supported).toEqual(expect.arrayContaining([...RELEASED, 'profile']));
  expect(doc.claims_supported).toEqual(expect.arrayContaining([...RELEASED, 'updated_at']));
});
