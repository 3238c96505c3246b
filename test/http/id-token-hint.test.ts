/**
 * `id_token_hint` at `/oidc/auth` and at RP-initiated logout accepts only ID tokens this tenant
 * issued: an access token (of a user or of client_credentials), even one whose audience is the
 * client, is refused; so is another tenant's ID token (the region's tenants share keys).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesFor } from '../../functions/services.js';
import { newSession } from '../../functions/sessions/session.js';
import { CookieJar, go, newUser, registerApp, type App } from '../support/decoupled-grants.js';
import { body, postToken, type TestTenant } from '../support/flow.js';
import { basic, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
let other: TestTenant;
const CB = 'https://rp.example.com/cb';
const OUT = 'https://rp.example.com/out';

const appOf = (tenant: TestTenant) =>
  registerApp(tenant, {
    redirect_uris: [CB],
    post_logout_redirect_uris: [OUT],
    first_party: true,
    grant_types: ['authorization_code', 'client_credentials'],
    scope: 'openid profile',
  });

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  other = await server.tenant();
});
afterAll(async () => {
  await server.stop();
});

async function signedIn(tenant: TestTenant, userId: string): Promise<CookieJar> {
  const store = (await servicesFor(tenant.region)).tenants.scoped(tenant.id);
  const { cookieValue, writes } = newSession({
    userId,
    amr: ['otp'],
    acr: 'urn:identity:acr:single-factor',
    clients: [],
  });
  await store.transact(writes);
  const jar = new CookieJar();
  jar.take({ headers: { getSetCookie: () => [`idp_session=${cookieValue}; Path=/`] } } as never);
  return jar;
}

function authUrl(tenant: TestTenant, app: App, extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    client_id: app.client_id,
    redirect_uri: CB,
    response_type: 'code',
    scope: 'openid',
    state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: `${tenant.issuer}/auth?${q}`, verifier };
}

/** The tokens of a signed-in user, through prompt=none. */
async function tokensOf(tenant: TestTenant, app: App, jar: CookieJar) {
  const { url, verifier } = authUrl(tenant, app, { prompt: 'none' });
  const res = await go(jar, url);
  const code = new URL(res.headers.get('location')!).searchParams.get('code');
  expect(code, res.headers.get('location') ?? '').toBeTruthy();
  const tokenRes = await postToken(
    tenant,
    { grant_type: 'authorization_code', code: code!, redirect_uri: CB, code_verifier: verifier },
    { authorization: basic(app.client_id, app.client_secret!) },
  );
  const tokens = await body<{ access_token: string; id_token: string }>(tokenRes);
  expect(tokenRes.status, JSON.stringify(tokens)).toBe(200);
  return tokens;
}

async function clientToken(tenant: TestTenant, app: App): Promise<string> {
  const res = await postToken(
    tenant,
    { grant_type: 'client_credentials' },
    { authorization: basic(app.client_id, app.client_secret!) },
  );
  return (await body<{ access_token: string }>(res)).access_token;
}

describe('id_token_hint accepts only ID tokens of this tenant', () => {
  it('at /oidc/auth: an access token or another tenant’s ID token is invalid_request; the ID token works', async () => {
    const app = await appOf(t);
    const user = await newUser(t);
    const jar = await signedIn(t, user.userId);
    const tokens = await tokensOf(t, app, jar);
    const foreignApp = await appOf(other);
    const foreign = await tokensOf(other, foreignApp, await signedIn(other, user.userId));
    for (const hint of [tokens.access_token, await clientToken(t, app), foreign.id_token]) {
      const res = await go(jar, authUrl(t, app, { prompt: 'none', id_token_hint: hint }).url);
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!).searchParams;
      expect(back.get('error')).toBe('invalid_request');
      expect(back.get('code')).toBeNull();
    }
    const ok = await go(jar, authUrl(t, app, { prompt: 'none', id_token_hint: tokens.id_token }).url);
    expect(new URL(ok.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('at logout: an access token does not sign the user out without asking; the ID token does', async () => {
    const app = await appOf(t);
    const user = await newUser(t);
    const jar = await signedIn(t, user.userId);
    const tokens = await tokensOf(t, app, jar);
    for (const hint of [tokens.access_token, await clientToken(t, app)]) {
      const q = new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: OUT, state: 'x' });
      const res = await go(jar, `${t.issuer}/session/end?${q}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('id_token_hint');
      expect(jar.get('idp_session')).toBeTruthy();
    }
    const q = new URLSearchParams({
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: OUT,
      state: 'x',
    });
    const res = await go(jar, `${t.issuer}/session/end?${q}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${OUT}?state=x`);
    expect(jar.get('idp_session')).toBeUndefined();
  });
});
