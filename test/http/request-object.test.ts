/**
 * Request objects (RFC 9101, OIDC Core §6.1) at `/oidc/auth` and at PAR: signed by the client with a
 * key of its registered `jwks`, only the object's parameters count (RFC 9101 §5), and every refusal
 * is `invalid_request_object` (RFC 9101 §6.2) — sent back to the object's redirect URI with its
 * `state` once the signature verified with the client's key, shown on a page otherwise.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_REDIRECT, SIGN_IN, body, federatedTenant, initAuth, type TestTenant } from '../support/flow.js';
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
let u: TestTenant;
/** A first-party client with an RSA, an RSA-PSS, a P-256 and an Ed25519 key registered. */
let app: RegisteredClient;
let other: RegisteredClient;

type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'Ed25519';
const keys = {} as Record<'rsa' | 'pss' | 'ec' | 'ed' | 'other' | 'stranger', { priv: CryptoKey; jwk: JWK }>;
const KEY_FOR: Record<Alg, keyof typeof keys> = {
  RS256: 'rsa',
  PS256: 'pss',
  ES256: 'ec',
  EdDSA: 'ed',
  Ed25519: 'ed',
};

async function keyPair(alg: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const { kty, n, e, crv, x, y } = await exportJWK(publicKey);
  const jwk = Object.fromEntries(
    Object.entries({ kty, n, e, crv, x, y, kid }).filter(([, v]) => v !== undefined),
  ) as JWK;
  return { priv: privateKey, jwk };
}

const challenge = () => randomBytes(32).toString('base64url').slice(0, 43);

/** The request an app means: prompt=none, so an accepted object ends in login_required at once. */
function claims(extra: JWTPayload = {}, clientId = app.client_id, issuer = t.issuer): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: clientId,
    aud: issuer,
    client_id: clientId,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: randomUUID(),
    response_type: 'code',
    redirect_uri: APP_REDIRECT,
    scope: 'openid email',
    state: 'inner',
    prompt: 'none',
    code_challenge: challenge(),
    code_challenge_method: 'S256',
    ...extra,
  };
}

async function sign(payload: JWTPayload, alg: Alg = 'RS256', key = keys[KEY_FOR[alg]], typ?: string) {
  const header = { alg, kid: key.jwk.kid!, ...(typ ? { typ } : {}) };
  return new SignJWT(payload).setProtectedHeader(header).sign(key.priv);
}

/** `/oidc/auth` with the object and outer parameters that differ from it (they must be ignored). */
function auth(request: string, clientId = app.client_id, tenant = t): Promise<Response> {
  const q = new URLSearchParams({
    client_id: clientId,
    request,
    redirect_uri: 'https://app.example.com/outer',
    state: 'outer',
    scope: 'openid',
    response_type: 'code',
  });
  return http(`${tenant.issuer}/auth?${q}`);
}

function redirected(res: Response): URLSearchParams {
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get('location')!);
  expect(`${back.origin}${back.pathname}`).toBe(APP_REDIRECT);
  expect(back.searchParams.get('iss')).toBe(t.issuer);
  expect(back.searchParams.get('code')).toBeNull();
  return back.searchParams;
}

/** A refusal sent back to the object's redirect URI with the object's state. */
async function expectRedirectedRefusal(res: Response) {
  const back = redirected(res);
  expect(back.get('error'), back.get('error_description') ?? '').toBe('invalid_request_object');
  expect(back.get('state')).toBe('inner');
}

/** A refusal shown on a page: nothing in the object was trusted, so nothing is redirected. */
async function expectPageRefusal(res: Response) {
  const text = await res.text();
  expect(res.status, text).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(text).toContain('invalid_request_object');
}

