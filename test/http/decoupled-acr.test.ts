/**
 * The device flow honours `acr_values` as /oidc/auth does (OIDC Core §3.1.2.1): the values the
 * provider knows are kept with the grant, and a session below the level asked for is not reused.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pendingGrantKey } from '../../functions/oidc/decoupled-grant.js';
import { servicesFor } from '../../functions/services.js';
import { body, type TestTenant } from '../support/flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  CookieJar,
  DEVICE_GRANT,
  go,
  csrfOf,
  newUser,
  postAs,
  registerApp,
  signInAndDecide,
  type App,
} from '../support/decoupled-grants.js';

let server: TestServer;
let t: TestTenant;
let tv: App;

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  tv = await registerApp(t, {
    client_name: 'Living Room TV',
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: [DEVICE_GRANT],
    scope: 'openid profile',
  });
});
afterAll(async () => {
  await server.stop();
});

async function deviceAuth(form: Record<string, string> = {}) {
  const res = await postAs(t, tv, '/device/auth', { scope: 'openid', ...form });
  expect(res.status).toBe(200);
  return body<{ device_code: string; user_code: string }>(res);
}

async function enterCode(jar: CookieJar, userCode: string) {
  const html = await (await go(jar, `${t.issuer}/device`)).text();
  return go(jar, `${t.issuer}/device`, { form: { csrf: csrfOf(html), user_code: userCode } });
}

it('keeps the known acr_values with the grant, and ignores unknown ones', async () => {
  const d = await deviceAuth({ acr_values: 'urn:example:loa:9 mfa' });
  const item = await (
    await servicesFor('us')
  ).tenants
    .scoped(t.id)
    .get<{ acrValues?: string[] }>(pendingGrantKey(d.device_code));
  expect(item?.acrValues).toEqual(['mfa']);
});

it('a one-factor session is reused without acr_values, not when mfa is asked for', async () => {
  const user = await newUser(t);
  const jar = new CookieJar();
  const first = await deviceAuth();
  await signInAndDecide(t, jar, await enterCode(jar, first.user_code), user, { identify: true });

  // Without acr_values the session goes straight to the approval page.
  const again = await deviceAuth();
  const reuse = await enterCode(jar, again.user_code);
  const reused = await (await go(jar, `${t.origin}${reuse.headers.get('location')}`)).text();
  expect(reused).toContain('wants to access your account');

  // With acr_values=mfa the sign-in starts over, aiming for the level.
  const strong = await deviceAuth({ acr_values: 'mfa' });
  const start = await enterCode(jar, strong.user_code);
  const page = await (await go(jar, `${t.origin}${start.headers.get('location')}`)).text();
  expect(page).toContain('name="identifier"');
  expect(page).not.toContain('wants to access your account');
});

it('the approved grant carries the acr reached', async () => {
  const user = await newUser(t);
  const d = await deviceAuth({ acr_values: 'mfa' });
  const jar = new CookieJar();
  await signInAndDecide(t, jar, await enterCode(jar, d.user_code), user, { identify: true });
  const res = await postAs(t, tv, '/token', { grant_type: DEVICE_GRANT, device_code: d.device_code });
  const tokens = await body<{ id_token: string }>(res);
  expect(res.status).toBe(200);
  const payload = JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString()) as {
    acr: string;
  };
  // Voluntary: a user with one method gets the best they can do, and acr says so.
  expect(payload.acr).toBe('urn:identity:acr:single-factor');
});
