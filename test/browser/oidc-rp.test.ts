/**
 * End to end as a relying party developer meets the provider: openid-client (a certified RP
 * library) builds every request and checks every response, the user's part happens in Chromium on
 * the hosted login pages (identify, authenticator app code, consent), and the app's callback and
 * post-logout pages are a tiny local server. Code + PKCE, form_post, refresh rotation,
 * client_credentials, userinfo, introspection, revocation, RP-initiated logout, prompt=none,
 * max_age, and SSO across two clients.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  openPage,
  type TestPage,
  closedAfterEachWithoutCspViolations,
} from '../support/browser.js';
import type { TestTenant } from '../support/flow.js';
import {
  authRequest,
  createTotpUser,
  landedAt,
  recordNavigations,
  registerApp,
  signInOnPage,
  startAppServer,
  type AppServer,
  type AuthRequest,
  type TotpUser,
} from '../support/oidc-browser.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { client, rp, rpError } from '../support/relying-party.js';

let server: TestServer;
let browser: Browser;
let app: AppServer;
let t: TestTenant;
/** Client A: a third-party app (the user is asked for consent). */
let configA: client.Configuration;
/** Client B: a first-party app of the tenant (no consent page). */
let configB: client.Configuration;
/** A confidential service allowed client_credentials only. */
let configService: client.Configuration;
let serviceId: string;
/** Closed after each test, which fails on any Content Security Policy violation they reported. */
const keep = closedAfterEachWithoutCspViolations();

const SCOPE = 'openid profile email offline_access';

