/**
 * The hosted login for OIDC flows that do not start with /init-auth, over plain HTTP with a cookie
 * jar: identify, challenge, SSO session, consent, prompt, max_age, acr_values, logout.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { servicesFor } from '../../functions/services.js';
import { CookieJar } from '../support/cookie-jar.js';
import {
  body,
  decodeEntities,
  docAuth,
  JSON_TYPE,
  postToken,
  verify,
  type TestTenant,
} from '../support/flow.js';
import { csrfOf, go } from '../support/hosted-login.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
const CB = 'https://rp.example.com/cb';
const LOGGED_OUT = 'https://rp.example.com/logged-out';

interface RegisteredClient {
  client_id: string;
  client_secret: string;
}
let thirdParty: RegisteredClient;
let firstParty: RegisteredClient;

async function registerClient(name: string, firstPartyFlag: boolean): Promise<RegisteredClient> {
  const res = await http(`${t.origin}/v1/clients`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [CB],
      post_logout_redirect_uris: [LOGGED_OUT],
      scope: 'openid profile email',
      first_party: firstPartyFlag,
    }),
  });
  const json = await body<RegisteredClient>(res);
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

interface User {
  userId: string;
  email: string;
  totp: () => string;
}

async function newUser(opts: { emailMethod?: boolean } = {}): Promise<User> {
  const userId = `u-${randomBytes(4).toString('hex')}`;
  const email = `${userId}@example.com`;
  const res = await http(`${t.origin}/v1/users/${userId}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ email, email_verified: true, name: 'Ada Lovelace' }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const services = await servicesFor('us');
  const auth = createAuthenticatorService(services.tenants.scoped(t.id), {
    mailer: services.mailer,
    secretBox: services.secretBox,
    rpId: new URL(t.origin).hostname,
    rpName: t.slug,
    origin: t.origin,
  });
  const { secret } = await auth.createTotp(userId, email);
  if (opts.emailMethod) await auth.enrollEmail(userId, email);
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  // A code per 30 s step can be used once: step forward in time for each new login.
  let step = 0;
  return { userId, email, totp: () => totp.generate({ timestamp: Date.now() + 30_000 * step++ - 30_000 }) };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authUrl(client: RegisteredClient, extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const nonce = randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: CB,
    response_type: 'code',
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: `${t.issuer}/auth?${q}`, verifier, state, nonce };
}

/** Follows one login through the pages until the redirect to the client; returns that Location. */
async function login(
  jar: CookieJar,
  start: string,
  user: User,
  opts: { consent?: 'allow' | 'deny'; second?: 'email' } = {},
): Promise<URL> {
  let res = await go(jar, start);
  expect(res.status).toBe(303);
  const page = `${t.origin}${res.headers.get('location')}`;
  let html = await (await go(jar, page)).text();
  if (html.includes('name="identifier"')) {
    expect(html).toContain('autocomplete="username webauthn"');
    res = await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: user.email } });
    expect(res.status).toBe(303);
    html = await (await go(jar, page)).text();
  }
  // A user with several methods chooses first.
  if (!html.includes('autocomplete="one-time-code"'))
    html = await (await go(jar, `${page}?view=totp`)).text();
  expect(html).toContain('autocomplete="one-time-code"');
  res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
  if (opts.second === 'email') {
    expect(res.status).toBe(303);
    html = await (await go(jar, page)).text();
    expect(html).toContain('verify with a second method');
    expect((await go(jar, `${page}/email-send`, { form: { csrf: csrfOf(html) } })).status).toBe(303);
    const services = await servicesFor('us');
    const mail = (services.mailer as unknown as { latest(to: string): { text: string } | undefined }).latest(
      user.email,
    );
    const code = /\b(\d{6})\b/.exec(mail!.text)![1]!;
    html = await (await go(jar, page)).text();
    res = await go(jar, `${page}/email-verify`, { form: { csrf: csrfOf(html), code } });
  }
  if (res.status === 303 && res.headers.get('location')?.startsWith('/interaction/')) {
    html = await (await go(jar, page)).text();
    expect(html).toContain('wants to access your account');
    res = await go(jar, `${page}/consent`, {
      form: { csrf: csrfOf(html), decision: opts.consent ?? 'allow' },
    });
  }
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function redeem(client: RegisteredClient, code: string, verifier: string) {
  const res = await postToken(
    t,
    { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier },
    { authorization: basic(client.client_id, client.client_secret) },
  );
  const tokens = await body<{ id_token: string; access_token: string }>(res);
  expect(res.status, JSON.stringify(tokens)).toBe(200);
  return tokens;
}

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  thirdParty = await registerClient('Photo Printer', false);
  firstParty = await registerClient('Own App', true);
});
afterAll(async () => {
  await server.stop();
});

