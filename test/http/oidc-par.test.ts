/**
 * Pushed Authorization Requests (RFC 9126) over HTTP: `POST /oidc/request` with the token
 * endpoint's client authentication, then `/oidc/auth` with `client_id` and the one-time
 * `request_uri`, through the hosted login (cookie jar) or the federated `/init-auth` flow, by hand
 * and with openid-client's `buildAuthorizationUrlWithPAR`.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { servicesFor } from '../../functions/services.js';
import { CookieJar } from '../support/cookie-jar.js';
import {
  APP_REDIRECT,
  JSON_TYPE,
  SIGN_IN,
  body,
  docAuth,
  federatedTenant,
  initAuth,
  newUserId,
  postToken,
  redeem,
  redirectParams,
  verify,
  type TestTenant,
  type TokenResponse,
} from '../support/flow.js';
import { csrfOf, go } from '../support/hosted-login.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import {
  client,
  oauthError,
  postForm,
  registerClient,
  rp,
  type RegisteredClient,
} from '../support/relying-party.js';

let server: TestServer;
let t: TestTenant;
/** A first-party confidential client (no consent page), client_secret_basic. */
let app: RegisteredClient;
/** Another confidential client with the same redirect URI. */
let other: RegisteredClient;
/** A public client: PKCE required, client_id only at the PAR endpoint. */
let spa: RegisteredClient;

const CB = APP_REDIRECT;
const URN = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  const metadata = { redirect_uris: [CB], scope: 'openid profile email', first_party: true };
  app = await registerClient(t, metadata);
  other = await registerClient(t, metadata);
  spa = await registerClient(t, { ...metadata, client_type: 'public' });
});
afterAll(async () => {
  await server.stop();
});

interface User {
  userId: string;
  email: string;
  totp: () => string;
}

async function newUser(): Promise<User> {
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
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  return { userId, email, totp: () => totp.generate({ timestamp: Date.now() - 30_000 }) };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** From `/oidc/auth` through identify and TOTP to the redirect to the client; returns that Location. */
async function hostedLogin(jar: CookieJar, start: string, user: User): Promise<URL> {
  let res = await go(jar, start);
  expect(res.status, await res.clone().text()).toBe(303);
  const page = `${t.origin}${res.headers.get('location')}`;
  let html = await (await go(jar, page)).text();
  if (html.includes('name="identifier"')) {
    res = await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: user.email } });
    expect(res.status).toBe(303);
    html = await (await go(jar, page)).text();
  }
  // The uniform chooser after the identifier: the authenticator app.
  if (!html.includes('autocomplete="one-time-code"'))
    html = await (await go(jar, `${page}?view=totp`)).text();
  expect(html).toContain('autocomplete="one-time-code"');
  res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

/** `POST /oidc/request` authenticated with client_secret_basic (or as given in `headers`). */
function push(
  form: Record<string, string>,
  credentials: RegisteredClient | null = app,
  headers: Record<string, string> = {},
) {
  return postForm(t, '/request', form, {
    ...(credentials ? { authorization: basic(credentials.client_id, credentials.client_secret!) } : {}),
    ...headers,
  });
}

/** A pushed request that must succeed: its request_uri. */
async function pushed(
  form: Record<string, string>,
  credentials: RegisteredClient | null = app,
): Promise<string> {
  const res = await push(form, credentials);
  const json = await body<{ request_uri: string; expires_in: number }>(res);
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json.request_uri;
}