beforeAll(async () => {
  [server, browser, app] = await Promise.all([startTestServer(), launchBrowser(), startAppServer()]);
  t = await server.tenant();
  const userApp = (name: string, firstParty: boolean) =>
    registerApp(t, {
      client_name: name,
      redirect_uris: [app.url],
      post_logout_redirect_uris: [app.loggedOut],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: SCOPE,
      token_endpoint_auth_method: 'client_secret_basic',
      first_party: firstParty,
    });
  const [a, b, service] = await Promise.all([
    userApp('Photo Printer', false),
    userApp('Own App', true),
    registerApp(t, {
      client_name: 'Nightly Job',
      grant_types: ['client_credentials'],
      scope: 'api:read api:write',
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  ]);
  serviceId = service.client_id;
  [configA, configB, configService] = await Promise.all([
    rp(t, a.client_id, client.ClientSecretBasic(a.client_secret)),
    rp(t, b.client_id, client.ClientSecretBasic(b.client_secret)),
    rp(t, service.client_id, client.ClientSecretBasic(service.client_secret)),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await app?.close();
});

/** A fresh browser (own cookie jar) whose every top-level navigation is recorded. */
async function newBrowser(): Promise<{ tp: TestPage; navigations: string[] }> {
  const tp = await openPage(browser, app);
  keep(tp);
  return { tp, navigations: recordNavigations(tp) };
}

const interactionPages = (navigations: string[]) =>
  navigations.filter((u) => new URL(u).pathname.startsWith('/interaction/'));

type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

/** openid-client completes the authorization response the browser brought back. */
function redeem(
  config: client.Configuration,
  callback: URL | Request,
  req: AuthRequest,
  checks: { maxAge?: number } = {},
): Promise<Tokens> {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: req.pkceCodeVerifier,
    expectedState: req.state,
    expectedNonce: req.nonce,
    ...checks,
  });
}

/** A whole login in the browser for one client: the login pages, then the code redeemed. */
async function logIn(
  tp: TestPage,
  config: client.Configuration,
  user: TotpUser,
  opts: { consent?: boolean } = {},
): Promise<Tokens> {
  const req = await authRequest(config, app.url);
  await tp.page.goto(req.url.href);
  await signInOnPage(tp, user, opts);
  return redeem(config, await landedAt(tp, app.url), req);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('openid-client against the hosted login in Chromium', () => {
  it('code + PKCE with consent: the ID token carries auth_time, nonce, sid, acr and amr; userinfo answers', async () => {
    const user = await createTotpUser(t);
    const { tp, navigations } = await newBrowser();
    const req = await authRequest(configA, app.url);
    expect(req.url.searchParams.get('code_challenge_method')).toBe('S256');
    const before = nowSeconds();
    await tp.page.goto(req.url.href);
    await signInOnPage(tp, user, { consent: true });
    const callback = await landedAt(tp, app.url);
    expect(callback.searchParams.get('state')).toBe(req.state);
    expect(callback.searchParams.get('iss')).toBe(t.issuer);
    // The user saw the login pages (identify, code, consent) on the provider's own origin.
    expect(interactionPages(navigations).length).toBeGreaterThan(0);
    expect((await tp.context.cookies(t.origin)).map((c) => c.name)).toContain('idp_session');

    const tokens = await redeem(configA, callback, req);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope?.split(' ').sort()).toEqual(SCOPE.split(' ').sort());
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(t.issuer);
    expect(claims.aud).toBe(configA.clientMetadata().client_id);
    expect(claims.sub).toBe(user.userId);
    expect(claims.nonce).toBe(req.nonce);
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.auth_time!).toBeGreaterThanOrEqual(before - 1);
    expect(claims.auth_time!).toBeLessThanOrEqual(claims.iat);
    expect(typeof claims.sid).toBe('string');
    expect((claims.sid as string).length).toBeGreaterThan(0);
    expect(claims.acr).toBe('urn:identity:acr:single-factor');
    expect(claims.amr).toEqual(['otp']);

    const info = await client.fetchUserInfo(configA, tokens.access_token, user.userId);
    expect(info).toMatchObject({
      sub: user.userId,
      email: user.email,
      email_verified: true,
      name: 'Ada Lovelace',
    });
  });

  it('refresh token rotation: each refresh token works once; replaying a rotated one revokes the family', async () => {
    const user = await createTotpUser(t);
    const { tp } = await newBrowser();
    const first = await logIn(tp, configA, user, { consent: true });
    const second = await client.refreshTokenGrant(configA, first.refresh_token!);
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    // OIDC Core §12.2: the refreshed ID token is about the same login (auth_time, sid), without a nonce.
    expect(second.id_token).toBeTruthy();
    const [before, after] = [first.claims()!, second.claims()!];
    expect(after).toMatchObject({
      sub: user.userId,
      aud: before.aud,
      auth_time: before.auth_time,
      sid: before.sid,
    });
    expect(after.nonce).toBeUndefined();
    const third = await client.refreshTokenGrant(configA, second.refresh_token!);
    expect(third.refresh_token).not.toBe(second.refresh_token);

    expect((await rpError(client.refreshTokenGrant(configA, first.refresh_token!))).error).toBe(
      'invalid_grant',
    );
    // Reuse detection (OAuth 2.0 Security BCP §4.14.2): the live token of the family dies too.
    expect((await rpError(client.refreshTokenGrant(configA, third.refresh_token!))).error).toBe(
      'invalid_grant',
    );
    expect((await client.tokenIntrospection(configA, third.access_token)).active).toBe(false);
  });

  it('introspection: active for the access and refresh tokens, inactive after revocation', async () => {
    const user = await createTotpUser(t);
    const { tp } = await newBrowser();
    const tokens = await logIn(tp, configA, user, { consent: true });
    const clientId = configA.clientMetadata().client_id;

    const access = await client.tokenIntrospection(configA, tokens.access_token);
    expect(access).toMatchObject({ active: true, sub: user.userId, client_id: clientId, iss: t.issuer });
    expect(access.scope?.split(' ')).toContain('openid');
    const refresh = await client.tokenIntrospection(configA, tokens.refresh_token!, {
      token_type_hint: 'refresh_token',
    });
    expect(refresh).toMatchObject({ active: true, sub: user.userId, client_id: clientId });

    await client.tokenRevocation(configA, tokens.access_token, { token_type_hint: 'access_token' });
    expect((await client.tokenIntrospection(configA, tokens.access_token)).active).toBe(false);
    expect((await rpError(client.fetchUserInfo(configA, tokens.access_token, user.userId))).error).toBe(
      'invalid_token',
    );

    await client.tokenRevocation(configA, tokens.refresh_token!);
    expect((await client.tokenIntrospection(configA, tokens.refresh_token!)).active).toBe(false);
    expect((await rpError(client.refreshTokenGrant(configA, tokens.refresh_token!))).error).toBe(
      'invalid_grant',
    );
  });

  it('client_credentials: a confidential service gets a token for itself; a user-facing client may not', async () => {
    const tokens = await client.clientCredentialsGrant(configService, { scope: 'api:read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('api:read');
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.refresh_token).toBeUndefined();
    const info = await client.tokenIntrospection(configService, tokens.access_token);
    expect(info).toMatchObject({ active: true, client_id: serviceId, scope: 'api:read' });

    expect((await rpError(client.clientCredentialsGrant(configService, { scope: 'openid' }))).error).toBe(
      'invalid_scope',
    );
    expect((await rpError(client.clientCredentialsGrant(configA))).error).toBe('unauthorized_client');
  });

  it('response_mode=form_post: the page posts code and state to the callback; openid-client reads the POST', async () => {
    const user = await createTotpUser(t);
    const { tp } = await newBrowser();
    const req = await authRequest(configB, app.url, { response_mode: 'form_post' });
    await tp.page.goto(req.url.href);
    await signInOnPage(tp, user);
    const landed = await landedAt(tp, app.url);
    expect(landed.search).toBe('');
    const posts = app.requests.filter((r) => r.method === 'POST' && r.url.href === app.url);
    expect(posts).toHaveLength(1);
    const post = posts[0]!;
    app.requests.splice(app.requests.indexOf(post), 1);
    expect(post.contentType).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(post.body);
    expect(form.get('code')).toBeTruthy();
    expect(form.get('state')).toBe(req.state);
    expect(form.get('iss')).toBe(t.issuer);

    const callback = new Request(app.url, {
      method: 'POST',
      headers: { 'content-type': post.contentType },
      body: post.body,
    });
    const tokens = await redeem(configB, callback, req);
    expect(tokens.claims()!.sub).toBe(user.userId);
    expect(tokens.claims()!.nonce).toBe(req.nonce);
  });

  it('RP-initiated logout with id_token_hint: back at the post-logout URI with state; prompt=none then answers login_required', async () => {
    const user = await createTotpUser(t);
    const { tp, navigations } = await newBrowser();
    const tokens = await logIn(tp, configB, user);

    const logout = client.buildEndSessionUrl(configB, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: app.loggedOut,
      state: 'bye-123',
    });
    await tp.page.goto(logout.href);
    const back = await landedAt(tp, app.loggedOut);
    expect(back.searchParams.get('state')).toBe('bye-123');
    expect((await tp.context.cookies(t.origin)).map((c) => c.name)).not.toContain('idp_session');

    navigations.length = 0;
    const req = await authRequest(configB, app.url, { prompt: 'none' });
    await tp.page.goto(req.url.href);
    const callback = await landedAt(tp, app.url);
    expect(callback.searchParams.get('state')).toBe(req.state);
    expect(interactionPages(navigations)).toEqual([]);
    expect((await rpError(redeem(configB, callback, req))).error).toBe('login_required');
  });

  it('RP-initiated logout without id_token_hint: the user confirms on the page, then is signed out', async () => {
    const user = await createTotpUser(t);
    const { tp } = await newBrowser();
    await logIn(tp, configB, user);

    const logout = client.buildEndSessionUrl(configB, {
      post_logout_redirect_uri: app.loggedOut,
      state: 's2',
    });
    await tp.page.goto(logout.href);
    await tp.page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await tp.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    const back = await landedAt(tp, app.loggedOut);
    expect(back.searchParams.get('state')).toBe('s2');

    const req = await authRequest(configB, app.url, { prompt: 'none' });
    await tp.page.goto(req.url.href);
    expect((await rpError(redeem(configB, await landedAt(tp, app.url), req))).error).toBe('login_required');
  });

  it('prompt=none without a session: login_required at the callback, no page shown', async () => {
    const { tp, navigations } = await newBrowser();
    const req = await authRequest(configB, app.url, { prompt: 'none' });
    await tp.page.goto(req.url.href);
    const callback = await landedAt(tp, app.url);
    expect(callback.searchParams.get('error')).toBe('login_required');
    expect(callback.searchParams.get('state')).toBe(req.state);
    expect(callback.searchParams.get('iss')).toBe(t.issuer);
    expect(interactionPages(navigations)).toEqual([]);
    expect((await rpError(redeem(configB, callback, req))).error).toBe('login_required');
  });

  it('prompt=none with a live session: a code without any page, from the same session', async () => {
    const user = await createTotpUser(t);
    const { tp, navigations } = await newBrowser();
    const first = await logIn(tp, configB, user);

    navigations.length = 0;
    const req = await authRequest(configB, app.url, { prompt: 'none' });
    await tp.page.goto(req.url.href);
    const callback = await landedAt(tp, app.url);
    expect(interactionPages(navigations)).toEqual([]);
    const tokens = await redeem(configB, callback, req);
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user.userId);
    expect(claims.nonce).toBe(req.nonce);
    expect(claims.sid).toBe(first.claims()!.sid);
    expect(claims.auth_time).toBe(first.claims()!.auth_time);
  });

  it('max_age=0 a second after login: the login page again, and a newer auth_time', async () => {
    const user = await createTotpUser(t);
    const { tp, navigations } = await newBrowser();
    const first = await logIn(tp, configB, user);
    // auth_time has a resolution of one second: let one pass (a wait, not a timing assertion).
    await new Promise((r) => setTimeout(r, 1100));

    navigations.length = 0;
    const req = await authRequest(configB, app.url, { max_age: '0' });
    await tp.page.goto(req.url.href);
    await tp.page.getByLabel('Email or username').waitFor();
    expect(interactionPages(navigations).length).toBeGreaterThan(0);
    await signInOnPage(tp, user);
    // openid-client checks auth_time against max_age itself (with its clock tolerance).
    const tokens = await redeem(configB, await landedAt(tp, app.url), req, { maxAge: 0 });
    expect(tokens.claims()!.sub).toBe(user.userId);
    expect(tokens.claims()!.auth_time!).toBeGreaterThan(first.claims()!.auth_time!);
  });

  it('SSO across two clients: after logging in to A, first-party B gets a code without any page', async () => {
    const user = await createTotpUser(t);
    const { tp, navigations } = await newBrowser();
    const a = await logIn(tp, configA, user, { consent: true });

    navigations.length = 0;
    const req = await authRequest(configB, app.url);
    await tp.page.goto(req.url.href);
    const callback = await landedAt(tp, app.url);
    expect(interactionPages(navigations)).toEqual([]);
    const b = await redeem(configB, callback, req);
    const [ca, cb] = [a.claims()!, b.claims()!];
    expect(cb.aud).toBe(configB.clientMetadata().client_id);
    expect(cb.sub).toBe(ca.sub);
    expect(cb.sid).toBe(ca.sid);
    expect(cb.auth_time).toBe(ca.auth_time);
    expect(cb.nonce).toBe(req.nonce);

    // A again: consent is remembered, so it too answers without a page.
    navigations.length = 0;
    const again = await authRequest(configA, app.url);
    await tp.page.goto(again.url.href);
    const back = await redeem(configA, await landedAt(tp, app.url), again);
    expect(interactionPages(navigations)).toEqual([]);
    expect(back.claims()!.sid).toBe(ca.sid);
  });
});
