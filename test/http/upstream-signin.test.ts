/**
 * Sign-in through an upstream OpenID Connect provider, over HTTP with a cookie jar, against a real
 * in-process OP (test/support/upstream-op.ts): the code flow with PKCE, state and nonce, the ID
 * token checks, linking, replay, errors, and other tenants' providers.
 */
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { body, docAuth, JSON_TYPE, verify, type TestTenant } from '../support/flow.js';
import { authUrl, csrfOf, go, pageUser, redeemCode, userinfo } from '../support/hosted-login.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import { startUpstreamOp, type UpstreamOp } from '../support/upstream-op.js';

let server: TestServer;
let t: TestTenant;
let op: UpstreamOp;
const CB = 'https://rp.example.com/cb';
let client: { client_id: string; client_secret: string };

async function registerClient(tenant: TestTenant) {
  const res = await http(`${tenant.origin}/v1/clients`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: docAuth(tenant) },
    body: JSON.stringify({
      client_name: 'App',
      redirect_uris: [CB],
      scope: 'openid profile email',
      first_party: true,
    }),
  });
  expect(res.status).toBe(201);
  return body<{ client_id: string; client_secret: string }>(res);
}

/** Puts a generic OIDC provider pointing at the test OP and registers its client there. */
async function putProvider(tenant: TestTenant, id: string, extra: Record<string, unknown> = {}) {
  const clientId = `rp-${id}-${tenant.slug}`;
  const res = await http(`${tenant.origin}/v1/identity-providers/${id}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(tenant) },
    body: JSON.stringify({
      type: 'oidc',
      name: `Corp ${id}`,
      issuer: op.issuer,
      client_id: clientId,
      client_secret: `secret-${id}-${tenant.slug}`,
      ...extra,
    }),
  });
  const json = await body<{ redirect_uri: string }>(res);
  expect([200, 201], JSON.stringify(json)).toContain(res.status);
  op.addClient({
    client_id: clientId,
    client_secret: `secret-${id}-${tenant.slug}`,
    redirect_uris: [json.redirect_uri],
  });
  return json;
}

/** Follows redirects (both hosts) until the client's redirect URI or a page; returns the last response. */
async function follow(
  jar: CookieJar,
  start: string,
  stopAt: (url: string) => boolean = (u) => u.startsWith(CB),
): Promise<{ res: Response; url: string; hops: string[] }> {
  let url = start;
  const hops: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await go(jar, url);
    const location = res.headers.get('location');
    if (![302, 303].includes(res.status) || !location) return { res, url, hops };
    url = new URL(location, url).toString();
    hops.push(url);
    if (stopAt(url)) return { res, url, hops };
  }
  throw new Error('too many redirects');
}

const sub = () => `up-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  server = await startTestServer();
  op = await startUpstreamOp();
  t = await server.tenant();
  client = await registerClient(t);
  await putProvider(t, 'corp');
}, 60_000);
afterAll(async () => {
  await op?.close();
  await server?.stop();
});

