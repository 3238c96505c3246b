/**
 * On https the session and interaction cookies carry the `__Host-` prefix (RFC 6265bis §4.1.3.2:
 * Secure, Path=/, no Domain), so a sibling subdomain or a plain-http page cannot plant them
 * (cookie tossing: a planted session is a login CSRF). And no GET changes state: the authenticator
 * app's secret is made by a POST, never by showing a page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesFor } from '../../functions/services.js';
import { interactionKey } from '../../functions/interaction/repository.js';
import { ENV } from '../../functions/env-names.js';
import { CookieJar } from '../support/cookie-jar.js';
import {
  authorize,
  decodeEntities,
  initAuth,
  newUserId,
  setOutcome,
  federatedTenant,
  APP_REDIRECT,
  type TestTenant,
} from '../support/flow.js';
import { authUrl, csrfOf, go, pageLogin, pageUser, seenSetCookies } from '../support/hosted-login.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import * as OTPAuth from 'otpauth';

const CB = 'https://rp.example.com/cb';
let server: TestServer;
let t: TestTenant;
let app: RegisteredClient;
let previousScheme: string | undefined;

/** `__Host-` requirements: Secure, Path=/, no Domain. */
const HOST_COOKIE = /^__Host-[A-Za-z0-9_-]+=[^;]*; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/;

beforeAll(async () => {
  server = await startTestServer();
  // The public scheme of a deployment (API Gateway's custom domain is https); read lazily by the
  // handlers, so set before the first request of this file's server.
  previousScheme = process.env[ENV.publicScheme];
  process.env[ENV.publicScheme] = 'https';
  t = await federatedTenant(server, [APP_REDIRECT, CB]);
  await setOutcome(t, 'challenge', 'CHALLENGE');
  app = await registerClient(t, { redirect_uris: [CB], scope: 'openid', first_party: true });
});
afterAll(async () => {
  if (previousScheme === undefined) delete process.env[ENV.publicScheme];
  else process.env[ENV.publicScheme] = previousScheme;
  await server.stop();
});

describe('cookies on https', () => {
  it('the interaction and session cookies are __Host- cookies, and SSO works with them', async () => {
    const user = await pageUser(t);
    const jar = new CookieJar();
    const from = seenSetCookies.length;
    const { location } = await pageLogin(t, jar, authUrl(t, app.client_id, CB).url, user);
    expect(location.searchParams.get('code')).toBeTruthy();
    const set = seenSetCookies.slice(from).filter((c) => !/Max-Age=0/.test(c));
    const names = set.map((c) => c.split('=')[0]);
    expect(names.some((n) => n!.startsWith('__Host-idp_ix_'))).toBe(true);
    expect(names).toContain('__Host-idp_session');
    for (const cookie of set) {
      expect(cookie).toMatch(HOST_COOKIE);
      expect(cookie).not.toMatch(/Domain=/i);
    }
    expect(jar.get('__Host-idp_session')).toBeTruthy();
    expect(jar.get('idp_session')).toBeUndefined();
    const sso = await go(jar, authUrl(t, app.client_id, CB, { prompt: 'none' }).url);
    expect(new URL(sso.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('a session cookie planted without the prefix is not a session (cookie tossing)', async () => {
    const user = await pageUser(t);
    const victim = new CookieJar();
    await pageLogin(t, victim, authUrl(t, app.client_id, CB).url, user);
    expect(victim.get('__Host-idp_session')).toBeTruthy();
    const tossed = `idp_session=${victim.get('__Host-idp_session')!}`;
    const res = await http(authUrl(t, app.client_id, CB, { prompt: 'none' }).url, {
      headers: { cookie: tossed },
    });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  it('an interaction binding presented without the prefix does not open the interaction', async () => {
    const res = await http(authUrl(t, app.client_id, CB).url);
    expect(res.status).toBe(303);
    const [pair] = res.headers.getSetCookie()[0]!.split(';');
    expect(pair).toMatch(/^__Host-idp_ix_/);
    const page = `${t.origin}${res.headers.get('location')}`;
    const plain = await http(page, { headers: { cookie: pair!.replace(/^__Host-/, '') } });
    expect(plain.status).toBe(400);
    const bound = await http(page, { headers: { cookie: pair! } });
    expect(bound.status).toBe(200);
  });
});

describe('device verification page on https', () => {
  it('its CSRF cookie is a __Host- cookie, and a token planted without the prefix does not pass', async () => {
    const page = await http(`${t.origin}/oidc/device`);
    expect(page.status).toBe(200);
    const [set] = page.headers.getSetCookie();
    expect(set).toMatch(HOST_COOKIE);
    expect(set).toMatch(/^__Host-idp_device_csrf=/);
    const csrf = csrfOf(await page.text());
    const post = (cookie: string) =>
      http(`${t.origin}/oidc/device`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, user_code: 'BCDF-GHJK' }).toString(),
      });
    // A sibling subdomain can set a bare-named cookie, not a __Host- one: the bare one is ignored.
    const tossed = await post(`idp_device_csrf=${csrf}`);
    expect(tossed.status).toBe(400);
    expect(await tossed.text()).toContain('The form expired');
    // With the real cookie the form passes the CSRF check and the (unknown) code is judged.
    const real = await post(`__Host-idp_device_csrf=${csrf}`);
    expect(real.status).toBe(400);
    expect(await real.text()).toContain('That code is not valid');
    expect(real.headers.getSetCookie()[0]).toMatch(/^__Host-idp_device_csrf=/);
  });
});

describe('no GET changes state', () => {
  async function enrollment(): Promise<{ id: string; url: string; cookie: string; html: string }> {
    const init = await initAuth(t, { userId: newUserId(), action: 'challenge' });
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      response_type: 'code',
      scope: 'openid',
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const url = `${t.origin}${location}`;
    const html = await (await http(url, { headers: { cookie } })).text();
    return { id: location.split('/').pop()!, url, cookie, html };
  }

  const stored = async (id: string) =>
    (await servicesFor('us')).tenants.scoped(t.id).get<Record<string, unknown>>(interactionKey(id));

  it('GET ?view=enroll-totp writes nothing; the secret is made by a POST and then confirms', async () => {
    const b = await enrollment();
    const before = await stored(b.id);
    for (let i = 0; i < 3; i++) {
      const page = await http(`${b.url}?view=enroll-totp`, { headers: { cookie: b.cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).not.toContain('data:image/svg+xml;base64,');
    }
    const after = await stored(b.id);
    expect(after).toEqual(before);
    expect(after!.pendingTotpSecret).toBeUndefined();

    const start = await http(`${b.url}/enroll-totp-start`, {
      method: 'POST',
      headers: { cookie: b.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfOf(b.html) }).toString(),
    });
    expect(start.status).toBe(200);
    const html = await start.text();
    expect(html).toContain('data:image/svg+xml;base64,');
    expect((await stored(b.id))!.pendingTotpSecret).toBeTruthy();
    const secret = decodeEntities(/<code class="secret"[^>]*>([^<]+)<\/code/.exec(html)![1]!).replace(
      /\s+/g,
      '',
    );
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
    const done = await http(`${b.url}/enroll-totp`, {
      method: 'POST',
      headers: { cookie: b.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: csrfOf(html), code: totp.generate() }).toString(),
    });
    expect(done.status).toBe(302);
    expect(new URL(done.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('the enrollment chooser starts the authenticator app with a POST form, not a link', async () => {
    const b = await enrollment();
    expect(b.html).not.toContain('view=enroll-totp');
    expect(b.html).toMatch(/<form method="post" action="\/interaction\/[^"/]+\/enroll-totp-start"/);
  });
});