function request(extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const params = {
    response_type: 'code',
    redirect_uri: CB,
    scope: 'openid email',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  return { params, verifier };
}

const authUrl = (clientId: string, requestUri: string, extra: Record<string, string> = {}) =>
  `${t.issuer}/auth?${new URLSearchParams({ client_id: clientId, request_uri: requestUri, ...extra })}`;

async function expectErrorPage(res: Response, code: string): Promise<void> {
  const html = await res.text();
  expect(res.status, html).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(html).toContain(code);
}

async function redeemWith(c: RegisteredClient, code: string, verifier: string): Promise<TokenResponse> {
  const res = await postToken(
    t,
    { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier },
    { authorization: basic(c.client_id, c.client_secret!) },
  );
  const tokens = await body<TokenResponse>(res);
  expect(res.status, JSON.stringify(tokens)).toBe(200);
  return tokens;
}

describe('the PAR endpoint', () => {
  it('answers 201 with a one-time urn request_uri for 60 seconds, not to be cached', async () => {
    const res = await push(request().params);
    const json = await body<{ request_uri: string; expires_in: number }>(res);
    expect(res.status, JSON.stringify(json)).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(json.request_uri).toMatch(URN);
    expect(json.expires_in).toBe(60);
  });

  it('authenticates the client as the token endpoint does: a wrong secret is 401 invalid_client', async () => {
    const res = await push(request().params, { ...app, client_secret: 'wrong' });
    expect(res.headers.get('www-authenticate')).toContain('invalid_client');
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
    // client_secret_post, and no authentication at all for a confidential client.
    const post = await push({ ...request().params, client_id: app.client_id, client_secret: 'wrong' }, null);
    expect(await oauthError(post)).toMatchObject({ status: 401, error: 'invalid_client' });
    const none = await push({ ...request().params, client_id: app.client_id }, null);
    expect(await oauthError(none)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses a request_uri inside a pushed request (RFC 9126 §2.1)', async () => {
    const uri = await pushed(request().params);
    const res = await push({ ...request().params, request_uri: uri });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses an unregistered or missing redirect_uri with invalid_request (RFC 9126 §2.3)', async () => {
    const bad = await push(request({ redirect_uri: 'https://evil.example.com/cb' }).params);
    expect(await oauthError(bad)).toMatchObject({ status: 400, error: 'invalid_request' });
    const { redirect_uri: _omitted, ...withoutRedirect } = request().params;
    const missing = await push(withoutRedirect);
    expect(await oauthError(missing)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('validates the request as the authorization endpoint would, answering in JSON', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'openid admin' }, 'invalid_scope'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ response_mode: 'fragment' }, 'invalid_request'],
      [{ prompt: 'none login' }, 'invalid_request'],
      [{ claims: '{not json' }, 'invalid_request'],
      [{ resource: 'https://api.example.com' }, 'invalid_target'],
    ];
    for (const [extra, error] of cases) {
      const res = await push(request(extra).params);
      expect(await oauthError(res), JSON.stringify(extra)).toMatchObject({ status: 400, error });
    }
  });

  it('a public client pushes with its client_id only, and must send PKCE', async () => {
    const ok = await push({ ...request().params, client_id: spa.client_id }, null);
    expect(ok.status, await ok.clone().text()).toBe(201);
    const { code_challenge: _c, code_challenge_method: _m, ...noPkce } = request().params;
    const res = await push({ ...noPkce, client_id: spa.client_id }, null);
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_request' });
    const secret = await push({ ...request().params, client_id: spa.client_id, client_secret: 'x' }, null);
    expect(await oauthError(secret)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('is advertised in discovery, as openid-client reads it', async () => {
    const res = await http(`${t.issuer}/.well-known/openid-configuration`);
    const doc = await body<Record<string, unknown>>(res);
    expect(doc.pushed_authorization_request_endpoint).toBe(`${t.issuer}/request`);
    expect(doc.require_pushed_authorization_requests).toBe(false);
    const config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
    expect(config.serverMetadata().pushed_authorization_request_endpoint).toBe(`${t.issuer}/request`);
  });
});

describe('the authorization endpoint with a request_uri', () => {
  it('runs the pushed request through the hosted login; other query parameters are ignored', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    const { params, verifier } = request();
    const uri = await pushed(params);
    // RFC 9126 §4: only client_id and request_uri count; these must change nothing.
    const tampered = {
      redirect_uri: 'https://evil.example.com/cb',
      state: 'forged',
      scope: 'openid profile',
    };
    const back = await hostedLogin(jar, authUrl(app.client_id, uri, tampered), user);
    expect(`${back.origin}${back.pathname}`).toBe(CB);
    expect(back.searchParams.get('state')).toBe(params.state);
    expect(back.searchParams.get('iss')).toBe(t.issuer);
    const tokens = await redeemWith(app, back.searchParams.get('code')!, verifier);
    expect(tokens.scope).toBe('openid email');
    const { payload } = await verify(t, tokens.id_token!, app.client_id);
    expect(payload.sub).toBe(user.userId);
    expect(payload.nonce).toBe(params.nonce);

    // One-time use (RFC 9126 §4): the same request_uri again is an error page, not a redirect.
    await expectErrorPage(await go(jar, authUrl(app.client_id, uri)), 'invalid_request_uri');
  });

  it('carries the pushed login parameters: prompt=none answers from the SSO session', async () => {
    const user = await newUser();
    const jar = new CookieJar();
    await hostedLogin(jar, authUrl(app.client_id, await pushed(request().params)), user);
    const { params, verifier } = request({ prompt: 'none' });
    const res = await go(jar, authUrl(app.client_id, await pushed(params)));
    const { target, params: answer } = redirectParams(res);
    expect(target).toBe(CB);
    expect(answer.error, answer.error_description).toBeUndefined();
    expect(answer.state).toBe(params.state);
    const tokens = await redeemWith(app, answer.code!, verifier);
    expect((await verify(t, tokens.id_token!, app.client_id)).payload.sub).toBe(user.userId);
    // Pushed prompt=none without a session: login_required at the pushed redirect URI.
    const alone = await go(
      new CookieJar(),
      authUrl(app.client_id, await pushed(request({ prompt: 'none' }).params)),
    );
    expect(redirectParams(alone).params.error).toBe('login_required');
  });

  it("another client's request_uri is an error page, and leaves it usable by its own client", async () => {
    const uri = await pushed(request().params);
    await expectErrorPage(await http(authUrl(other.client_id, uri)), 'invalid_request_uri');
    const own = await http(authUrl(app.client_id, uri));
    expect(own.status).toBe(303);
    expect(own.headers.get('location')).toMatch(/^\/interaction\//);
  });

  it('an unknown or malformed request_uri, or one without client_id, is an error page', async () => {
    const unknown = `urn:ietf:params:oauth:request_uri:${randomBytes(32).toString('base64url')}`;
    await expectErrorPage(await http(authUrl(app.client_id, unknown)), 'invalid_request_uri');
    await expectErrorPage(
      await http(authUrl(app.client_id, 'https://rp.example.com/req')),
      'invalid_request_uri',
    );
    const uri = await pushed(request().params);
    await expectErrorPage(
      await http(`${t.issuer}/auth?${new URLSearchParams({ request_uri: uri })}`),
      'invalid_request',
    );
  });

  it('works with openid-client: buildAuthorizationUrlWithPAR, then the code grant', async () => {
    const user = await newUser();
    const config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: CB,
      scope: 'openid email',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('request_uri')).toMatch(URN);
    const callback = await hostedLogin(new CookieJar(), url.href, user);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      expectedState: state,
      expectedNonce: nonce,
      pkceCodeVerifier: verifier,
    });
    expect(tokens.claims()!.sub).toBe(user.userId);
    const info = await client.fetchUserInfo(config, tokens.access_token, user.userId);
    expect(info.email).toBe(user.email);
  });

  it('works with openid-client for a public client (client_id only, PKCE)', async () => {
    const user = await newUser();
    const config = await rp(t, spa.client_id, client.None());
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: CB,
      scope: 'openid',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await hostedLogin(new CookieJar(), url.href, user);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      expectedState: state,
      pkceCodeVerifier: verifier,
    });
    expect(tokens.claims()!.sub).toBe(user.userId);
  });
});