describe('sign-in through an upstream provider', () => {
  it('identity_provider goes straight there; a new user gets tokens with amr fed and idp', async () => {
    const jar = new CookieJar();
    const account = {
      sub: sub(),
      email: `${randomBytes(4).toString('hex')}@corp.example`,
      email_verified: true,
      name: 'Grace',
    };
    op.next = account;
    const { url, verifier, state } = authUrl(t, client.client_id, CB, {
      identity_provider: 'corp',
      scope: 'openid email',
    });
    const { url: landed, hops } = await follow(jar, url);
    // The upstream request: code flow, PKCE S256, state and nonce, our callback.
    const upstream = new URL(hops.find((h) => h.startsWith(`${op.issuer}/auth`))!);
    expect(upstream.searchParams.get('code_challenge_method')).toBe('S256');
    expect(upstream.searchParams.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(upstream.searchParams.get('nonce')!.length).toBeGreaterThanOrEqual(43);
    expect(upstream.searchParams.get('redirect_uri')).toBe(`${t.origin}/oidc/callback/corp`);
    const back = new URL(landed);
    expect(back.searchParams.get('state')).toBe(state);
    const tokens = await redeemCode(t, client, back.searchParams.get('code')!, CB, verifier);
    const { payload } = await verify(t, tokens.id_token, client.client_id);
    expect(payload.amr).toEqual(['fed']);
    expect(payload.idp).toBe('corp');
    expect((await userinfo(t, tokens.access_token)).email).toBe(account.email);
    expect(String(payload.sub)).toMatch(/^up-/);
    // The same upstream account again is the same local user.
    op.next = account;
    const again = authUrl(t, client.client_id, CB, { identity_provider: 'corp', prompt: 'login' });
    const second = new URL((await follow(new CookieJar(), again.url)).url);
    const tokens2 = await redeemCode(t, client, second.searchParams.get('code')!, CB, again.verifier);
    expect(decodeJwt(tokens2.id_token).sub).toBe(payload.sub);
  });

  it('the hosted login offers "Continue with <name>" and the button starts the upstream leg', async () => {
    const jar = new CookieJar();
    op.next = { sub: sub() };
    const { url, verifier } = authUrl(t, client.client_id, CB);
    const first = await go(jar, url);
    const page = `${t.origin}${first.headers.get('location')}`;
    const html = await (await go(jar, page)).text();
    expect(html).toContain('Continue with Corp corp');
    const res = await go(jar, `${page}/upstream`, { form: { csrf: csrfOf(html), provider: 'corp' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')!.startsWith(`${op.issuer}/auth?`)).toBe(true);
    const { url: landed } = await follow(jar, res.headers.get('location')!);
    const code = new URL(landed).searchParams.get('code')!;
    const tokens = await redeemCode(t, client, code, CB, verifier);
    expect(decodeJwt(tokens.id_token).idp).toBe('corp');
  });

  it('an upstream error comes back to the client as access_denied', async () => {
    op.next = { error: 'access_denied' };
    const { url, state } = authUrl(t, client.client_id, CB, { identity_provider: 'corp' });
    const back = new URL((await follow(new CookieJar(), url)).url);
    expect(back.origin + back.pathname).toBe(CB);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(state);
  });

  it('a tampered ID token and a wrong nonce are refused (access_denied), a failing token endpoint is temporarily_unavailable', async () => {
    for (const [tamper, error] of [
      ['signature', 'access_denied'],
      ['nonce', 'access_denied'],
      ['token-error', 'temporarily_unavailable'],
    ] as const) {
      op.next = { sub: sub() };
      op.tamper = tamper;
      try {
        const { url } = authUrl(t, client.client_id, CB, { identity_provider: 'corp' });
        const { url: landed, res } = await follow(new CookieJar(), url);
        expect(res.status, `${tamper}: ${await res.text()}`).toBe(302);
        expect(new URL(landed).searchParams.get('error'), tamper).toBe(error);
        expect(new URL(landed).searchParams.get('code'), tamper).toBeNull();
      } finally {
        op.tamper = undefined;
      }
    }
  });

  it('a replayed callback, a callback in another browser and a forged state are refused with a page', async () => {
    const jar = new CookieJar();
    op.next = { sub: sub() };
    const { url } = authUrl(t, client.client_id, CB, { identity_provider: 'corp' });
    const { hops } = await follow(jar, url);
    const callback = hops.find((h) => h.startsWith(`${t.origin}/oidc/callback/corp?`))!;
    expect(callback).toBeTruthy();
    // Already used by the walk above: refused, nothing sent to the client.
    const replay = await go(jar, callback);
    expect(replay.status).toBe(400);
    expect(replay.headers.get('location')).toBeNull();

    // A fresh callback taken to another browser (login CSRF): refused there; the state stays
    // usable in the browser that started it.
    const jar2 = new CookieJar();
    op.next = { sub: sub() };
    const start = authUrl(t, client.client_id, CB, { identity_provider: 'corp' });
    const walk = await follow(jar2, start.url, (u) => u.startsWith(`${t.origin}/oidc/callback/`));
    const elsewhere = await go(new CookieJar(), walk.url);
    expect(elsewhere.status).toBe(400);
    const home = await follow(jar2, walk.url);
    expect(new URL(home.url).searchParams.get('code')).toBeTruthy();

    const forged = await go(
      jar,
      `${t.origin}/oidc/callback/corp?code=x&state=${randomBytes(32).toString('base64url')}`,
    );
    expect(forged.status).toBe(400);
  });

  it('the callback also takes a form post (response_mode=form_post, as Sign in with Apple answers)', async () => {
    const jar = new CookieJar();
    op.next = { sub: sub() };
    const { url, verifier } = authUrl(t, client.client_id, CB, { identity_provider: 'corp' });
    const walk = await follow(jar, url, (u) => u.startsWith(`${t.origin}/oidc/callback/`));
    const callback = new URL(walk.url);
    const res = await go(jar, `${callback.origin}${callback.pathname}`, {
      form: Object.fromEntries(callback.searchParams),
    });
    expect(res.status).toBe(302);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    expect(decodeJwt((await redeemCode(t, client, code, CB, verifier)).id_token).idp).toBe('corp');
  });

  it('an upstream that cannot be reached ends the sign-in with temporarily_unavailable', async () => {
    const res = await http(`${t.origin}/v1/identity-providers/down`, {
      method: 'PUT',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      // Port 1 on loopback: nothing listens there.
      body: JSON.stringify({
        type: 'oidc',
        name: 'Down',
        issuer: 'http://127.0.0.1:1',
        client_id: 'c',
        client_secret: 's',
      }),
    });
    expect(res.status).toBe(201);
    const { url, state } = authUrl(t, client.client_id, CB, { identity_provider: 'down' });
    const back = new URL((await follow(new CookieJar(), url)).url);
    expect(back.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(back.searchParams.get('state')).toBe(state);
  });

  it("another tenant's provider id is not usable: at /oidc/auth and at the callback", async () => {
    const other = await server.tenant();
    await putProvider(other, 'theirs');
    const { url } = authUrl(t, client.client_id, CB, { identity_provider: 'theirs' });
    const res = await go(new CookieJar(), url);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    // A callback for it on this tenant's host: no such provider here.
    const cb = await go(new CookieJar(), `${t.origin}/oidc/callback/theirs?code=x&state=y`);
    expect(cb.status).toBe(400);
  });
});

describe('linking by email', () => {
  it('off (the default): a verified email another user holds makes a new user, without that email', async () => {
    const existing = await pageUser(t);
    op.next = { sub: sub(), email: existing.email, email_verified: true };
    const { url, verifier } = authUrl(t, client.client_id, CB, {
      identity_provider: 'corp',
      scope: 'openid email',
    });
    const code = new URL((await follow(new CookieJar(), url)).url).searchParams.get('code')!;
    const tokens = await redeemCode(t, client, code, CB, verifier);
    const claims = decodeJwt(tokens.id_token);
    expect(claims.sub).not.toBe(existing.userId);
    expect(claims.email).toBeUndefined();
  });

  it('on: a verified email links to the existing user; an unverified one does not', async () => {
    await putProvider(t, 'linked', { linkByEmail: true });
    const existing = await pageUser(t);
    op.next = { sub: sub(), email: existing.email, email_verified: false };
    let start = authUrl(t, client.client_id, CB, { identity_provider: 'linked' });
    let code = new URL((await follow(new CookieJar(), start.url)).url).searchParams.get('code')!;
    expect(decodeJwt((await redeemCode(t, client, code, CB, start.verifier)).id_token).sub).not.toBe(
      existing.userId,
    );

    op.next = { sub: sub(), email: existing.email, email_verified: true };
    start = authUrl(t, client.client_id, CB, { identity_provider: 'linked' });
    code = new URL((await follow(new CookieJar(), start.url)).url).searchParams.get('code')!;
    const claims = decodeJwt((await redeemCode(t, client, code, CB, start.verifier)).id_token);
    expect(claims.sub).toBe(existing.userId);
    expect(claims.idp).toBe('linked');
  });

  it('acr_values=mfa after an upstream sign-in asks the linked user for a local second method', async () => {
    const existing = await pageUser(t);
    op.next = { sub: sub(), email: existing.email, email_verified: true };
    const { url, verifier } = authUrl(t, client.client_id, CB, {
      identity_provider: 'linked',
      acr_values: 'mfa',
    });
    const jar = new CookieJar();
    const { url: landed } = await follow(jar, url, (u) => u.includes('?second=1'));
    expect(landed).toContain('?second=1');
    const page = landed.split('?')[0]!;
    let html = await (await go(jar, landed)).text();
    if (!html.includes('autocomplete="one-time-code"'))
      html = await (await go(jar, `${page}?view=totp`)).text();
    const res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: existing.totp() } });
    const back = new URL(res.headers.get('location')!);
    const claims = decodeJwt(
      (await redeemCode(t, client, back.searchParams.get('code')!, CB, verifier)).id_token,
    );
    expect(claims.sub).toBe(existing.userId);
    expect(claims.acr).toBe('mfa');
    expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'otp', 'mfa']));
  });
});
