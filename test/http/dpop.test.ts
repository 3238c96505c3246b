/**
 * DPoP (RFC 9449) through the local server: a client that makes its proofs with jose gets
 * key-bound access tokens at the token endpoint (client_credentials, authorization code with PKCE,
 * refresh), uses them at UserInfo with a proof, and sees them in introspection; then the abuse:
 * replays (one after the other and 30 at once), proofs for another method, URL, time, token or
 * key, forged algorithms, private keys, garbage, a bound token as Bearer, mandatory DPoP, nonces,
 * and another tenant's token.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_REDIRECT,
  FORM_TYPE,
  JSON_TYPE,
  SIGN_IN,
  docAuth,
  federatedTenant,
  initAuth,
  newUserId,
  type TestTenant,
} from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import {
  authorizationResponse,
  client,
  fullClient,
  registerClient,
  rp,
  type RegisteredClient,
} from '../support/relying-party.js';
import {
  CookieJar,
  DEVICE_GRANT,
  csrfOf,
  go,
  newUser,
  postAs,
  registerApp,
  signInAndDecide,
} from '../support/decoupled-grants.js';

let server: TestServer;
let t: TestTenant;
let other: TestTenant;
let app: RegisteredClient;
beforeAll(async () => {
  server = await startTestServer();
  [t, other] = await Promise.all([federatedTenant(server), federatedTenant(server)]);
  app = await fullClient(t);
});
afterAll(async () => {
  await server.stop();
});

interface Key {
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

async function newKey(alg = 'ES256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

const nowS = () => Math.floor(Date.now() / 1000);
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A DPoP proof (RFC 9449 §4.2) as a client makes it; `claims` and `header` override. */
function proof(
  key: Key,
  htm: string,
  htu: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ htm, htu, jti: randomUUID(), iat: nowS(), ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...header })
    .sign(key.privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const tokenUrl = (tenant: TestTenant) => `${tenant.issuer}/token`;
const userinfoUrl = (tenant: TestTenant) => `${tenant.issuer}/userinfo`;

function token(
  tenant: TestTenant,
  form: Record<string, string>,
  headers: Record<string, string> = {},
  c: RegisteredClient = app,
) {
  const auth: Record<string, string> = c.client_secret
    ? { authorization: basic(c.client_id, c.client_secret) }
    : {};
  const body = c.client_secret ? form : { client_id: c.client_id, ...form };
  return http(tokenUrl(tenant), {
    method: 'POST',
    headers: { ...FORM_TYPE, ...auth, ...headers },
    body: new URLSearchParams(body).toString(),
  });
}

const CC = { grant_type: 'client_credentials', scope: 'api:read' };

async function ccToken(key: Key, tenant = t, c = app): Promise<string> {
  const res = await token(tenant, CC, { dpop: await proof(key, 'POST', tokenUrl(tenant)) }, c);
  const json = (await res.json()) as { access_token: string; token_type: string };
  expect(res.status, JSON.stringify(json)).toBe(200);
  expect(json.token_type).toBe('DPoP');
  return json.access_token;
}

/** An OAuth error response: status and `error`. */
async function errorOf(res: Awaited<ReturnType<typeof http>>) {
  const json = (await res.json()) as { error: string };
  return { status: res.status, error: json.error };
}

/** A user's DPoP-bound access token (authorization code with PKCE) for the full client. */
async function userToken(key: Key): Promise<string> {
  const config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
  const verifier = client.randomPKCECodeVerifier();
  const { callback } = await authorizationResponse(t, config, {
    scope: 'openid profile',
    codeChallenge: await client.calculatePKCECodeChallenge(verifier),
  });
  const res = await token(
    t,
    {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: APP_REDIRECT,
      code_verifier: verifier,
    },
    { dpop: await proof(key, 'POST', tokenUrl(t)) },
  );
  const json = (await res.json()) as { access_token: string; token_type: string };
  expect(res.status, JSON.stringify(json)).toBe(200);
  expect(json.token_type).toBe('DPoP');
  return json.access_token;
}

function userinfo(tenant: TestTenant, authorization: string, dpop?: string | string[]) {
  const headers: [string, string][] = [['authorization', authorization]];
  for (const p of dpop === undefined ? [] : Array.isArray(dpop) ? dpop : [dpop]) headers.push(['dpop', p]);
  return http(userinfoUrl(tenant), { headers });
}

/** A 401 from UserInfo with a `DPoP` challenge of this error that lists the algorithms (RFC 9449 §7.1). */
async function expectDpop401(res: Awaited<ReturnType<typeof http>>, error: string) {
  expect(res.status, await res.clone().text()).toBe(401);
  const challenge = res.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^DPoP /);
  expect(challenge).toContain(`error="${error}"`);
  expect(challenge).toContain('algs="ES256 RS256 PS256 EdDSA Ed25519"');
}

