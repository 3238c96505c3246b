/**
 * CIBA in poll mode (OpenID Connect CIBA Core 1.0, as Transmit Mosaic documents it) over HTTP: a
 * confidential client names a user, the user gets a link (by email, or through the client), signs
 * in on the hosted pages and approves; the client polls the token endpoint with the auth_req_id.
 */
import { pendingGrantKey } from '../../functions/oidc/decoupled-grant.js';
import { servicesFor } from '../../functions/services.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, verify, type TestTenant } from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import {
  CIBA_GRANT,
  CookieJar,
  DEVICE_GRANT,
  go,
  newUser,
  oauthError,
  outbox,
  postAs,
  registerApp,
  registerRaw,
  signInAndDecide,
  textOf,
  type App,
} from '../support/decoupled-grants.js';

let server: TestServer;
let t: TestTenant;
let bank: App;
let other: App;
let publicApp: App;

interface BackchannelResponse {
  auth_req_id: string;
  expires_in: number;
  interval: number;
  link?: string;
}

interface Tokens {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  bank = await registerApp(t, {
    client_name: 'Bank Call Centre',
    grant_types: [CIBA_GRANT, 'refresh_token'],
    scope: 'openid profile email offline_access',
  });
  other = await registerApp(t, {
    client_name: 'Other Backend',
    grant_types: [CIBA_GRANT, 'authorization_code'],
    redirect_uris: ['https://other.example.com/cb'],
    scope: 'openid',
  });
  publicApp = await registerApp(t, {
    client_name: 'Kiosk',
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: [DEVICE_GRANT],
    scope: 'openid',
  });
});
afterAll(async () => {
  await server.stop();
});

const backchannel = (app: App, form: Record<string, string>) =>
  postAs(t, app, '/backchannel', { scope: 'openid', ...form });

async function start(app: App, form: Record<string, string>): Promise<BackchannelResponse> {
  const res = await backchannel(app, form);
  const json = await body<BackchannelResponse>(res);
  expect(res.status, JSON.stringify(json)).toBe(200);
  expect(res.headers.get('cache-control')).toContain('no-store');
  return json;
}

const poll = (app: App, authReqId: string) =>
  postAs(t, app, '/token', { grant_type: CIBA_GRANT, auth_req_id: authReqId });

const context = (value: Record<string, string>) => JSON.stringify(value);

/** The link in the latest mail to `to`. */
async function mailedLink(to: string): Promise<{ link: string; subject: string; text: string }> {
  const mail = (await outbox()).latest(to);
  expect(mail, `a mail to ${to}`).toBeTruthy();
  const link = new RegExp(`${t.origin}/oidc/backchannel/verify\\?id=[A-Za-z0-9_-]+`).exec(mail!.text)?.[0];
  expect(link, mail!.text).toBeTruthy();
  return { link: link!, subject: mail!.subject, text: mail!.text };
}

