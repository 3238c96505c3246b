/**
 * The device authorization grant (RFC 8628) over HTTP: the device asks for codes and polls the
 * token endpoint; the user types the code at /oidc/device on another device, signs in on the
 * hosted pages and approves or denies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingGrantKey } from '../../functions/oidc/decoupled-grant.js';
import { servicesFor } from '../../functions/services.js';
import { body, verify, type TestTenant } from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import {
  CookieJar,
  DEVICE_GRANT,
  go,
  csrfOf,
  newUser,
  oauthError,
  postAs,
  registerApp,
  registerRaw,
  signInAndDecide,
  textOf,
  type App,
} from '../support/decoupled-grants.js';

let server: TestServer;
let t: TestTenant;
let tv: App;
let consoleApp: App;
let webApp: App;

interface DeviceResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

interface Tokens {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  token_type: string;
  scope?: string;
}

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  // A public client (a TV app): client_id only.
  tv = await registerApp(t, {
    client_name: 'Living Room TV',
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: [DEVICE_GRANT, 'refresh_token'],
    scope: 'openid profile email offline_access',
  });
  // A confidential one (a game console with a secret).
  consoleApp = await registerApp(t, {
    client_name: 'Game Console',
    grant_types: [DEVICE_GRANT],
    scope: 'openid profile offline_access',
  });
  webApp = await registerApp(t, {
    client_name: 'Web App',
    redirect_uris: ['https://app.example.com/cb'],
    grant_types: ['authorization_code'],
    scope: 'openid',
  });
});
afterAll(async () => {
  await server.stop();
});

async function deviceAuth(app: App, form: Record<string, string> = {}): Promise<DeviceResponse> {
  const res = await postAs(t, app, '/device/auth', { scope: 'openid profile', ...form });
  const json = await body<DeviceResponse>(res);
  expect(res.status, JSON.stringify(json)).toBe(200);
  expect(res.headers.get('cache-control')).toContain('no-store');
  return json;
}

const poll = (app: App, deviceCode: string) =>
  postAs(t, app, '/token', { grant_type: DEVICE_GRANT, device_code: deviceCode });

/** The user's browser: open the verification URI, type the code, submit. */
async function enterCode(jar: CookieJar, typed: string, url = `${t.issuer}/device`) {
  const form = await go(jar, url);
  expect(form.status).toBe(200);
  const html = await form.text();
  return go(jar, `${t.issuer}/device`, { form: { csrf: csrfOf(html), user_code: typed } });
}

const grantItem = async (deviceCode: string) =>
  (await servicesFor('us')).tenants.scoped(t.id).get<Record<string, unknown>>(pendingGrantKey(deviceCode));