describe('token endpoint', () => {
  it('binds a client_credentials token to the proof key (cnf.jkt), and introspection says so', async () => {
    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA']) {
      const key = await newKey(alg);
      const access = await ccToken(key);
      expect(decodeJwt(access).cnf).toEqual({ jkt: key.jkt });
      const res = await http(`${t.issuer}/token/introspection`, {
        method: 'POST',
        headers: { ...FORM_TYPE, authorization: basic(app.client_id, app.client_secret!) },
        body: new URLSearchParams({ token: access }).toString(),
      });
      const info = (await res.json()) as Record<string, unknown>;
      expect(info).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
    }
    // Without a proof nothing changes: a bearer token without cnf.
    const plain = await token(t, CC);
    const json = (await plain.json()) as { access_token: string; token_type: string };
    expect(json.token_type).toBe('Bearer');
    expect(decodeJwt(json.access_token).cnf).toBeUndefined();
  });

  it("binds the code grant and a public client's refresh token to the key (RFC 9449 §5)", async () => {
    const pub = await registerClient(t, {
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
    });
    const config = await rp(t, pub.client_id, client.None());
    const verifier = client.randomPKCECodeVerifier();
    const { callback } = await authorizationResponse(t, config, {
      scope: 'openid offline_access',
      codeChallenge: await client.calculatePKCECodeChallenge(verifier),
    });
    const key = await newKey();
    const code = {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: APP_REDIRECT,
      code_verifier: verifier,
    };
    const res = await token(t, code, { dpop: await proof(key, 'POST', tokenUrl(t)) }, pub);
    const first = (await res.json()) as { access_token: string; refresh_token: string; token_type: string };
    expect(res.status, JSON.stringify(first)).toBe(200);
    expect(first.token_type).toBe('DPoP');
    expect(decodeJwt(first.access_token).cnf).toEqual({ jkt: key.jkt });

    const refresh = { grant_type: 'refresh_token', refresh_token: first.refresh_token };
    // No proof, or a proof by another key: refused, and the token is left usable.
    expect(await errorOf(await token(t, refresh, {}, pub))).toEqual({
      status: 400,
      error: 'invalid_dpop_proof',
    });
    const thief = await newKey();
    expect(
      await errorOf(await token(t, refresh, { dpop: await proof(thief, 'POST', tokenUrl(t)) }, pub)),
    ).toEqual({
      status: 400,
      error: 'invalid_grant',
    });
    const next = await token(t, refresh, { dpop: await proof(key, 'POST', tokenUrl(t)) }, pub);
    const second = (await next.json()) as { access_token: string; refresh_token: string; token_type: string };
    expect(next.status, JSON.stringify(second)).toBe(200);
    expect(second.token_type).toBe('DPoP');
    expect(decodeJwt(second.access_token).cnf).toEqual({ jkt: key.jkt });
    // The rotated token is bound too.
    const again = { grant_type: 'refresh_token', refresh_token: second.refresh_token };
    expect((await token(t, again, {}, pub)).status).toBe(400);
  });

  it('refuses a replayed proof, one after the other and 30 at once: exactly one wins', async () => {
    const key = await newKey();
    const p = await proof(key, 'POST', tokenUrl(t));
    expect((await token(t, CC, { dpop: p })).status).toBe(200);
    expect(await errorOf(await token(t, CC, { dpop: p }))).toEqual({
      status: 400,
      error: 'invalid_dpop_proof',
    });

    const race = await proof(key, 'POST', tokenUrl(t));
    const answers = await Promise.all(Array.from({ length: 30 }, () => token(t, CC, { dpop: race })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(29);
    for (const r of answers.filter((a) => a.status === 400))
      expect((await errorOf(r)).error).toBe('invalid_dpop_proof');
  });

  it('refuses proofs for another method, URL or time, and accepts a normalised URL', async () => {
    const key = await newKey();
    const url = tokenUrl(t);
    const bad = [
      await proof(key, 'GET', url),
      await proof(key, 'POST', `${t.issuer}/userinfo`),
      await proof(key, 'POST', tokenUrl(other)),
      await proof(key, 'POST', url, { iat: nowS() - 120 }),
      await proof(key, 'POST', url, { iat: nowS() + 120 }),
      await proof(key, 'POST', url, { jti: undefined }),
      await proof(key, 'POST', url, {}, { typ: 'JWT' }),
    ];
    for (const p of bad)
      expect(await errorOf(await token(t, CC, { dpop: p }))).toEqual({
        status: 400,
        error: 'invalid_dpop_proof',
      });
    // RFC 3986 §6.2.2: scheme and host case, a query and a fragment do not matter (RFC 9449 §4.3).
    const u = new URL(url);
    const shouted = `${u.protocol.toUpperCase()}//${u.host.toUpperCase()}${u.pathname}?x=1#f`;
    expect((await token(t, CC, { dpop: await proof(key, 'POST', shouted) })).status).toBe(200);
  });

  it('refuses alg none, HMAC, a private key in the header, garbage, oversized and repeated headers', async () => {
    const key = await newKey();
    const url = tokenUrl(t);
    const claims = { htm: 'POST', htu: url, jti: randomUUID(), iat: nowS() };
    const none = `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk })}.${b64(claims)}.`;
    const noneSig = `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk })}.${b64(claims)}.AAAA`;
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({
        typ: 'dpop+jwt',
        alg: 'HS256',
        jwk: key.jwk,
      })
      .sign(new TextEncoder().encode('secretsecretsecretsecretsecret!!'));
    const withPrivate = await proof(key, 'POST', url, {}, { jwk: await exportJWK(key.privateKey) });
    const noJwk = await new SignJWT(claims)
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256' })
      .sign(key.privateKey);
    const otherKey = await newKey();
    const wrongKey = await proof(key, 'POST', url, {}, { jwk: otherKey.jwk });
    const cases = [
      none,
      noneSig,
      hmac,
      withPrivate,
      noJwk,
      wrongKey,
      'garbage',
      `${'a'.repeat(5000)}.${'b'.repeat(10)}.${'c'.repeat(10)}`,
      `${await proof(key, 'POST', url)}, ${await proof(key, 'POST', url)}`,
      '',
    ];
    for (const p of cases) {
      const res = await token(t, CC, { dpop: p });
      expect(await errorOf(res), p.slice(0, 60)).toEqual({ status: 400, error: 'invalid_dpop_proof' });
    }
    // Two DPoP header fields, as a client library would send them.
    const two = await http(url, {
      method: 'POST',
      headers: [
        ['content-type', 'application/x-www-form-urlencoded'],
        ['authorization', basic(app.client_id, app.client_secret!)],
        ['dpop', await proof(key, 'POST', url)],
        ['dpop', await proof(key, 'POST', url)],
      ],
      body: new URLSearchParams(CC).toString(),
    });
    expect(await errorOf(two)).toEqual({ status: 400, error: 'invalid_dpop_proof' });
  });

  it('makes a proof mandatory for a client with dpop_bound_access_tokens (RFC 9449 §5.2)', async () => {
    const bound = await fullClient(t, { dpop_bound_access_tokens: true });
    expect(bound.dpop_bound_access_tokens).toBe(true);
    const shown = await http(`${t.origin}/v1/clients/${bound.client_id}`, {
      headers: { authorization: docAuth(t) },
    });
    expect(((await shown.json()) as Record<string, unknown>).dpop_bound_access_tokens).toBe(true);
    expect(await errorOf(await token(t, CC, {}, bound))).toEqual({
      status: 400,
      error: 'invalid_dpop_proof',
    });
    await ccToken(await newKey(), t, bound);
    // Turned off again with PATCH: bearer tokens are fine.
    const patched = await http(`${t.origin}/v1/clients/${bound.client_id}`, {
      method: 'PATCH',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ dpop_bound_access_tokens: false }),
    });
    expect(patched.status).toBe(200);
    expect((await token(t, CC, {}, bound)).status).toBe(200);
  });

  it('asks for a server nonce when the client requires one, then accepts it (RFC 9449 §8)', async () => {
    const strict = await fullClient(t, { require_dpop_nonce: true });
    const key = await newKey();
    const first = await token(t, CC, { dpop: await proof(key, 'POST', tokenUrl(t)) }, strict);
    const nonce = first.headers.get('dpop-nonce');
    expect(await errorOf(first)).toEqual({ status: 400, error: 'use_dpop_nonce' });
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const forged = await token(
      t,
      CC,
      { dpop: await proof(key, 'POST', tokenUrl(t), { nonce: 'x'.repeat(43) }) },
      strict,
    );
    expect(await errorOf(forged)).toEqual({ status: 400, error: 'use_dpop_nonce' });
    // Another tenant's nonce is not this tenant's.
    const elsewhere = await fullClient(other, { require_dpop_nonce: true });
    const otherNonce = (
      await token(other, CC, { dpop: await proof(key, 'POST', tokenUrl(other)) }, elsewhere)
    ).headers.get('dpop-nonce');
    const crossed = await token(
      t,
      CC,
      { dpop: await proof(key, 'POST', tokenUrl(t), { nonce: otherNonce }) },
      strict,
    );
    expect(await errorOf(crossed)).toEqual({ status: 400, error: 'use_dpop_nonce' });
    const ok = await token(t, CC, { dpop: await proof(key, 'POST', tokenUrl(t), { nonce }) }, strict);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(ok.headers.get('dpop-nonce')).toBeTruthy();
  });
});

