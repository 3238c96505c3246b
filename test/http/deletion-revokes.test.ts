/**
 * Deleting a user or a client, as an attacker who kept everything would test it: the session
 * cookie, a refresh token, an access token and a code not yet redeemed, all obtained before the
 * deletion, give nothing afterwards — no code with prompt=none, no new tokens, `active: false` at
 * introspection and 401 at userinfo.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesFor } from '../../functions/services.js';
import { loadSession, newSession } from '../../functions/sessions/session.js';
import { CookieJar, go, newUser, registerApp, type App } from '../support/decoupled-grants.js';
import { body, docAuth, postToken, type TestTenant } from '../support/flow.js';
import { postForm } from '../support/relying-party.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
const CB = 'https://rp.example.com/cb';
beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
});
afterAll(async () => {
  await server.stop();
});

const firstParty = () =>
  registerApp(t, {
    redirect_uris: [CB],
    first_party: true,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    scope: 'openid profile offline_access',
  });

/**
 * A signed-in browser: the session the hosted login stores when a user passes (the same module,
 * on the server's table), its cookie in the jar.
 */
async function signedIn(userId: string): Promise<{ jar: CookieJar; cookie: string }> {
  const store = (await servicesFor(t.region)).tenants.scoped(t.id);
  const { cookieValue, writes } = newSession({
    userId,
    amr: ['otp'],
    acr: 'urn:identity:acr:single-factor',
    clients: [],
  });
  await store.transact(writes);
  const jar = new CookieJar();
  jar.take({ headers: { getSetCookie: () => [`idp_session=${cookieValue}; Path=/`] } } as never);
  return { jar, cookie: cookieValue };
}

/** `prompt=none` from the session: the redirect's parameters (a code, or an error). */
async function silentAuth(
  jar: CookieJar,
  app: App,
): Promise<{ code?: string; error?: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    client_id: app.client_id,
    redirect_uri: CB,
    response_type: 'code',
    scope: 'openid offline_access',
    prompt: 'none',
    state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const res = await go(jar, `${t.issuer}/auth?${q}`);
  expect(res.status, await res.clone().text()).toBe(302);
  const back = new URL(res.headers.get('location')!).searchParams;
  return { code: back.get('code') ?? undefined, error: back.get('error') ?? undefined, verifier };
}

const asApp = (app: App) => ({ authorization: basic(app.client_id, app.client_secret!) });

function redeemCode(app: App, code: string, verifier: string) {
  return postToken(
    t,
    { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier },
    asApp(app),
  );
}

async function tokensFor(jar: CookieJar, app: App) {
  const { code, verifier } = await silentAuth(jar, app);
  expect(code).toBeTruthy();
  const res = await redeemCode(app, code!, verifier);
  const tokens = await body<{ access_token: string; refresh_token: string }>(res);
  expect(res.status, JSON.stringify(tokens)).toBe(200);
  expect(tokens.refresh_token).toEqual(expect.any(String));
  return tokens;
}

/** Introspection by the tenant's built-in client, which may see every token of the tenant. */
async function introspect(token: string): Promise<boolean> {
  const res = await postForm(t, '/token/introspection', { token }, { authorization: basic(t.id, t.secret) });
  expect(res.status).toBe(200);
  return (await body<{ active: boolean }>(res)).active;
}

async function userinfoStatus(accessToken: string): Promise<number> {
  const res = await http(`${t.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  return res.status;
}

describe('deleting a user ends everything issued for them', () => {
  it('session, refresh token, access token and an unredeemed code all die with the user', async () => {
    const app = await firstParty();
    const user = await newUser(t);
    const { jar, cookie } = await signedIn(user.userId);
    const { jar: jar2 } = await signedIn(user.userId);
    const tokens = await tokensFor(jar, app);
    const pending = await silentAuth(jar2, app);
    expect(pending.code).toBeTruthy();
    expect(await introspect(tokens.access_token)).toBe(true);
    expect(await userinfoStatus(tokens.access_token)).toBe(200);

    const del = await http(`${t.origin}/v1/users/${user.userId}`, {
      method: 'DELETE',
      headers: { authorization: docAuth(t) },
    });
    expect(del.status).toBe(204);

    for (const browser of [jar, jar2]) expect((await silentAuth(browser, app)).error).toBe('login_required');
    const store = (await servicesFor(t.region)).tenants.scoped(t.id);
    expect(await loadSession(store, { idp_session: cookie })).toBeUndefined();
    expect(await store.query(`sessions-of#${user.userId}`)).toEqual([]);

    const refreshed = await postToken(
      t,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      asApp(app),
    );
    expect(refreshed.status).toBe(400);
    expect((await body(refreshed)).error).toBe('invalid_grant');
    const late = await redeemCode(app, pending.code!, pending.verifier);
    expect(late.status).toBe(400);
    expect((await body(late)).error).toBe('invalid_grant');
    expect(await introspect(tokens.access_token)).toBe(false);
    expect(await introspect(tokens.refresh_token)).toBe(false);
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
  });

  it('a user created again under the same id starts clean: new sessions and tokens work', async () => {
    const app = await firstParty();
    const user = await newUser(t);
    const del = await http(`${t.origin}/v1/users/${user.userId}`, {
      method: 'DELETE',
      headers: { authorization: docAuth(t) },
    });
    expect(del.status).toBe(204);
    await new Promise((r) => setTimeout(r, 1100)); // revocations count whole seconds
    const { jar } = await signedIn(user.userId);
    const tokens = await tokensFor(jar, app);
    expect(await introspect(tokens.access_token)).toBe(true);
  });
});

describe('deleting a client ends everything issued to it', () => {
  it('its access, refresh and client_credentials tokens are inactive and its codes give nothing', async () => {
    const app = await firstParty();
    const other = await firstParty();
    const user = await newUser(t);
    const { jar } = await signedIn(user.userId);
    const tokens = await tokensFor(jar, app);
    const kept = await tokensFor(jar, other);
    const cc = await postToken(t, { grant_type: 'client_credentials' }, asApp(app));
    const ccToken = (await body<{ access_token: string }>(cc)).access_token;
    expect(await introspect(ccToken)).toBe(true);

    const del = await http(`${t.origin}/v1/clients/${app.client_id}`, {
      method: 'DELETE',
      headers: { authorization: docAuth(t) },
    });
    expect(del.status).toBe(204);

    for (const token of [tokens.access_token, tokens.refresh_token, ccToken])
      expect(await introspect(token)).toBe(false);
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
    // Another client's tokens and the user's session are untouched.
    expect(await introspect(kept.access_token)).toBe(true);
    expect(await introspect(kept.refresh_token)).toBe(true);
    expect((await silentAuth(jar, other)).code).toBeTruthy();
  });
});