describe('a client that requires PAR', () => {
  it('defaults to false, is set through the management API, and then refuses plain requests', async () => {
    const strict = await registerClient(t, { redirect_uris: [CB], scope: 'openid', first_party: true });
    expect(strict.require_pushed_authorization_requests).toBe(false);
    const patch = await http(`${t.origin}/v1/clients/${strict.client_id}`, {
      method: 'PATCH',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ require_pushed_authorization_requests: true }),
    });
    const patched = await body<Record<string, unknown>>(patch);
    expect(patch.status, JSON.stringify(patched)).toBe(200);
    expect(patched.require_pushed_authorization_requests).toBe(true);

    // RFC 9126 §4: invalid_request, sent to the (registered) redirect URI with the state.
    const { params } = request({ scope: 'openid' });
    const plain = await http(
      `${t.issuer}/auth?${new URLSearchParams({ ...params, client_id: strict.client_id })}`,
    );
    const { target, params: answer } = redirectParams(plain);
    expect(target).toBe(CB);
    expect(answer.error).toBe('invalid_request');
    expect(answer.error_description).toContain('pushed authorization requests');
    expect(answer.state).toBe(params.state);
    expect(answer.code).toBeUndefined();
    // An unregistered redirect URI is still never redirected to.
    await expectErrorPage(
      await http(
        `${t.issuer}/auth?${new URLSearchParams({ ...params, redirect_uri: 'https://evil.example.com/cb', client_id: strict.client_id })}`,
      ),
      'invalid_redirect_uri',
    );

    const uri = await pushed(params, strict);
    const viaPar = await http(authUrl(strict.client_id, uri));
    expect(viaPar.status, await viaPar.clone().text()).toBe(303);
    expect(viaPar.headers.get('location')).toMatch(/^\/interaction\//);
  });
});

describe('the federated /init-auth flow through PAR', () => {
  it('pushes the init-auth token with the built-in client and ends with a code and the action claims', async () => {
    const userId = newUserId();
    const init = await initAuth(t, { userId, action: SIGN_IN });
    const form = {
      client_id: t.id,
      client_secret: t.secret,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 'par-state',
      nonce: 'par-nonce',
    };
    const uri = await pushed(form, null);
    const res = await http(authUrl(t.id, uri));
    const { target, params } = redirectParams(res);
    expect(target).toBe(APP_REDIRECT);
    expect(params.error, params.error_description).toBeUndefined();
    expect(params.state).toBe('par-state');
    const tokenRes = await redeem(t, params.code!, APP_REDIRECT);
    const tokens = await body<TokenResponse>(tokenRes);
    expect(tokenRes.status, JSON.stringify(tokens)).toBe(200);
    const { payload } = await verify(t, tokens.id_token!);
    expect(payload).toMatchObject({
      sub: userId,
      nonce: 'par-nonce',
      action: SIGN_IN,
      action_state: 'ALLOW',
      idempotency_key: init.idempotencyKey,
    });

    // The token was consumed at /oidc/auth: pushing it again is refused at once.
    const again = await push({ ...form }, null);
    expect(await oauthError(again)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses a malformed token at the PAR endpoint', async () => {
    const res = await push(
      {
        client_id: t.id,
        client_secret: t.secret,
        token: 'not-a-token',
        redirect_uri: APP_REDIRECT,
        scope: 'openid',
      },
      null,
    );
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_request' });
  });
});