/**
 * A code for the full client through `/init-auth`, with `extra` authorization parameters sent to
 * /oidc/auth directly or pushed first (with `pushHeaders`, e.g. a DPoP proof); and its verifier.
 */
async function codeWith(
  extra: Record<string, string>,
  push?: Record<string, string>,
): Promise<{ status: number; code?: string; verifier: string; error?: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const init = await initAuth(t, { userId: newUserId(), action: SIGN_IN, clientId: app.client_id });
  const params: Record<string, string> = {
    client_id: app.client_id,
    response_type: 'code',
    redirect_uri: APP_REDIRECT,
    scope: 'openid',
    token: init.token,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  };
  let query = params;
  if (push) {
    const res = await http(`${t.issuer}/request`, {
      method: 'POST',
      headers: { ...FORM_TYPE, authorization: basic(app.client_id, app.client_secret!), ...push },
      body: new URLSearchParams(params).toString(),
    });
    const json = (await res.json()) as { request_uri?: string; error?: string };
    if (res.status !== 201)
      return { status: res.status, verifier, ...(json.error ? { error: json.error } : {}) };
    query = { client_id: app.client_id, request_uri: json.request_uri! };
  }
  const res = await http(`${t.issuer}/auth?${new URLSearchParams(query)}`);
  const location = new URL(res.headers.get('location') ?? 'about:blank');
  const code = location.searchParams.get('code') ?? undefined;
  const error = location.searchParams.get('error') ?? undefined;
  return { status: res.status, verifier, ...(code ? { code } : {}), ...(error ? { error } : {}) };
}