describe('device authorization endpoint', () => {
  it('answers a device code, a short user code from the RFC 8628 alphabet, and where to enter it', async () => {
    const d = await deviceAuth(tv);
    expect(d.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(d.device_code.length).toBeGreaterThanOrEqual(43);
    expect(d.verification_uri).toBe(`${t.issuer}/device`);
    expect(d.verification_uri_complete).toBe(`${t.issuer}/device?user_code=${d.user_code}`);
    expect(d.expires_in).toBe(600);
    expect(d.interval).toBe(5);
    // The device code is stored only as a hash.
    expect(JSON.stringify(await grantItem(d.device_code))).not.toContain(d.device_code);
  });

  it('authenticates confidential clients and refuses wrong secrets, unknown clients and clients without the grant', async () => {
    await deviceAuth(consoleApp);
    const wrong = await postAs(t, { ...consoleApp, client_secret: 'nope' }, '/device/auth', {
      scope: 'openid',
    });
    expect(await oauthError(wrong)).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
    const unknown = await postAs(t, { client_id: 'no-such-client' }, '/device/auth', { scope: 'openid' });
    expect(await oauthError(unknown)).toMatchObject({ status: 401, error: 'invalid_client' });
    const noGrant = await postAs(t, webApp, '/device/auth', { scope: 'openid' });
    expect(await oauthError(noGrant)).toMatchObject({ status: 400, error: 'unauthorized_client' });
    const scope = await postAs(t, tv, '/device/auth', { scope: 'openid admin' });
    expect(await oauthError(scope)).toMatchObject({ status: 400, error: 'invalid_scope' });
  });
});

describe('device flow', () => {
  it('end to end: pending, the user enters the code, signs in and approves, tokens once', async () => {
    const d = await deviceAuth(tv, { scope: 'openid profile offline_access' });
    const pending = await poll(tv, d.device_code);
    expect(await oauthError(pending)).toMatchObject({
      status: 400,
      error: 'authorization_pending',
      cacheControl: expect.stringContaining('no-store'),
    });

    const user = await newUser(t);
    const jar = new CookieJar();
    // verification_uri_complete pre-fills the code; the user still confirms it (RFC 8628 §5.4).
    const page = await go(jar, d.verification_uri_complete);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(textOf(html)).toContain('Device code');
    expect(html).toContain(`value="${d.user_code}"`);
    // Case and punctuation do not matter (RFC 8628 §6.1).
    const typed = d.user_code.toLowerCase().replace('-', ' ');
    const start = await go(jar, `${t.issuer}/device`, { form: { csrf: csrfOf(html), user_code: typed } });
    const { approval, done } = await signInAndDecide(t, jar, start, user, { identify: true });
    // The approval page names the app and repeats the code the device shows.
    expect(textOf(approval)).toContain('Living Room TV');
    expect(textOf(approval)).toContain(`Check that your other device shows: ${d.user_code}`);
    expect(textOf(done)).toContain('You are signed in on your other device');

    const res = await poll(tv, d.device_code);
    const tokens = await body<Tokens>(res);
    expect(res.status, JSON.stringify(tokens)).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.scope).toBe('openid profile offline_access');
    const { payload } = await verify(t, tokens.id_token!, tv.client_id);
    expect(payload.sub).toBe(user.userId);
    expect(payload.iss).toBe(t.issuer);
    expect(typeof payload.auth_time).toBe('number');
    expect(payload.amr).toEqual(['otp']);
    expect(payload.sid).toBeTruthy();
    const access = await verify(t, tokens.access_token, tv.client_id);
    expect(access.payload.sub).toBe(user.userId);

    // The grant is consumed: a second poll is refused.
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    // offline_access: the refresh token works.
    const refreshed = await postAs(t, tv, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
    });
    expect(refreshed.status, await refreshed.clone().text()).toBe(200);
  });

  it('no refresh token for a client without the refresh_token grant; offline_access is not granted', async () => {
    const d = await deviceAuth(consoleApp, { scope: 'openid offline_access' });
    const jar = new CookieJar();
    const start = await enterCode(jar, d.user_code, d.verification_uri_complete);
    await signInAndDecide(t, jar, start, await newUser(t), { identify: true });
    const tokens = await body<Tokens>(await poll(consoleApp, d.device_code));
    expect(tokens.id_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('openid');
  });

  it('slow_down when polled faster than the interval, which then rises by 5 seconds', async () => {
    const d = await deviceAuth(tv);
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({ error: 'authorization_pending' });
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({
      status: 400,
      error: 'slow_down',
    });
    expect((await grantItem(d.device_code))?.interval).toBe(10);
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({ error: 'slow_down' });
    expect((await grantItem(d.device_code))?.interval).toBe(15);
  });

  it('access_denied when the user denies on the approval page', async () => {
    const d = await deviceAuth(tv);
    const jar = new CookieJar();
    const start = await enterCode(jar, d.user_code);
    const { done } = await signInAndDecide(t, jar, start, await newUser(t), {
      identify: true,
      decision: 'deny',
    });
    expect(textOf(done)).toContain('was not approved');
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({
      status: 400,
      error: 'access_denied',
    });
    // The code is no longer accepted on the page either.
    const again = await enterCode(new CookieJar(), d.user_code);
    expect(again.status).toBe(400);
  });

  it('a wrong user code shows the page again with an error and changes nothing', async () => {
    const d = await deviceAuth(tv);
    const jar = new CookieJar();
    const wrongCode = d.user_code === 'BCDF-GHJK' ? 'BCDF-GHJL' : 'BCDF-GHJK';
    for (const typed of [wrongCode, 'AEIO-UAEI', '1234', '']) {
      const res = await enterCode(jar, typed);
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(textOf(html)).toContain('That code is not valid or has expired');
      expect(html).toContain('aria-invalid="true"');
      expect(res.headers.get('location')).toBeNull();
    }
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({ error: 'authorization_pending' });
    expect((await grantItem(d.device_code))?.status).toBe('pending');
  });

  it('refuses a code posted without the form’s CSRF cookie', async () => {
    const d = await deviceAuth(tv);
    const jar = new CookieJar();
    const html = await (await go(jar, `${t.issuer}/device`)).text();
    expect(jar.get('idp_device_csrf')).toBeTruthy();
    // Another site's form: no cookie (SameSite), or a token that does not match it.
    const noCookie = await go(new CookieJar(), `${t.issuer}/device`, {
      form: { csrf: csrfOf(html), user_code: d.user_code },
    });
    expect(noCookie.status).toBe(400);
    expect(textOf(await noCookie.text())).toContain('The form expired');
    const mismatch = await go(jar, `${t.issuer}/device`, {
      form: { csrf: 'x'.repeat(32), user_code: d.user_code },
    });
    expect(mismatch.status).toBe(400);
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({ error: 'authorization_pending' });
  });

  it('expired_token after the grant expires; the code no longer works on the page', async () => {
    const d = await deviceAuth(tv);
    const store = (await servicesFor('us')).tenants.scoped(t.id);
    await store.update(pendingGrantKey(d.device_code), { deadline: Math.floor(Date.now() / 1000) - 1 });
    expect(await oauthError(await poll(tv, d.device_code))).toMatchObject({
      status: 400,
      error: 'expired_token',
    });
    expect((await enterCode(new CookieJar(), d.user_code)).status).toBe(400);
  });

  it('a device code works only for the client it was issued to, and only as a device code', async () => {
    const d = await deviceAuth(tv);
    expect(await oauthError(await poll(consoleApp, d.device_code))).toMatchObject({ error: 'invalid_grant' });
    expect(await oauthError(await poll(tv, 'not-a-device-code'))).toMatchObject({ error: 'invalid_grant' });
    const missing = await postAs(t, tv, '/token', { grant_type: DEVICE_GRANT });
    expect(await oauthError(missing)).toMatchObject({ status: 400, error: 'invalid_request' });
    const asCiba = await postAs(t, tv, '/token', {
      grant_type: 'urn:openid:params:grant-type:ciba',
      auth_req_id: d.device_code,
    });
    expect(await oauthError(asCiba)).toMatchObject({ status: 400, error: 'unauthorized_client' });
    const noGrant = await postAs(t, webApp, '/token', {
      grant_type: DEVICE_GRANT,
      device_code: d.device_code,
    });
    expect(await oauthError(noGrant)).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('limits wrong user codes per address (RFC 8628 §5.1)', async () => {
    const other = await server.tenant();
    const app = await registerApp(other, {
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT],
    });
    const res = await postAs(other, app, '/device/auth', { scope: 'openid' });
    const d = await body<DeviceResponse>(res);
    const jar = new CookieJar();
    const html = await (await go(jar, `${other.issuer}/device`)).text();
    const submit = (code: string) =>
      go(jar, `${other.issuer}/device`, { form: { csrf: csrfOf(html), user_code: code } });
    const wrongCode = d.user_code === 'BCDF-GHJK' ? 'BCDF-GHJL' : 'BCDF-GHJK';
    for (let i = 0; i < 10; i++) expect((await submit(wrongCode)).status).toBe(400);
    const limited = await submit(d.user_code);
    expect(limited.status).toBe(429);
    expect(textOf(await limited.text())).toContain('Too many wrong codes');
  });

  it('shows the page in Spanish', async () => {
    const res = await http(`${t.issuer}/device?ui_locales=es`);
    expect(textOf(await res.text())).toContain('Código del dispositivo');
  });
});

describe('device grant in client metadata and discovery', () => {
  it('registers the grant type and advertises the endpoint and grant', async () => {
    const res = await registerRaw(t, { grant_types: ['urn:example:unknown'] });
    expect(res.status).toBe(400);
    const doc = await body<Record<string, unknown>>(
      await http(`${t.issuer}/.well-known/openid-configuration`),
    );
    expect(doc.device_authorization_endpoint).toBe(`${t.issuer}/device/auth`);
    expect(doc.grant_types_supported).toContain(DEVICE_GRANT);
  });
});