describe('CIBA poll mode', () => {
  it('end to end with channel email: the mailed link, the binding message, tokens once', async () => {
    const user = await newUser(t);
    const req = await start(bank, {
      scope: 'openid email offline_access',
      login_hint: user.email,
      binding_message: 'TX-4711',
    });
    expect(req.expires_in).toBe(600);
    expect(req.interval).toBe(5);
    expect(req.link).toBeUndefined();
    expect(req.auth_req_id.length).toBeGreaterThanOrEqual(43);
    expect(await oauthError(await poll(bank, req.auth_req_id))).toMatchObject({
      status: 400,
      error: 'authorization_pending',
    });

    const mail = await mailedLink(user.email);
    expect(mail.subject).toBe('Confirm your sign-in to Bank Call Centre');
    expect(mail.text).toContain('click this link:');
    expect(mail.text).toContain('TX-4711');
    // The link has its own id, never the auth_req_id.
    expect(mail.link).not.toContain(req.auth_req_id);

    const jar = new CookieJar();
    const opened = await go(jar, mail.link);
    // The request named the user: no identify screen, the user is challenged at once.
    const { approval, done } = await signInAndDecide(t, jar, opened, user, { identify: false });
    expect(textOf(approval)).toContain('Bank Call Centre');
    expect(textOf(approval)).toContain('Check that your other device shows: TX-4711');
    expect(textOf(approval)).toContain(user.email);
    expect(textOf(done)).toContain('You are signed in on your other device');

    const res = await poll(bank, req.auth_req_id);
    const tokens = await body<Tokens>(res);
    expect(res.status, JSON.stringify(tokens)).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    const { payload } = await verify(t, tokens.id_token!, bank.client_id);
    expect(payload.sub).toBe(user.userId);
    expect(typeof payload.auth_time).toBe('number');
    expect(payload.amr).toEqual(['otp']);
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe('openid email offline_access');
    expect(await oauthError(await poll(bank, req.auth_req_id))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    // The link is spent with the request.
    expect((await go(new CookieJar(), mail.link)).status).toBe(400);
  });

  it('channel link with login_hint_type user_id: the link comes back to the client, nothing is mailed', async () => {
    const user = await newUser(t);
    const req = await start(bank, {
      login_hint: user.userId,
      request_context: context({ channel: 'link', login_hint_type: 'user_id' }),
    });
    expect(req.link).toMatch(new RegExp(`^${t.origin}/oidc/backchannel/verify\\?id=[A-Za-z0-9_-]{43}$`));
    expect((await outbox()).latest(user.email)).toBeUndefined();
    const jar = new CookieJar();
    await signInAndDecide(t, jar, await go(jar, req.link!), user, { identify: false });
    const tokens = await body<Tokens>(await poll(bank, req.auth_req_id));
    expect((await verify(t, tokens.id_token!, bank.client_id)).payload.sub).toBe(user.userId);
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('keeps the known acr_values with the request (OIDC CIBA §7.1), and the tokens say the acr reached', async () => {
    const user = await newUser(t);
    const req = await start(bank, {
      login_hint: user.userId,
      acr_values: 'urn:example:loa:9 mfa',
      request_context: context({ channel: 'link', login_hint_type: 'user_id' }),
    });
    const stored = await (
      await servicesFor('us')
    ).tenants
      .scoped(t.id)
      .get<{ acrValues?: string[] }>(pendingGrantKey(req.auth_req_id));
    expect(stored?.acrValues).toEqual(['mfa']);
    const jar = new CookieJar();
    await signInAndDecide(t, jar, await go(jar, req.link!), user, { identify: false });
    const tokens = await body<Tokens>(await poll(bank, req.auth_req_id));
    const { payload } = await verify(t, tokens.id_token!, bank.client_id);
    expect(payload.sub).toBe(user.userId);
    // Voluntary (the user has one method): the sign-in passes, and the token says the level reached.
    expect(payload.acr).toBe('urn:identity:acr:single-factor');
  });

  it('only the hinted user can approve: another user’s session is not used, their code does not pass', async () => {
    const alice = await newUser(t);
    const mallory = await newUser(t);
    const jar = new CookieJar();
    // Mallory signs in on this browser first (her SSO session is in the jar).
    const first = await start(bank, {
      login_hint: mallory.email,
      request_context: context({ channel: 'link' }),
    });
    await signInAndDecide(t, jar, await go(jar, first.link!), mallory, { identify: false });
    expect(jar.get('idp_session')).toBeTruthy();

    const req = await start(bank, { login_hint: alice.email, request_context: context({ channel: 'link' }) });
    const opened = await go(jar, req.link!);
    expect(opened.status).toBe(303);
    const page = `${t.origin}${opened.headers.get('location')}`;
    const html = await (await go(jar, page)).text();
    // Challenged as Alice, not an approval page for Mallory's session.
    expect(html).toContain('autocomplete="one-time-code"');
    expect(html).not.toContain('wants to access your account');
    expect(textOf(html)).not.toContain(mallory.email);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const wrong = await go(jar, `${page}/totp`, { form: { csrf, code: mallory.totp() } });
    expect(wrong.status).toBe(400);
    expect(textOf(await wrong.text())).toContain('That code is not right');
    expect(await oauthError(await poll(bank, req.auth_req_id))).toMatchObject({
      error: 'authorization_pending',
    });

    // Alice, from her own browser, approves: the tokens are hers.
    const aliceJar = new CookieJar();
    await signInAndDecide(t, aliceJar, await go(aliceJar, req.link!), alice, { identify: false });
    const tokens = await body<Tokens>(await poll(bank, req.auth_req_id));
    expect((await verify(t, tokens.id_token!, bank.client_id)).payload.sub).toBe(alice.userId);
  });

  it('access_denied when the user denies; slow_down when polled too fast', async () => {
    const user = await newUser(t);
    const req = await start(bank, { login_hint: user.email, request_context: context({ channel: 'link' }) });
    expect(await oauthError(await poll(bank, req.auth_req_id))).toMatchObject({
      error: 'authorization_pending',
    });
    expect(await oauthError(await poll(bank, req.auth_req_id))).toMatchObject({ error: 'slow_down' });
    const jar = new CookieJar();
    const { done } = await signInAndDecide(t, jar, await go(jar, req.link!), user, {
      identify: false,
      decision: 'deny',
    });
    expect(textOf(done)).toContain('was not approved');
    expect(await oauthError(await poll(bank, req.auth_req_id))).toMatchObject({
      status: 400,
      error: 'access_denied',
    });
  });

  it('mails in the user’s language and with the client’s custom message', async () => {
    const user = await newUser(t, { locale: 'es-ES' });
    await start(bank, {
      login_hint: user.email,
      request_context: context({ channel: 'email', custom_message: 'Approve the transfer here:' }),
    });
    const mail = await mailedLink(user.email);
    expect(mail.subject).toBe('Confirma tu inicio de sesión en Bank Call Centre');
    expect(mail.text).toContain('Approve the transfer here:');
    expect(mail.text).toContain('El enlace caduca en 10 minutos');
  });

  it('clamps requested_expiry to 60..600 seconds', async () => {
    const user = await newUser(t);
    const link = context({ channel: 'link' });
    const short = await start(bank, { login_hint: user.email, requested_expiry: '5', request_context: link });
    expect(short.expires_in).toBe(60);
    const long = await start(bank, {
      login_hint: user.email,
      requested_expiry: '86400',
      request_context: link,
    });
    expect(long.expires_in).toBe(600);
    const mid = await start(bank, { login_hint: user.email, requested_expiry: '120', request_context: link });
    expect(mid.expires_in).toBe(120);
    const bad = await backchannel(bank, { login_hint: user.email, requested_expiry: 'soon' });
    expect(await oauthError(bad)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('an auth_req_id works only for the client it was issued to', async () => {
    const user = await newUser(t);
    const req = await start(bank, { login_hint: user.email, request_context: context({ channel: 'link' }) });
    expect(await oauthError(await poll(other, req.auth_req_id))).toMatchObject({ error: 'invalid_grant' });
    expect(await oauthError(await poll(bank, 'unknown-request'))).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('backchannel authentication request errors', () => {
  it('unknown login_hint → 400 unknown_user_id (email, username, user_id)', async () => {
    const forms: Record<string, string>[] = [
      { login_hint: 'nobody@example.com' },
      { login_hint: 'nobody' },
      { login_hint: 'u-nobody', request_context: context({ login_hint_type: 'user_id' }) },
    ];
    for (const form of forms) {
      const res = await backchannel(bank, form);
      expect(await oauthError(res)).toMatchObject({ status: 400, error: 'unknown_user_id' });
    }
  });

  it('a public client → 401 invalid_client; a client without the grant → unauthorized_client', async () => {
    const user = await newUser(t);
    const pub = await backchannel(publicApp, { login_hint: user.email });
    expect(await oauthError(pub)).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(pub.headers.get('www-authenticate')).toBeTruthy();
    const wrongSecret = await backchannel({ ...bank, client_secret: 'wrong' }, { login_hint: user.email });
    expect(await oauthError(wrongSecret)).toMatchObject({ status: 401, error: 'invalid_client' });
    const noAuth = await backchannel({ client_id: bank.client_id }, { login_hint: user.email });
    expect(await oauthError(noAuth)).toMatchObject({ status: 401, error: 'invalid_client' });
    const plain = await registerApp(t, { grant_types: ['client_credentials'], scope: 'openid' });
    const noGrant = await backchannel(plain, { login_hint: user.email });
    expect(await oauthError(noGrant)).toMatchObject({ status: 400, error: 'unauthorized_client' });
    // A public client cannot even be registered with the CIBA grant.
    const registered = await registerRaw(t, {
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: [CIBA_GRANT],
    });
    expect(registered.status).toBe(400);
  });

  it('invalid binding_message → 400 invalid_binding_message', async () => {
    const user = await newUser(t);
    for (const message of ['hello world', 'x'.repeat(21), 'TX<4711>', '']) {
      const res = await backchannel(bank, { login_hint: user.email, binding_message: message });
      expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_binding_message' });
    }
    const ok = await backchannel(bank, {
      login_hint: user.email,
      binding_message: 'a-Z.0_9+/!?#',
      request_context: context({ channel: 'link' }),
    });
    expect(ok.status).toBe(200);
  });

  it('refuses a scope without openid, a missing login_hint, unsupported channels and malformed request_context', async () => {
    const user = await newUser(t);
    const cases: [Record<string, string>, string][] = [
      [{ scope: 'email', login_hint: user.email }, 'invalid_scope'],
      [{ scope: 'openid admin', login_hint: user.email }, 'invalid_scope'],
      [{}, 'invalid_request'],
      [{ login_hint: user.email, request_context: context({ channel: 'sms' }) }, 'invalid_request'],
      [{ login_hint: user.email, request_context: context({ login_hint_type: 'phone' }) }, 'invalid_request'],
      [{ login_hint: user.email, request_context: '{not json' }, 'invalid_request'],
      [
        { login_hint: user.email, request_context: context({ channel: 'carrier-pigeon' }) },
        'invalid_request',
      ],
      [{ login_hint: user.email, id_token_hint: 'eyJ' }, 'invalid_request'],
    ];
    for (const [form, error] of cases) {
      const res = await backchannel(bank, form);
      expect(await oauthError(res), JSON.stringify(form)).toMatchObject({ status: 400, error });
    }
  });

  it('an unknown or malformed link shows an error page', async () => {
    for (const id of ['', 'x', 'A'.repeat(43)]) {
      const res = await http(`${t.origin}/oidc/backchannel/verify?id=${id}`);
      expect(res.status).toBe(400);
      expect(textOf(await res.text())).toContain('This link is not valid or has expired');
    }
  });
});

describe('discovery', () => {
  it('advertises both endpoints, poll mode and both grant types', async () => {
    const doc = await body<Record<string, unknown>>(
      await http(`${t.issuer}/.well-known/openid-configuration`),
    );
    expect(doc.backchannel_authentication_endpoint).toBe(`${t.issuer}/backchannel`);
    expect(doc.device_authorization_endpoint).toBe(`${t.issuer}/device/auth`);
    expect(doc.backchannel_token_delivery_modes_supported).toEqual(['poll']);
    expect(doc.backchannel_user_code_parameter_supported).toBe(false);
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining([CIBA_GRANT, DEVICE_GRANT]));
  });
});