const redeem = (code: string, verifier: string, headers: Record<string, string> = {}) =>
  token(
    t,
    { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, code_verifier: verifier },
    headers,
  );

describe('the device code grant with DPoP', () => {
  it("binds the device's tokens and its public refresh token to the key", async () => {
    const plain = await server.tenant();
    const tv = await registerApp(plain, {
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      scope: 'openid offline_access',
    });
    const started = await postAs(plain, tv, '/device/auth', { scope: 'openid offline_access' });
    const d = (await started.json()) as { device_code: string; user_code: string };
    const jar = new CookieJar();
    const html = await (await go(jar, `${plain.issuer}/device`)).text();
    const start = await go(jar, `${plain.issuer}/device`, {
      form: { csrf: csrfOf(html), user_code: d.user_code },
    });
    await signInAndDecide(plain, jar, start, await newUser(plain), { identify: true });

    const key = await newKey('EdDSA');
    const form = new URLSearchParams({
      client_id: tv.client_id,
      grant_type: DEVICE_GRANT,
      device_code: d.device_code,
    });
    const res = await http(tokenUrl(plain), {
      method: 'POST',
      headers: { ...FORM_TYPE, dpop: await proof(key, 'POST', tokenUrl(plain)) },
      body: form.toString(),
    });
    const tokens = (await res.json()) as { access_token: string; refresh_token: string; token_type: string };
    expect(res.status, JSON.stringify(tokens)).toBe(200);
    expect(tokens.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token };
    const without = await postAs(plain, tv, '/token', refresh);
    expect(await errorOf(without)).toEqual({ status: 400, error: 'invalid_dpop_proof' });
  });
});

