/**
 * Every call the Azure AD B2C technical profiles (RESTful and OpenID Connect) make, as B2C makes them: Basic
 * `secret:secret`, GenerateJson bodies, the OpenIdConnect technical profile's form_post
 * authorization request with B2C's long state and base64 nonce, and client_secret_post.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  B2C_REDIRECT,
  SIGN_IN,
  authorize,
  b2cAuth,
  body,
  federatedTenant,
  initAuth,
  keys,
  newUserId,
  parseFormPost,
  postInitAuth,
  redeem,
  setOutcome,
  verify,
  type TestTenant,
  type TokenResponse,
} from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
});
afterAll(async () => {
  await server.stop();
});

/** B2C's `state`: `StateProperties=` and base64 JSON, about 1500 characters. */
function b2cState(): string {
  const props = {
    TID: randomBytes(16).toString('hex'),
    SID: `x-ms-cpim-rc:${randomBytes(24).toString('hex')}`,
    junk: randomBytes(900).toString('base64'),
  };
  return `StateProperties=${Buffer.from(JSON.stringify(props)).toString('base64')}`;
}

/** A nonce as B2C sends it: base64, so with `+`, `/` and `=`. */
function b2cNonce(): string {
  let nonce = '';
  while (!/[+]/.test(nonce) || !/[/]/.test(nonce) || !nonce.endsWith('='))
    nonce = randomBytes(32).toString('base64');
  return nonce;
}

/** The AuthsignalCreateInitAuthRequestBody GenerateJson output. */
const initAuthBody = (userId: string, action = SIGN_IN) => ({
  userId,
  email: 'ada.lovelace@contoso.com',
  action,
  redirectToSettings: false,
});

/** The OpenIdConnect technical profile AuthsignalOidcAuth's authorization request. */
async function b2cAuthorize(token: string, state = b2cState(), nonce = b2cNonce()) {
  const res = await authorize(t, {
    client_id: t.id,
    redirect_uri: B2C_REDIRECT,
    response_type: 'code',
    scope: 'openid',
    response_mode: 'form_post',
    nonce,
    state,
    token,
  });
  return { res, state, nonce };
}