function clients(method: string, path: string, payload: unknown, tenant = t) {
  return http(`${tenant.origin}/v1/clients${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: basic(tenant.secret) },
    body: JSON.stringify(payload),
  });
}

beforeAll(async () => {
  server = await startTestServer();
  [t, u] = await Promise.all([federatedTenant(server), federatedTenant(server)]);
  keys.rsa = await keyPair('RS256', 'rsa');
  keys.pss = await keyPair('PS256', 'pss');
  keys.ec = await keyPair('ES256', 'ec');
  keys.ed = await keyPair('Ed25519', 'ed');
  keys.other = await keyPair('ES256', 'other');
  keys.stranger = await keyPair('RS256', 'stranger');
  const metadata = { scope: 'openid email', first_party: true };
  app = await registerClient(t, {
    ...metadata,
    jwks: { keys: [keys.rsa.jwk, keys.pss.jwk, keys.ec.jwk, keys.ed.jwk] },
  });
  other = await registerClient(t, { ...metadata, jwks: { keys: [keys.other.jwk] } });
});
afterAll(async () => {
  await server.stop();
});

describe('a signed request object', () => {
  it.each<Alg>(['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'])(
    'signed with %s is accepted and its parameters replace the outer ones',
    async (alg) => {
      const back = redirected(await auth(await sign(claims(), alg)));
      // prompt=none, state and redirect_uri came from the object; the outer ones were ignored.
      expect(back.get('error')).toBe('login_required');
      expect(back.get('state')).toBe('inner');
    },
  );

  it('openid-client (JAR) gets a code and tokens; the outer parameters are ignored', async () => {
    const config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
    const init = await initAuth(t, { userId: randomUUID(), action: SIGN_IN, clientId: app.client_id });
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithJAR(
      config,
      {
        redirect_uri: APP_REDIRECT,
        scope: 'openid',
        state: 'jar-state',
        token: init.token,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
      { key: keys.rsa.priv, kid: 'rsa' },
    );
    expect(url.searchParams.get('redirect_uri')).toBeNull();
    url.searchParams.set('redirect_uri', 'https://app.example.com/outer');
    url.searchParams.set('state', 'outer');
    const res = await http(url.href);
    expect(res.status, await res.clone().text()).toBe(302);
    const callback = new URL(res.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe('jar-state');
    const tokens = await client.authorizationCodeGrant(config, callback, {
      expectedState: 'jar-state',
      pkceCodeVerifier: verifier,
    });
    expect(tokens.claims()?.aud).toBe(app.client_id);
  });

  it('max_age as a number and claims as a JSON object are read like their query forms', async () => {
    const object = claims({ max_age: 0, claims: { id_token: { email: null } } });
    expect(redirected(await auth(await sign(object))).get('error')).toBe('login_required');
  });
});

describe('refused with invalid_request_object on a page (nothing verified)', () => {
  it('alg none', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify(claims()),
    ).toString('base64url')}.`;
    await expectPageRefusal(await auth(unsigned));
  });

  it('a key the client never registered, and a tampered signature', async () => {
    await expectPageRefusal(await auth(await sign(claims(), 'RS256', keys.stranger)));
    const [h, , s] = (await sign(claims())).split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims({ state: 'forged' }))).toString('base64url')}.${s}`;
    await expectPageRefusal(await auth(forged));
  });

  it("another client's key: the object of `other` presented as app's, and app's key for other", async () => {
    const otherObject = claims({}, other.client_id);
    await expectPageRefusal(await auth(await sign(otherObject, 'ES256', keys.other)));
    await expectPageRefusal(await auth(await sign(claims(), 'ES256', keys.other)));
    await expectPageRefusal(await auth(await sign(otherObject, 'ES256', keys.ec), other.client_id));
  });

  it('not a JWT, an empty one, an encrypted one, another JWT type', async () => {
    await expectPageRefusal(await auth('not-a-jwt'));
    await expectPageRefusal(await auth(''));
    await expectPageRefusal(await auth('a.b.c.d.e'));
    await expectPageRefusal(await auth(await sign(claims(), 'RS256', keys.rsa, 'logout+jwt')));
    const numericTyp = `${Buffer.from('{"alg":"RS256","typ":7}').toString('base64url')}.e30.AAAA`;
    await expectPageRefusal(await auth(numericTyp));
  });

  it('an algorithm other than the client registered in request_object_signing_alg', async () => {
    const strict = await registerClient(t, {
      scope: 'openid email',
      first_party: true,
      jwks: { keys: [keys.stranger.jwk, keys.other.jwk] },
      request_object_signing_alg: 'ES256',
    });
    const mine = claims({}, strict.client_id);
    await expectPageRefusal(await auth(await sign(mine, 'RS256', keys.stranger), strict.client_id));
    const ok = redirected(await auth(await sign(mine, 'ES256', keys.other), strict.client_id));
    expect(ok.get('error')).toBe('login_required');
  });
});

describe('refused with invalid_request_object at the redirect URI (signed by the client)', () => {
  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => JWTPayload]>([
    ['a wrong iss', () => claims({ iss: other.client_id })],
    ['a wrong aud', () => claims({ aud: 'https://elsewhere.example.com/oidc' })],
    ['an inner client_id that differs', () => claims({ client_id: other.client_id })],
    ['an expired object', () => claims({ iat: now() - 600, nbf: now() - 600, exp: now() - 300 })],
    ['no exp', () => claims({ exp: undefined })],
    ['a lifetime over 60 minutes', () => claims({ exp: now() + 3601 })],
    ['a lifetime over 60 minutes counted from iat', () => claims({ nbf: undefined, exp: now() + 4000 })],
    ['an iat in the future', () => claims({ iat: now() + 600 })],
    ['a request_uri inside', () => claims({ request_uri: 'https://evil.example.com/r' })],
  ])('%s', async (_why, make) => {
    await expectRedirectedRefusal(await auth(await sign(make())));
  });

  it('a replayed jti: the second use is refused', async () => {
    const object = await sign(claims());
    expect(redirected(await auth(object)).get('error')).toBe('login_required');
    await expectRedirectedRefusal(await auth(object));
  });

  it('an object whose redirect_uri is not registered gets a page even when signed', async () => {
    const res = await auth(await sign(claims({ exp: undefined, redirect_uri: 'https://evil.example.com/' })));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});

describe('another tenant', () => {
  it("an object made for another tenant's client with the same key is refused here", async () => {
    const twin = await registerClient(u, {
      scope: 'openid email',
      first_party: true,
      jwks: { keys: [keys.rsa.jwk] },
    });
    const forU = claims({}, twin.client_id, u.issuer);
    // Accepted where it belongs.
    const there = await auth(await sign(forU), twin.client_id, u);
    expect(new URL(there.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    // Here, that client does not exist; as app's request, iss, aud and client_id are wrong.
    const unknown = await auth(await sign(forU), twin.client_id);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('invalid_client');
    await expectRedirectedRefusal(await auth(await sign({ ...forU, jti: randomUUID() })));
  });
});

describe('through PAR', () => {
  const push = (form: Record<string, string>, who = app) =>
    postForm(t, '/request', form, { authorization: basic(who.client_id, who.client_secret!) });
  const pushedUri = async (res: Response) => {
    const json = await body<{ request_uri: string }>(res);
    expect(res.status, JSON.stringify(json)).toBe(201);
    return json.request_uri;
  };
  const useUri = (requestUri: string, clientId = app.client_id, extra: Record<string, string> = {}) =>
    http(
      `${t.issuer}/auth?${new URLSearchParams({ client_id: clientId, request_uri: requestUri, ...extra })}`,
    );

  it('openid-client pushes a signed object (JAR + PAR) and gets a code and tokens', async () => {
    const config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
    const init = await initAuth(t, { userId: randomUUID(), action: SIGN_IN, clientId: app.client_id });
    const verifier = client.randomPKCECodeVerifier();
    const { searchParams } = await client.buildAuthorizationUrlWithJAR(
      config,
      {
        redirect_uri: APP_REDIRECT,
        scope: 'openid',
        state: 'par-jar',
        token: init.token,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
      { key: keys.ec.priv, kid: 'ec' },
    );
    const url = await client.buildAuthorizationUrlWithPAR(config, searchParams);
    const res = await http(url.href);
    expect(res.status, await res.clone().text()).toBe(302);
    const callback = new URL(res.headers.get('location')!);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      expectedState: 'par-jar',
      pkceCodeVerifier: verifier,
    });
    expect(tokens.access_token).toBeTruthy();
  });

  it("only the object's parameters are pushed; the form's own are ignored", async () => {
    const uri = await pushedUri(
      await push({ request: await sign(claims()), state: 'outer', redirect_uri: 'https://x.example.com/' }),
    );
    const back = redirected(await useUri(uri));
    expect(back.get('error')).toBe('login_required');
    expect(back.get('state')).toBe('inner');
  });

  it.each<[string, () => Promise<string>]>([
    ['alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.`],
    ['an unknown key', () => sign(claims(), 'RS256', keys.stranger)],
    ['a wrong aud', () => sign(claims({ aud: u.issuer }))],
    ['an inner client_id that differs', () => sign(claims({ client_id: other.client_id }))],
    ['a lifetime over 60 minutes', () => sign(claims({ exp: Math.floor(Date.now() / 1000) + 7200 }))],
  ])('refuses %s with 400 invalid_request_object', async (_why, make) => {
    expect(await oauthError(await push({ request: await make() }))).toMatchObject({
      status: 400,
      error: 'invalid_request_object',
    });
  });

  it('request beside a pushed request_uri is refused with invalid_request, not ignored', async () => {
    const uri = await pushedUri(await push({ request: await sign(claims({ state: 'pushed' })) }));
    const back = redirected(await useUri(uri, app.client_id, { request: await sign(claims()) }));
    expect(back.get('error')).toBe('invalid_request');
    expect(back.get('state')).toBe('pushed');
  });
});