describe('codes bound to a DPoP key (RFC 9449 §10)', () => {
  it('redeems a code sent with dpop_jkt only with a proof by that key', async () => {
    const key = await newKey();
    const thief = await newKey();
    const { code, verifier } = await codeWith({ dpop_jkt: key.jkt });
    expect(code).toBeDefined();
    expect(await errorOf(await redeem(code!, verifier))).toEqual({
      status: 400,
      error: 'invalid_dpop_proof',
    });
    const stolen = await redeem(code!, verifier, { dpop: await proof(thief, 'POST', tokenUrl(t)) });
    expect(await errorOf(stolen)).toEqual({ status: 400, error: 'invalid_grant' });
    const ok = await redeem(code!, verifier, { dpop: await proof(key, 'POST', tokenUrl(t)) });
    const json = (await ok.json()) as { access_token: string; token_type: string };
    expect(ok.status, JSON.stringify(json)).toBe(200);
    expect(decodeJwt(json.access_token).cnf).toEqual({ jkt: key.jkt });
    // A malformed dpop_jkt goes back to the client as invalid_request.
    expect((await codeWith({ dpop_jkt: 'not-a-thumbprint' })).error).toBe('invalid_request');
  });

  it('binds a pushed request to the key of the proof sent with it (RFC 9449 §10.1)', async () => {
    const key = await newKey();
    const thief = await newKey();
    const par = `${t.issuer}/request`;
    const { code, verifier } = await codeWith({}, { dpop: await proof(key, 'POST', par) });
    expect(code).toBeDefined();
    const stolen = await redeem(code!, verifier, { dpop: await proof(thief, 'POST', tokenUrl(t)) });
    expect(await errorOf(stolen)).toEqual({ status: 400, error: 'invalid_grant' });
    expect((await redeem(code!, verifier, { dpop: await proof(key, 'POST', tokenUrl(t)) })).status).toBe(200);
    // A dpop_jkt of another key than the proof's, or a bad proof, refuses the push.
    const mismatch = await codeWith({ dpop_jkt: thief.jkt }, { dpop: await proof(key, 'POST', par) });
    expect(mismatch).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });
    const wrongUrl = await codeWith({}, { dpop: await proof(key, 'POST', tokenUrl(t)) });
    expect(wrongUrl).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });
  });
});

