/**
 * OpenID Connect Back-Channel Logout 1.0: a real HTTP receiver gets the logout tokens, verified
 * against the tenant's JWKS; clients without a URI, clients of other tenants and clients that
 * never got tokens in the session are not called; a receiver that never answers does not keep
 * logout from completing; the URI is validated against request forgery at registration.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesFor } from '../../functions/services.js';
import { newSession } from '../../functions/sessions/session.js';
import { CookieJar, go, newUser, registerApp, registerRaw, type App } from '../support/decoupled-grants.js';
import { body, docAuth, JSON_TYPE, postToken, type TestTenant } from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const CB = 'https://rp.example.com/cb';

interface Received {
  path: string;
  contentType: string | undefined;
  form: URLSearchParams;
}

let server: TestServer;
let t: TestTenant;
let other: TestTenant;
let receiver: Server;
let base: string;
const received: Received[] = [];
const held = new Set<ServerResponse>();
const sockets = new Set<Socket>();

/** Answers 200 to every path but `/slow*`, which it never answers. */
function receive(req: IncomingMessage, res: ServerResponse): void {
  let data = '';
  req.on('data', (c: Buffer) => (data += c.toString()));
  req.on('end', () => {
    received.push({
      path: req.url!,
      contentType: req.headers['content-type'],
      form: new URLSearchParams(data),
    });
    if (req.url!.startsWith('/slow')) held.add(res);
    else res.writeHead(200).end();
  });
}

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  other = await server.tenant();
  receiver = createServer(receive);
  receiver.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => receiver.close(r));
  await server.stop();
});

const appOf = (tenant: TestTenant, extra: Record<string, unknown> = {}) =>
  registerApp(tenant, {
    redirect_uris: [CB],
    first_party: true,
    scope: 'openid profile',
    ...extra,
  });

async function signedIn(tenant: TestTenant, userId: string): Promise<CookieJar> {
  const store = (await servicesFor(tenant.region)).tenants.scoped(tenant.id);
  const { cookieValue, writes } = newSession({ userId, amr: ['otp'], acr: 'mfa', clients: [] });
  await store.transact(writes);
  const jar = new CookieJar();
  jar.take({ headers: { getSetCookie: () => [`idp_session=${cookieValue}; Path=/`] } } as never);
  return jar;
}

/** Tokens for `app` in the browser's session (single sign-on, prompt=none). */
async function tokensOf(tenant: TestTenant, app: App, jar: CookieJar): Promise<{ id_token: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const q = new URLSearchParams({
    client_id: app.client_id,
    redirect_uri: CB,
    response_type: 'code',
    scope: 'openid',
    nonce: 'n-1',
    prompt: 'none',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const res = await go(jar, `${tenant.issuer}/auth?${q}`);
  const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
  expect(code, res.headers.get('location') ?? '').toBeTruthy();
  const tokenRes = await postToken(
    tenant,
    { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier },
    { authorization: basic(app.client_id, app.client_secret!) },
  );
  const tokens = await body<{ id_token: string }>(tokenRes);
  expect(tokenRes.status, JSON.stringify(tokens)).toBe(200);
  return tokens;
}

async function verifyLogoutToken(tenant: TestTenant, token: string, app: App) {
  const jwks = await body<JSONWebKeySet>(await http(`${tenant.issuer}/jwks`));
  return jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: tenant.issuer,
    audience: app.client_id,
    typ: 'logout+jwt',
    requiredClaims: ['iat', 'exp', 'jti', 'sub', 'sid', 'events'],
  });
}

const pathsOf = (prefix: string) => received.filter((r) => r.path.startsWith(prefix)).map((r) => r.path);