describe('hosted login', () => {
  it('identifies, challenges, asks consent for a third-party client, and issues a code bound to PKCE and nonce', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const req = authUrl(thirdParty);
    const back = await login(jar, req.url, user);
    expect(`${back.origin}${back.pathname}`).toBe(CB);
    expect(back.searchParams.get('state')).toBe(req.state);
    expect(back.searchParams.get('iss')).toBe(t.issuer);
    expect(jar.get('idp_session')).toBeTruthy();
    const tokens = await redeem(thirdParty, back.searchParams.get('code')!, req.verifier);
    const { payload } = await verify(t, tokens.id_token, thirdParty.client_id);
    expect(payload.sub).toBe(user.userId);
    expect(payload.nonce).toBe(req.nonce);
    expect(typeof payload.auth_time).toBe('number');
    expect(payload.amr).toEqual(['otp']);
  });

  it('SSO: a second request answers at once from the session, consent remembered', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    await login(jar, authUrl(thirdParty).url, user);
    const again = authUrl(thirdParty);
    const res = await go(jar, again.url);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('code')).toBeTruthy();
    const tokens = await redeem(thirdParty, back.searchParams.get('code')!, again.verifier);
    expect((await verify(t, tokens.id_token, thirdParty.client_id)).payload.sub).toBe(user.userId);
  });

  it('SSO across two clients: the first-party client needs no consent page', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    await login(jar, authUrl(thirdParty).url, user);
    const res = await go(jar, authUrl(firstParty).url);
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('prompt=none: login_required without a session, a code with one', async () => {
    const none = await go(new CookieJar(), authUrl(firstParty, { prompt: 'none' }).url);
    expect(none.status).toBe(302);
    const err = new URL(none.headers.get('location')!);
    expect(err.searchParams.get('error')).toBe('login_required');
    const user = await newUser();
    const jar = new CookieJar();
    await login(jar, authUrl(firstParty).url, user);
    const ok = await go(jar, authUrl(firstParty, { prompt: 'none' }).url);
    expect(new URL(ok.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('prompt=none for a third-party client without consent answers consent_required', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    await login(jar, authUrl(firstParty).url, user);
    const res = await go(jar, authUrl(thirdParty, { prompt: 'none' }).url);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('consent_required');
  });

  it('max_age=0 and prompt=login ask the user again; prompt=none with max_age=0 is login_required', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    await login(jar, authUrl(firstParty).url, user);
    await new Promise((r) => setTimeout(r, 1100));
    for (const extra of [{ max_age: '0' }, { prompt: 'login' }] as Record<string, string>[]) {
      const res = await go(jar, authUrl(firstParty, extra).url);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/interaction\//);
    }
    const none = await go(jar, authUrl(firstParty, { prompt: 'none', max_age: '0' }).url);
    expect(new URL(none.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  it('denying consent returns access_denied to the client', async () => {
    const user = await newUser();
    const back = await login(new CookieJar(), authUrl(thirdParty).url, user, { consent: 'deny' });
    expect(back.searchParams.get('error')).toBe('access_denied');
  });

  it('acr_values=mfa asks for a second, different method', async () => {
    const user = await newUser({ emailMethod: true });
    const req = authUrl(firstParty, { acr_values: 'mfa' });
    const back = await login(new CookieJar(), req.url, user, { second: 'email' });
    const tokens = await redeem(firstParty, back.searchParams.get('code')!, req.verifier);
    const { payload } = await verify(t, tokens.id_token, firstParty.client_id);
    expect(payload.amr).toContain('mfa');
  });

  it('acr_values=mfa (voluntary) for a user with one method: the best they can do, and acr says so', async () => {
    const user = await newUser();
    const req = authUrl(firstParty, { acr_values: 'mfa' });
    const back = await login(new CookieJar(), req.url, user);
    expect(back.searchParams.get('error')).toBeNull();
    const tokens = await redeem(firstParty, back.searchParams.get('code')!, req.verifier);
    const { payload } = await verify(t, tokens.id_token, firstParty.client_id);
    expect(payload.acr).toBe('urn:identity:acr:single-factor');
    expect(payload.amr).not.toContain('mfa');
  });

  it('an unknown acr_values value is ignored: the acr achieved is returned', async () => {
    const user = await newUser();
    const req = authUrl(firstParty, { acr_values: 'urn:example:loa:4' });
    const back = await login(new CookieJar(), req.url, user);
    const tokens = await redeem(firstParty, back.searchParams.get('code')!, req.verifier);
    const { payload } = await verify(t, tokens.id_token, firstParty.client_id);
    expect(payload.acr).toBe('urn:identity:acr:single-factor');
  });

  it('essential acr=mfa (claims) for a user with one method ends unmet_authentication_requirements', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const claims = JSON.stringify({ id_token: { acr: { essential: true, values: ['mfa'] } } });
    const res = await go(jar, authUrl(firstParty, { claims }).url);
    const page = `${t.origin}${res.headers.get('location')}`;
    let html = await (await go(jar, page)).text();
    await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: user.email } });
    html = await (await go(jar, page)).text();
    const done = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
    const back = new URL(done.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('essential acr=mfa is met with a second method, and the acr is the requested value', async () => {
    const user = await newUser({ emailMethod: true });
    const claims = JSON.stringify({ id_token: { acr: { essential: true, value: 'mfa' } } });
    const req = authUrl(firstParty, { claims });
    const back = await login(new CookieJar(), req.url, user, { second: 'email' });
    const tokens = await redeem(firstParty, back.searchParams.get('code')!, req.verifier);
    const { payload } = await verify(t, tokens.id_token, firstParty.client_id);
    expect(payload.acr).toBe('mfa');
  });

  it('essential acr values none of which is supported are refused before any page', async () => {
    const claims = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:example:loa:4'] } } });
    const req = authUrl(firstParty, { claims });
    const res = await go(new CookieJar(), req.url);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(back.searchParams.get('state')).toBe(req.state);
  });

  it('an SSO session of one factor does not satisfy essential mfa with prompt=none', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    await login(jar, authUrl(firstParty).url, user);
    const claims = JSON.stringify({ id_token: { acr: { essential: true, values: ['mfa'] } } });
    const none = await go(jar, authUrl(firstParty, { prompt: 'none', claims }).url);
    expect(new URL(none.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    // Essential single-factor is met by the same session, and the acr is that value.
    const one = JSON.stringify({
      id_token: { acr: { essential: true, values: ['urn:identity:acr:single-factor'] } },
    });
    const req = authUrl(firstParty, { prompt: 'none', claims: one });
    const ok = new URL((await go(jar, req.url)).headers.get('location')!);
    const tokens = await redeem(firstParty, ok.searchParams.get('code')!, req.verifier);
    expect((await verify(t, tokens.id_token, firstParty.client_id)).payload.acr).toBe(
      'urn:identity:acr:single-factor',
    );
  });

  it('an unknown identifier gets the same kind of screen, and no answer works', async () => {
    const jar = new CookieJar();
    const res = await go(jar, authUrl(firstParty).url);
    const page = `${t.origin}${res.headers.get('location')}`;
    let html = await (await go(jar, page)).text();
    const id = await go(jar, `${page}/identify`, {
      form: { csrf: csrfOf(html), identifier: 'nobody@example.com' },
    });
    expect(id.status).toBe(303);
    html = await (await go(jar, page)).text();
    expect(html).toContain('Verify it&#39;s you');
    html = await (await go(jar, `${page}?view=email`)).text();
    const sent = await go(jar, `${page}/email-send`, { form: { csrf: csrfOf(html) } });
    expect(sent.status).toBe(303);
    html = await (await go(jar, page + '?view=email')).text();
    expect(html).toContain('Check your email');
    expect(html).toContain('n•••@example.com');
    const wrong = await go(jar, `${page}/email-verify`, { form: { csrf: csrfOf(html), code: '123456' } });
    expect(wrong.status).toBe(400);
  });

  it('the claims parameter adds single claims to the ID token and to UserInfo (OIDC Core §5.5)', async () => {
    const user = await newUser();
    const claims = JSON.stringify({ id_token: { email: { essential: true } }, userinfo: { name: null } });
    const req = authUrl(firstParty, { scope: 'openid', claims });
    const back = await login(new CookieJar(), req.url, user);
    const tokens = await redeem(firstParty, back.searchParams.get('code')!, req.verifier);
    const { payload } = await verify(t, tokens.id_token, firstParty.client_id);
    expect(payload.email).toBe(user.email);
    expect(payload.name).toBeUndefined();
    const info = await http(`${t.issuer}/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    const body2 = await body<Record<string, unknown>>(info);
    expect(info.status, JSON.stringify(body2)).toBe(200);
    expect(body2.name).toBe('Ada Lovelace');
    expect(body2.email).toBeUndefined();
  });

  it('a malformed claims parameter is an invalid_request for the client', async () => {
    const res = await go(new CookieJar(), authUrl(firstParty, { claims: '{not json' }).url);
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('logout with id_token_hint ends the session and returns to the registered URI with state', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const req = authUrl(firstParty);
    const back = await login(jar, req.url, user);
    const tokens = await redeem(firstParty, back.searchParams.get('code')!, req.verifier);
    const q = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: LOGGED_OUT,
      state: 'bye',
    });
    const res = await go(jar, `${t.issuer}/session/end?${q}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${LOGGED_OUT}?state=bye`);
    expect(jar.get('idp_session')).toBeUndefined();
    const none = await go(jar, authUrl(firstParty, { prompt: 'none' }).url);
    expect(new URL(none.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  it('logout without a hint asks the user to confirm; an unregistered post_logout_redirect_uri is refused', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    await login(jar, authUrl(firstParty).url, user);
    const bad = await go(
      jar,
      `${t.issuer}/session/end?client_id=${firstParty.client_id}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example.com/')}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('location')).toBeNull();
    const confirm = await go(jar, `${t.issuer}/session/end?client_id=${firstParty.client_id}`);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html).toContain('Sign out?');
    expect(jar.get('idp_session')).toBeTruthy();
    const csrf = decodeEntities(/name="logout_csrf" value="([^"]+)"/.exec(html)![1]!);
    const forged = await go(jar, `${t.issuer}/session/end`, {
      form: { client_id: firstParty.client_id, logout_csrf: 'x' },
    });
    expect(await forged.text()).toContain('Sign out?');
    const done = await go(jar, `${t.issuer}/session/end`, {
      form: { client_id: firstParty.client_id, logout_csrf: csrf },
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('signed out');
    expect(jar.get('idp_session')).toBeUndefined();
  });
});