describe('UserInfo with DPoP (RFC 9449 §7)', () => {
  it('answers a DPoP-bound token with its proof, and refuses every other combination', async () => {
    const key = await newKey();
    const access = await userToken(key);
    const url = userinfoUrl(t);
    const ok = await userinfo(t, `DPoP ${access}`, await proof(key, 'GET', url, { ath: ath(access) }));
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as { sub: string }).sub).toBe(decodeJwt(access).sub);

    // A bound token as Bearer (§7.2), or without a proof.
    await expectDpop401(await userinfo(t, `Bearer ${access}`), 'invalid_token');
    await expectDpop401(await userinfo(t, `DPoP ${access}`), 'invalid_dpop_proof');
    // Missing ath, the ath of another token, another key, another method or URL, a replay.
    const otherToken = await userToken(key);
    const thief = await newKey();
    const replayed = await proof(key, 'GET', url, { ath: ath(access) });
    expect((await userinfo(t, `DPoP ${access}`, replayed)).status).toBe(200);
    for (const p of [
      await proof(key, 'GET', url),
      await proof(key, 'GET', url, { ath: ath(otherToken) }),
      await proof(thief, 'GET', url, { ath: ath(access) }),
      await proof(key, 'POST', url, { ath: ath(access) }),
      await proof(key, 'GET', tokenUrl(t), { ath: ath(access) }),
      await proof(key, 'GET', url, { ath: ath(access), iat: nowS() - 300 }),
      replayed,
    ]) {
      await expectDpop401(await userinfo(t, `DPoP ${access}`, p), 'invalid_dpop_proof');
    }
    // Two proofs at once.
    await expectDpop401(
      await userinfo(t, `DPoP ${access}`, [
        await proof(key, 'GET', url, { ath: ath(access) }),
        await proof(key, 'GET', url, { ath: ath(access) }),
      ]),
      'invalid_dpop_proof',
    );
    // An unbound token with the DPoP scheme.
    const plain = (await (await token(t, { grant_type: 'client_credentials' })).json()) as {
      access_token: string;
    };
    await expectDpop401(
      await userinfo(
        t,
        `DPoP ${plain.access_token}`,
        await proof(key, 'GET', url, { ath: ath(plain.access_token) }),
      ),
      'invalid_token',
    );
  });

  it("refuses another tenant's bound token, and offers both schemes when no token is sent", async () => {
    const key = await newKey();
    const access = await userToken(key);
    const res = await userinfo(
      other,
      `DPoP ${access}`,
      await proof(key, 'GET', userinfoUrl(other), { ath: ath(access) }),
    );
    await expectDpop401(res, 'invalid_token');
    const none = await http(userinfoUrl(t));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", DPoP algs="/);
  });

  it("asks for a nonce at UserInfo when the token's client requires one", async () => {
    const strict = await fullClient(t, { require_dpop_nonce: true });
    const key = await newKey();
    const first = await token(t, CC, { dpop: await proof(key, 'POST', tokenUrl(t)) }, strict);
    const nonce = first.headers.get('dpop-nonce')!;
    const res = await token(t, CC, { dpop: await proof(key, 'POST', tokenUrl(t), { nonce }) }, strict);
    const access = ((await res.json()) as { access_token: string }).access_token;
    // A client_credentials token has no user: past the proof, UserInfo says insufficient_scope.
    const url = userinfoUrl(t);
    const noNonce = await userinfo(t, `DPoP ${access}`, await proof(key, 'GET', url, { ath: ath(access) }));
    await expectDpop401(noNonce, 'use_dpop_nonce');
    const fresh = noNonce.headers.get('dpop-nonce')!;
    const withNonce = await userinfo(
      t,
      `DPoP ${access}`,
      await proof(key, 'GET', url, { ath: ath(access), nonce: fresh }),
    );
    expect(withNonce.status).toBe(403);
  });
});

describe('openid-client as the relying party', () => {
  it('logs in, refreshes and reads UserInfo with its own DPoP handle, nonces included', async () => {
    const strict = await fullClient(t, { require_dpop_nonce: true, dpop_bound_access_tokens: true });
    const config = await rp(t, strict.client_id, client.ClientSecretBasic(strict.client_secret!));
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const { callback, userId } = await authorizationResponse(t, config, {
      scope: 'openid offline_access',
      state,
      codeChallenge: await client.calculatePKCECodeChallenge(verifier),
    });
    const grant = () =>
      client.authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: verifier, expectedState: state },
        undefined,
        { DPoP },
      );
    // openid-client answers use_dpop_nonce itself: it retries once with the DPoP-Nonce it was given
    // (the client requires nonces, so no token comes without one).
    const tokens = await grant();
    expect(tokens.token_type).toBe('dpop');
    const jkt = (decodeJwt(tokens.access_token).cnf as { jkt: string }).jkt;
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const info = await client.fetchUserInfo(config, tokens.access_token, userId, { DPoP });
    expect(info.sub).toBe(userId);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });
    const viaCc = await client.clientCredentialsGrant(config, { scope: 'api:read' }, { DPoP });
    expect(decodeJwt(viaCc.access_token).cnf).toEqual({ jkt });
  });
});

describe('discovery', () => {
  it('advertises the DPoP algorithms', async () => {
    const doc = (await (await http(`${t.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc.dpop_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519']);
  });
});
