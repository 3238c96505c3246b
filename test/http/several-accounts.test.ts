/**
 * Several accounts per browser: one session cookie holds up to five signed-in accounts of the
 * tenant; prompt=select_account lists them, prompt=none needs a hint when there are several
 * (OIDC Core §3.1.2.6 account_selection_required), logout with an id_token_hint ends one account.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { sha256 } from '../../functions/crypto/secrets.js';
import { servicesFor } from '../../functions/services.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { body, decodeEntities, docAuth, JSON_TYPE, type TestTenant } from '../support/flow.js';
import {
  authUrl,
  csrfOf,
  go,
  pageLogin,
  pageUser,
  redeemCode,
  type PageUser,
} from '../support/hosted-login.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

const CB = 'https://rp.example.com/cb';
let server: TestServer;
let t: TestTenant;
let other: TestTenant;
let app: { client_id: string; client_secret: string };
/** A back-channel logout receiver: the `sub` of every logout token it got. */
let receiver: Server;
const loggedOut: string[] = [];

async function register(tenant: TestTenant, extra: Record<string, unknown> = {}) {
  const res = await http(`${tenant.origin}/v1/clients`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: docAuth(tenant) },
    body: JSON.stringify({
      client_name: 'Accounts',
      redirect_uris: [CB],
      scope: 'openid',
      first_party: true,
      ...extra,
    }),
  });
  const json = await body<{ client_id: string; client_secret: string }>(res);
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  other = await server.tenant();
  receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      loggedOut.push(String(decodeJwt(new URLSearchParams(data).get('logout_token')!).sub));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  app = await register(t, { backchannel_logout_uri: `http://127.0.0.1:${port}/logout` });
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
  await server.stop();
});

/** Signs `user` in on the jar (prompt=login, so an account already there is not reused). */
async function signIn(jar: CookieJar, user: PageUser, tenant = t, client = app) {
  const req = authUrl(tenant, client.client_id, CB, { prompt: 'login' });
  const { location } = await pageLogin(tenant, jar, req.url, user);
  return redeemCode(tenant, client, location.searchParams.get('code')!, CB, req.verifier);
}

/** Follows an authorization request to its first page; returns the page's URL and markup. */
async function pageOf(jar: CookieJar, url: string, tenant = t) {
  const res = await go(jar, url);
  expect(res.status, await res.clone().text()).toBe(303);
  const page = `${tenant.origin}${res.headers.get('location')}`;
  return { page, html: await (await go(jar, page)).text() };
}

const choices = (html: string) =>
  [...html.matchAll(/name="choice" value="([^"]+)"><button type="submit"[^>]*>([^<]+)</g)].map((m) => ({
    value: decodeEntities(m[1]!),
    label: decodeEntities(m[2]!),
  }));

/** Redeems the code of an authorization response and returns the ID token's `sub`. */
async function subOf(res: Awaited<ReturnType<typeof go>>, verifier: string): Promise<string> {
  expect(res.status, await res.clone().text()).toBe(302);
  const location = new URL(res.headers.get('location')!);
  expect(location.searchParams.get('error'), location.search).toBeNull();
  const tokens = await redeemCode(t, app, location.searchParams.get('code')!, CB, verifier);
  return String(decodeJwt(tokens.id_token).sub);
}

const errorOf = (res: Awaited<ReturnType<typeof go>>) =>
  new URL(res.headers.get('location')!).searchParams.get('error');