describe('AuthsignalGetUser: POST /get-user', () => {
  it('answers isEnrolled false (and an empty enrolledVerificationMethods) for a new user', async () => {
    const userId = newUserId();
    const res = await http(`${t.origin}/get-user`, {
      method: 'POST',
      headers: { authorization: b2cAuth(t), 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = await body<Record<string, unknown>>(res);
    expect(json.userId).toBe(userId);
    // B2C maps isEnrolled to a boolean claim: it must be a JSON boolean, not "false".
    expect(json.isEnrolled).toBe(false);
    expect(Array.isArray(json.enrolledVerificationMethods)).toBe(true);
    expect(json.enrolledVerificationMethods).toEqual([]);
  });
});

describe('AuthsignalOidcInitAuth: POST /init-auth', () => {
  it('accepts Basic secret:secret and the GenerateJson body', async () => {
    const res = await postInitAuth(t, initAuthBody(newUserId()), b2cAuth(t));
    expect(res.status).toBe(200);
    const json = await body<Record<string, unknown>>(res);
    // B2C reads the `token` claim (PartnerClaimType="token") from the top level of the JSON.
    expect(typeof json.token).toBe('string');
    expect(json.expiresIn).toBe(600);
    expect(typeof json.idempotencyKey).toBe('string');
  });

  it('accepts an empty email, which GenerateJson sends for an account without one', async () => {
    const res = await postInitAuth(t, { ...initAuthBody(newUserId()), email: '' }, b2cAuth(t));
    expect(res.status).toBe(200);
  });
});

describe('AuthsignalOidcAuth: the OpenIdConnect technical profile', () => {
  it('answers /oidc/auth with a form_post page that posts code and state back unchanged under a nonce CSP', async () => {
    const init = await initAuth(t, initAuthBody(newUserId()));
    const { res, state } = await b2cAuthorize(init.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toMatch(/no-store/);

    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src[^;]*'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce, csp).toBeTruthy();
    expect(csp).not.toMatch(/unsafe-inline/);
    expect(csp).toMatch(/default-src 'none'/);
    // No form-action: Chrome applies it to the redirects after the submission too, and B2C's
    // authresp redirects on to the relying party's own origin.
    expect(csp).not.toMatch(/form-action/);

    const html = await res.text();
    const page = parseFormPost(html);
    expect(page.method).toBe('post');
    expect(page.action).toBe(B2C_REDIRECT);
    expect(page.scriptNonces).toEqual([nonce]);
    expect(page.fields.state).toBe(state);
    expect(page.fields.code).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(page.fields.error).toBeUndefined();
    expect(page.fields.iss).toBe(t.issuer);
    // Nothing but the response parameters is posted.
    expect(Object.keys(page.fields).sort()).toEqual(['code', 'iss', 'state']);
  });

  it('uses a fresh CSP nonce for every page', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const init = await initAuth(t, initAuthBody(newUserId()));
      const { res } = await b2cAuthorize(init.token);
      expect(res.status).toBe(200);
      nonces.add(/'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')![1]!);
    }
    expect(nonces.size).toBe(2);
  });

  it('returns to B2C an ID token with the claims the policy maps, signed with a published key', async () => {
    const userId = newUserId(); // B2C's objectId
    const init = await initAuth(t, initAuthBody(userId, SIGN_IN));
    const { res, state, nonce } = await b2cAuthorize(init.token);
    const { fields } = parseFormPost(await res.text());
    expect(fields.state).toBe(state);

    const tokenRes = await redeem(t, fields.code!, B2C_REDIRECT, 'client_secret_post');
    const tokens = await body<TokenResponse>(tokenRes);
    expect(tokenRes.status, JSON.stringify(tokens)).toBe(200);
    expect(tokenRes.headers.get('cache-control')).toBe('no-store');
    expect(tokenRes.headers.get('content-type')).toMatch(/^application\/json/);
    expect(tokens.token_type).toBe('Bearer');
    expect(typeof tokens.expires_in).toBe('number');
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.id_token).toBeTruthy();

    const { issuer } = await keys(t);
    expect(issuer).toBe(t.issuer);
    const id = (await verify(t, tokens.id_token!)).payload;
    expect(id.iss).toBe(issuer);
    expect(id.aud).toBe(t.id);
    expect(id.sub).toBe(userId); // AuthsignalCheckMatchingUserId compares it with objectId
    expect(id.nonce).toBe(nonce);
    expect(id.action_code).toBe(SIGN_IN);
    expect(id.action_state).toBe('ALLOW');
    expect(id.is_enrolled).toBe(false);
    expect(id.idempotency_key).toBe(init.idempotencyKey);
    expect(typeof id.auth_time).toBe('number');
    expect(typeof id.iat).toBe('number');
    expect(id.exp).toBeGreaterThan(id.iat!);

    const access = await verify(t, tokens.access_token);
    expect(access.header.typ).toBe('at+jwt');
    expect(access.payload.sub).toBe(userId);
    expect(access.payload.action_state).toBe('ALLOW');
    expect(access.payload.is_enrolled).toBe(false);
    expect(access.payload.idempotency_key).toBe(init.idempotencyKey);
  });

  it('redeems the code with client_secret_basic too', async () => {
    await setOutcome(t, 'blockedForB2C', 'BLOCK');
    const init = await initAuth(t, initAuthBody(newUserId(), 'blockedForB2C'));
    const { res } = await b2cAuthorize(init.token);
    const { fields } = parseFormPost(await res.text());
    const tokenRes = await redeem(t, fields.code!, B2C_REDIRECT, 'client_secret_basic');
    const tokens = await body<TokenResponse>(tokenRes);
    expect(tokenRes.status, JSON.stringify(tokens)).toBe(200);
    expect(tokenRes.headers.get('cache-control')).toBe('no-store');
    const id = (await verify(t, tokens.id_token!)).payload;
    expect(id.action_state).toBe('BLOCK');
    expect(id.action_code).toBe('blockedForB2C');
  });

  it('posts an error back to B2C (state unchanged) when the init-auth token is bad', async () => {
    const { res, state } = await b2cAuthorize('not-a-token');
    expect(res.status).toBe(200);
    const page = parseFormPost(await res.text());
    expect(page.action).toBe(B2C_REDIRECT);
    expect(page.fields.error).toBe('invalid_request');
    expect(page.fields.code).toBeUndefined();
    expect(page.fields.state).toBe(state);
    expect(page.fields.iss).toBe(t.issuer);
  });
});