describe('back-channel logout', () => {
  it('RP-initiated logout POSTs a verified logout token to each client of the session, and only to them', async () => {
    const tag = randomBytes(3).toString('hex');
    const withUri = await appOf(t, {
      backchannel_logout_uri: `${base}/a-${tag}`,
      backchannel_logout_session_required: true,
    });
    const withoutUri = await appOf(t);
    const slow = await appOf(t, { backchannel_logout_uri: `${base}/slow-${tag}` });
    const notInSession = await appOf(t, { backchannel_logout_uri: `${base}/idle-${tag}` });
    const foreign = await appOf(other, { backchannel_logout_uri: `${base}/other-${tag}` });
    const user = await newUser(t);
    const jar = await signedIn(t, user.userId);
    const tokens = await tokensOf(t, withUri, jar);
    await tokensOf(t, withoutUri, jar);
    await tokensOf(t, slow, jar);
    // The same user id in another tenant, signed in to that tenant's client: a different user.
    const foreignJar = await signedIn(other, user.userId);
    await tokensOf(other, foreign, foreignJar);
    expect(notInSession.client_id).toBeTruthy();

    // The slow receiver never answers: logout still completes (bounded by the delivery timeout).
    const q = new URLSearchParams({ id_token_hint: tokens.id_token });
    const res = await go(jar, `${t.issuer}/session/end?${q}`);
    expect(res.status).toBe(200);
    expect(jar.get('idp_session')).toBeUndefined();

    expect(pathsOf(`/a-${tag}`)).toEqual([`/a-${tag}`]);
    expect(pathsOf(`/slow-${tag}`)).toEqual([`/slow-${tag}`]);
    expect(pathsOf(`/idle-${tag}`)).toEqual([]);
    expect(pathsOf(`/other-${tag}`)).toEqual([]);

    const delivery = received.find((r) => r.path === `/a-${tag}`)!;
    expect(delivery.contentType).toBe('application/x-www-form-urlencoded');
    const { payload, protectedHeader } = await verifyLogoutToken(
      t,
      delivery.form.get('logout_token')!,
      withUri,
    );
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.sub).toBe(user.userId);
    expect(payload.sid).toBe(decodeJwt(tokens.id_token).sid);
    expect(payload.sid).toEqual(expect.any(String));
    expect(payload.events).toEqual({ [EVENT]: {} });
    expect(payload).not.toHaveProperty('nonce');
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
    // Another tenant's keys do not verify it.
    await expect(verifyLogoutToken(other, delivery.form.get('logout_token')!, withUri)).rejects.toThrow();
    // The other tenant's session is untouched.
    expect(foreignJar.get('idp_session')).toBeTruthy();
  });

  it('deleting a user tells the clients of every session the user had', async () => {
    const tag = randomBytes(3).toString('hex');
    const app = await appOf(t, { backchannel_logout_uri: `${base}/del-${tag}` });
    const user = await newUser(t);
    const first = await tokensOf(t, app, await signedIn(t, user.userId));
    const second = await tokensOf(t, app, await signedIn(t, user.userId));
    const res = await http(`${t.origin}/v1/users/${user.userId}`, {
      method: 'DELETE',
      headers: { authorization: docAuth(t) },
    });
    expect(res.status).toBe(204);
    const tokens = received.filter((r) => r.path === `/del-${tag}`).map((r) => r.form.get('logout_token')!);
    expect(tokens).toHaveLength(2);
    const sids = await Promise.all(
      tokens.map(async (tk) => (await verifyLogoutToken(t, tk, app)).payload.sid),
    );
    expect(sids.sort()).toEqual([decodeJwt(first.id_token).sid, decodeJwt(second.id_token).sid].sort());
  });

  it('DELETE /v1/users/{userId}/sessions ends the sessions and tells their clients; the user stays', async () => {
    const tag = randomBytes(3).toString('hex');
    const app = await appOf(t, { backchannel_logout_uri: `${base}/end-${tag}` });
    const user = await newUser(t);
    const jar = await signedIn(t, user.userId);
    const tokens = await tokensOf(t, app, jar);
    const res = await http(`${t.origin}/v1/users/${user.userId}/sessions`, {
      method: 'DELETE',
      headers: { authorization: docAuth(t) },
    });
    expect(await body(res)).toEqual({ ended: 1 });
    const delivered = received.filter((r) => r.path === `/end-${tag}`);
    expect(delivered).toHaveLength(1);
    const { payload } = await verifyLogoutToken(t, delivered[0]!.form.get('logout_token')!, app);
    expect(payload.sid).toBe(decodeJwt(tokens.id_token).sid);
    // The browser's session is over: prompt=none now needs a login.
    const q = new URLSearchParams({
      client_id: app.client_id,
      redirect_uri: CB,
      response_type: 'code',
      scope: 'openid',
      prompt: 'none',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    const again = await go(jar, `${t.issuer}/auth?${q}`);
    expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    // Another tenant's secret cannot end them.
    const foreign = await http(`${t.origin}/v1/users/${user.userId}/sessions`, {
      method: 'DELETE',
      headers: { authorization: docAuth(other) },
    });
    expect(foreign.status).toBe(401);
    // The user is still there.
    const view = await body<{ profile?: unknown }>(
      await http(`${t.origin}/v1/users/${user.userId}`, { headers: { authorization: docAuth(t) } }),
    );
    expect(view.profile).toBeTruthy();
  });

  it('a logout without a session or for a client that never got tokens calls nobody', async () => {
    const tag = randomBytes(3).toString('hex');
    await appOf(t, { backchannel_logout_uri: `${base}/none-${tag}` });
    const res = await go(new CookieJar(), `${t.issuer}/session/end`);
    expect(res.status).toBe(200);
    expect(pathsOf(`/none-${tag}`)).toEqual([]);
  });
});

describe('backchannel_logout_uri registration', () => {
  it('is stored, returned and removed with null; backchannel_logout_session_required defaults to false', async () => {
    const app = await appOf(t, { backchannel_logout_uri: 'https://rp.example.com/bcl' });
    expect(app).toMatchObject({
      backchannel_logout_uri: 'https://rp.example.com/bcl',
      backchannel_logout_session_required: false,
    });
    const patch = (json: unknown) =>
      http(`${t.origin}/v1/clients/${app.client_id}`, {
        method: 'PATCH',
        headers: { ...JSON_TYPE, authorization: docAuth(t) },
        body: JSON.stringify(json),
      });
    const on = await patch({ backchannel_logout_session_required: true });
    expect(await body(on)).toMatchObject({ backchannel_logout_session_required: true });
    const off = await body(await patch({ backchannel_logout_uri: null }));
    expect(off).not.toHaveProperty('backchannel_logout_uri');
  });

  it.each([
    'http://rp.example.com/bcl',
    'https://rp.example.com/bcl#frag',
    'https://user:pw@rp.example.com/bcl',
    'https://10.0.0.8/bcl',
    'https://169.254.169.254/latest/meta-data',
    'https://192.168.1.1/bcl',
    'https://[fd00::1]/bcl',
    'https://[::ffff:10.0.0.1]/bcl',
    'not a uri',
  ])('%s is refused with a 400', async (uri) => {
    const res = await registerRaw(t, { redirect_uris: [CB], backchannel_logout_uri: uri });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('backchannel_logout_uri');
  });

  it('discovery advertises back-channel logout with sid', async () => {
    const doc = await body(await http(`${t.issuer}/.well-known/openid-configuration`));
    expect(doc).toMatchObject({
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
  });
});