describe('require_signed_request_object', () => {
  let strict: RegisteredClient;
  beforeAll(async () => {
    strict = await registerClient(t, {
      scope: 'openid email',
      first_party: true,
      jwks: { keys: [keys.ec.jwk] },
      require_signed_request_object: true,
    });
  });
  const plain = () => ({
    response_type: 'code',
    redirect_uri: APP_REDIRECT,
    scope: 'openid',
    state: 'plain',
    prompt: 'none',
    code_challenge: challenge(),
    code_challenge_method: 'S256',
  });

  it('a plain request is refused with invalid_request, directly and at PAR', async () => {
    const res = await http(
      `${t.issuer}/auth?${new URLSearchParams({ client_id: strict.client_id, ...plain() })}`,
    );
    const back = redirected(res);
    expect(back.get('error')).toBe('invalid_request');
    expect(back.get('state')).toBe('plain');
    const pushed = await postForm(t, '/request', plain(), {
      authorization: basic(strict.client_id, strict.client_secret!),
    });
    expect(await oauthError(pushed)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('a signed object is accepted, directly and pushed', async () => {
    const object = () => sign(claims({}, strict.client_id), 'ES256');
    expect(redirected(await auth(await object(), strict.client_id)).get('error')).toBe('login_required');
    const pushed = await postForm(
      t,
      '/request',
      { request: await object() },
      { authorization: basic(strict.client_id, strict.client_secret!) },
    );
    const { request_uri } = await body<{ request_uri: string }>(pushed);
    expect(pushed.status).toBe(201);
    const q = new URLSearchParams({ client_id: strict.client_id, request_uri });
    expect(redirected(await http(`${t.issuer}/auth?${q}`)).get('error')).toBe('login_required');
  });
});

describe('client metadata', () => {
  it('stores and returns both fields; PATCH uses the same validator and null lifts the algorithm', async () => {
    const created = await clients('POST', '', {
      client_name: 'signer',
      jwks: { keys: [keys.ed.jwk] },
      request_object_signing_alg: 'EdDSA',
      require_signed_request_object: true,
    });
    const json = await body<RegisteredClient>(created);
    expect(created.status, JSON.stringify(json)).toBe(201);
    expect(json).toMatchObject({ request_object_signing_alg: 'EdDSA', require_signed_request_object: true });
    const read = await body<RegisteredClient>(
      await http(`${t.origin}/v1/clients/${json.client_id}`, {
        headers: { authorization: basic(t.secret) },
      }),
    );
    expect(read).toMatchObject({ request_object_signing_alg: 'EdDSA', require_signed_request_object: true });
    const patched = await clients('PATCH', `/${json.client_id}`, {
      request_object_signing_alg: null,
      require_signed_request_object: false,
    });
    const after = await body<RegisteredClient>(patched);
    expect(patched.status).toBe(200);
    expect(after.request_object_signing_alg).toBeUndefined();
    expect(after.require_signed_request_object).toBe(false);
    expect(app.require_signed_request_object).toBe(false);
  });

  it.each<[string, () => Record<string, unknown>]>([
    ['alg none', () => ({ request_object_signing_alg: 'none' })],
    ['HS256', () => ({ request_object_signing_alg: 'HS256' })],
    ['a non-boolean requirement', () => ({ require_signed_request_object: 'yes' })],
    ['require_signed_request_object without jwks', () => ({ require_signed_request_object: true })],
    [
      'ES256 with only an RSA key',
      () => ({ request_object_signing_alg: 'ES256', jwks: { keys: [keys.rsa.jwk] } }),
    ],
    [
      'EdDSA with only a P-256 key',
      () => ({ request_object_signing_alg: 'EdDSA', jwks: { keys: [keys.ec.jwk] } }),
    ],
    ['an Ed25519 key with a private member', () => ({ jwks: { keys: [{ ...keys.ed.jwk, d: 'AAAA' }] } })],
  ])('refuses %s with 400 invalid_client_metadata, at create and at PATCH', async (_why, make) => {
    const fields = make();
    const created = await clients('POST', '', { client_name: 'bad', ...fields });
    expect(await oauthError(created)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
    const bare = await registerClient(t, {});
    const patched = await clients('PATCH', `/${bare.client_id}`, fields);
    expect(await oauthError(patched)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
  });

  it('removing the keys of a client that requires signed objects is refused', async () => {
    const res = await clients('PATCH', `/${app.client_id}`, {
      jwks: null,
      require_signed_request_object: true,
    });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
  });
});

describe('discovery', () => {
  it('advertises signed request objects and no remote request_uri', async () => {
    const meta = await body<Record<string, unknown>>(
      await http(`${t.issuer}/.well-known/openid-configuration`),
    );
    expect(meta.request_parameter_supported).toBe(true);
    expect(meta.request_object_signing_alg_values_supported).toEqual([
      'RS256',
      'PS256',
      'ES256',
      'EdDSA',
      'Ed25519',
    ]);
    expect(meta.request_uri_parameter_supported).toBe(false);
    expect(meta).not.toHaveProperty('require_signed_request_object');
  });

  it('a request_uri that is not from PAR is never fetched', async () => {
    const q = new URLSearchParams({
      client_id: app.client_id,
      request_uri: 'https://127.0.0.1:1/object.jwt',
    });
    const res = await http(`${t.issuer}/auth?${q}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid_request_uri');
  });
});