describe('several accounts per browser', () => {
  it('lists both accounts for select_account, and choosing B gives B a code', async () => {
    const [a, b] = [await pageUser(t), await pageUser(t)];
    const jar = new CookieJar();
    await signIn(jar, a);
    const cookie = jar.get('idp_session');
    await signIn(jar, b);
    expect(jar.get('idp_session'), 'one cookie for both accounts').toBe(cookie);

    const req = authUrl(t, app.client_id, CB, { prompt: 'select_account' });
    const { page, html } = await pageOf(jar, req.url);
    const listed = choices(html);
    expect(listed.map((c) => c.label)).toEqual([
      `Continue as ${b.email}`,
      `Continue as ${a.email}`,
      'Use another account',
    ]);
    const res = await go(jar, `${page}/select-account`, {
      form: { csrf: csrfOf(html), choice: listed[0]!.value },
    });
    expect(await subOf(res, req.verifier)).toBe(b.userId);
  });

  it('a sid of another browser cannot be chosen: it leads to signing in anew', async () => {
    const [a, b] = [await pageUser(t), await pageUser(t)];
    const jarA = new CookieJar();
    const jarB = new CookieJar();
    await signIn(jarA, a);
    await signIn(jarB, b);
    const sidOfB = choices(
      (await pageOf(jarB, authUrl(t, app.client_id, CB, { prompt: 'select_account' }).url)).html,
    )[0]!.value;
    const { page, html } = await pageOf(
      jarA,
      authUrl(t, app.client_id, CB, { prompt: 'select_account' }).url,
    );
    const res = await go(jarA, `${page}/select-account`, { form: { csrf: csrfOf(html), choice: sidOfB } });
    expect(res.status).toBe(303);
    expect(await (await go(jarA, page)).text()).toContain('name="identifier"');
  });

  it('prompt=none: account_selection_required without a hint, the hinted account with one', async () => {
    const [a, b, stranger] = [await pageUser(t), await pageUser(t), await pageUser(t)];
    const jar = new CookieJar();
    const tokensOfA = await signIn(jar, a);
    await signIn(jar, b);
    expect(errorOf(await go(jar, authUrl(t, app.client_id, CB, { prompt: 'none' }).url))).toBe(
      'account_selection_required',
    );
    const byLogin = authUrl(t, app.client_id, CB, { prompt: 'none', login_hint: a.email });
    expect(await subOf(await go(jar, byLogin.url), byLogin.verifier)).toBe(a.userId);
    const byToken = authUrl(t, app.client_id, CB, { prompt: 'none', id_token_hint: tokensOfA.id_token });
    expect(await subOf(await go(jar, byToken.url), byToken.verifier)).toBe(a.userId);
    // A hint naming nobody signed in here (a real account, or no account at all) is login_required.
    for (const hint of [stranger.email, 'nobody@example.com'])
      expect(
        errorOf(await go(jar, authUrl(t, app.client_id, CB, { prompt: 'none', login_hint: hint }).url)),
      ).toBe('login_required');
    // Without prompt, several accounts and no hint: the chooser.
    expect(choices((await pageOf(jar, authUrl(t, app.client_id, CB).url)).html)).toHaveLength(3);
  });

  it("logout with A's id_token_hint ends A only; B stays signed in and the cookie stays", async () => {
    const [a, b] = [await pageUser(t), await pageUser(t)];
    const jar = new CookieJar();
    const tokensOfA = await signIn(jar, a);
    await signIn(jar, b);
    loggedOut.length = 0;
    const out = await go(
      jar,
      `${t.issuer}/session/end?${new URLSearchParams({ id_token_hint: tokensOfA.id_token })}`,
    );
    expect(out.status).toBe(200);
    expect(jar.get('idp_session')).toBeDefined();
    // Back-Channel Logout 1.0: the client is told that A's session ended, and nothing about B's.
    expect(loggedOut).toEqual([a.userId]);
    const none = authUrl(t, app.client_id, CB, { prompt: 'none' });
    expect(await subOf(await go(jar, none.url), none.verifier)).toBe(b.userId);
    expect(
      errorOf(await go(jar, authUrl(t, app.client_id, CB, { prompt: 'none', login_hint: a.email }).url)),
    ).toBe('login_required');
  });

  it('logout confirmed without a hint ends every account and clears the cookie', async () => {
    const [a, b] = [await pageUser(t), await pageUser(t)];
    const jar = new CookieJar();
    await signIn(jar, a);
    await signIn(jar, b);
    const html = await (await go(jar, `${t.issuer}/session/end?client_id=${app.client_id}`)).text();
    const csrf = decodeEntities(/name="logout_csrf" value="([^"]+)"/.exec(html)![1]!);
    const res = await go(jar, `${t.issuer}/session/end`, {
      form: { client_id: app.client_id, logout_csrf: csrf },
    });
    expect(res.status).toBe(200);
    expect(jar.get('idp_session')).toBeUndefined();
  });

  it('six sign-ins keep the five latest', async () => {
    const users: PageUser[] = [];
    for (let i = 0; i < 6; i++) users.push(await pageUser(t));
    const jar = new CookieJar();
    for (const user of users.slice(0, 5)) await signIn(jar, user);
    loggedOut.length = 0;
    await signIn(jar, users[5]!);
    // The account pushed out has ended: its client is told (Back-Channel Logout 1.0 §2.5).
    expect(loggedOut).toEqual([users[0]!.userId]);
    const listed = choices(
      (await pageOf(jar, authUrl(t, app.client_id, CB, { prompt: 'select_account' }).url)).html,
    );
    expect(listed.map((c) => c.label)).toEqual([
      ...users
        .slice(1)
        .reverse()
        .map((u) => `Continue as ${u.email}`),
      'Use another account',
    ]);
    expect(
      errorOf(
        await go(jar, authUrl(t, app.client_id, CB, { prompt: 'none', login_hint: users[0]!.email }).url),
      ),
    ).toBe('login_required');
  });

  it("another tenant's session never appears", async () => {
    const [a, b] = [await pageUser(t), await pageUser(t)];
    const jar = new CookieJar();
    await signIn(jar, a);
    await signIn(jar, b);
    const otherApp = await register(other);
    // The same cookie sent to the other tenant's host finds nothing there.
    expect(errorOf(await go(jar, authUrl(other, otherApp.client_id, CB, { prompt: 'none' }).url))).toBe(
      'login_required',
    );
    const { html } = await pageOf(
      jar,
      authUrl(other, otherApp.client_id, CB, { prompt: 'select_account' }).url,
      other,
    );
    expect(html).toContain('name="identifier"');
    expect(html).not.toContain(a.email);
    // An account of the other tenant signed in on the same browser gets a session there, which
    // this tenant never sees; this tenant's cookie still lists its own two accounts only.
    const ours = jar.get('idp_session')!;
    const c = await pageUser(other);
    await signIn(jar, c, other, otherApp);
    const theirs = jar.get('idp_session')!;
    expect(theirs).not.toBe(ours);
    expect(errorOf(await go(jar, authUrl(t, app.client_id, CB, { prompt: 'none' }).url))).toBe(
      'login_required',
    );
    jar.take({ headers: { getSetCookie: () => [`idp_session=${ours}; Path=/`] } } as never);
    const listed = choices(
      (await pageOf(jar, authUrl(t, app.client_id, CB, { prompt: 'select_account' }).url)).html,
    );
    expect(listed.map((l) => l.label)).toEqual([
      `Continue as ${b.email}`,
      `Continue as ${a.email}`,
      'Use another account',
    ]);
  });

  it('a session stored before several accounts were kept is read as one account', async () => {
    const a = await pageUser(t);
    const store = (await servicesFor(t.region)).tenants.scoped(t.id);
    const cookie = randomBytes(32).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    // The single-account item as it was written before: the Session fields at the top level.
    await store.put(
      { pk: `session#${sha256(cookie)}`, sk: 'session' },
      {
        sid: randomBytes(16).toString('base64url'),
        userId: a.userId,
        authTime: now,
        amr: ['otp'],
        acr: 'urn:identity:acr:single-factor',
        clients: [],
        createdAt: new Date().toISOString(),
        expiresAt: now + 3600,
      },
    );
    const jar = new CookieJar();
    jar.take({ headers: { getSetCookie: () => [`idp_session=${cookie}; Path=/`] } } as never);
    const none = authUrl(t, app.client_id, CB, { prompt: 'none' });
    expect(await subOf(await go(jar, none.url), none.verifier)).toBe(a.userId);
    // A second sign-in joins it under the same cookie.
    const b = await pageUser(t);
    await signIn(jar, b);
    expect(jar.get('idp_session')).toBe(cookie);
    expect(errorOf(await go(jar, authUrl(t, app.client_id, CB, { prompt: 'none' }).url))).toBe(
      'account_selection_required',
    );
  });
});
