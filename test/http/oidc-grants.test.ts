/**
 * Every rule of the token endpoint's grants, one negative test each: refresh token rotation and
 * reuse detection, scope narrowing, client binding, code replay reaching refresh tokens,
 * client_credentials, resources, client authentication and private_key_jwt assertions.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_REDIRECT,
  JSON_TYPE,
  docAuth,
  federatedTenant,
  verify,
  type TestTenant,
} from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import {
  authorizationResponse,
  client,
  fullClient,
  login,
  oauthError,
  postForm,
  registerClient,
  rp,
  rpError,
  type RegisteredClient,
} from '../support/relying-party.js';

let server: TestServer;
let t: TestTenant;
let app: RegisteredClient;
let config: client.Configuration;
beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  app = await fullClient(t);
  config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
});
afterAll(async () => {
  await server.stop();
});

const SCOPE = 'openid profile email offline_access';
const auth = (c: RegisteredClient) => ({ authorization: basic(c.client_id, c.client_secret!) });
const refresh = (c: RegisteredClient, token: string, extra: Record<string, string> = {}) =>
  postForm(t, '/token', { grant_type: 'refresh_token', refresh_token: token, ...extra }, auth(c));

describe('refresh_token grant', () => {
  it('refuses a reused refresh token with invalid_grant and revokes the whole family', async () => {
    const { tokens, userId } = await login(t, config, SCOPE);
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    // The old token again: a replay.
    expect(await oauthError(await refresh(app, tokens.refresh_token!))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    // The token it was rotated to is dead too, and so are the access tokens of the family.
    expect(await oauthError(await refresh(app, rotated.refresh_token!))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    expect(await rpError(client.fetchUserInfo(config, rotated.access_token, userId))).toMatchObject({
      error: 'invalid_token',
    });
    expect(await rpError(client.fetchUserInfo(config, tokens.access_token, userId))).toMatchObject({
      error: 'invalid_token',
    });
  });

  it('of two concurrent uses of one refresh token at most one succeeds', async () => {
    const { tokens } = await login(t, config, SCOPE);
    const results = await Promise.all([
      refresh(app, tokens.refresh_token!),
      refresh(app, tokens.refresh_token!),
    ]);
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
    expect(results.some((r) => r.status === 400)).toBe(true);
  });

  it('narrows the scope on request, and the refresh token keeps the original scope', async () => {
    const { tokens } = await login(t, config, SCOPE);
    const narrow = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid email' });
    expect(narrow.scope).toBe('openid email');
    expect((await verify(t, narrow.access_token, app.client_id)).payload.scope).toBe('openid email');
    const full = await client.refreshTokenGrant(config, narrow.refresh_token!);
    expect(full.scope).toBe(SCOPE);
  });

  it('refuses to widen the scope with invalid_scope, and the token stays usable', async () => {
    const { tokens } = await login(t, config, 'openid offline_access');
    const res = await refresh(app, tokens.refresh_token!, { scope: 'openid offline_access profile' });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_scope' });
    expect((await refresh(app, tokens.refresh_token!)).status).toBe(200);
  });

  it("refuses another client's refresh token with invalid_grant without touching it", async () => {
    const other = await fullClient(t);
    const { tokens } = await login(t, config, SCOPE);
    expect(await oauthError(await refresh(other, tokens.refresh_token!))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    expect((await refresh(app, tokens.refresh_token!)).status).toBe(200);
  });

  it('refuses an unknown refresh token, and a client not allowed the grant', async () => {
    expect(await oauthError(await refresh(app, 'x'.repeat(43)))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    const noRefresh = await registerClient(t, { scope: 'openid offline_access' });
    expect(await oauthError(await refresh(noRefresh, 'x'.repeat(43)))).toMatchObject({
      status: 400,
      error: 'unauthorized_client',
    });
  });

  it('a replayed authorization code revokes the refresh tokens its first redemption issued', async () => {
    // New clients require PKCE (issue 11 item 7).
    const verifier = client.randomPKCECodeVerifier();
    const codeChallenge = await client.calculatePKCECodeChallenge(verifier);
    const { callback } = await authorizationResponse(t, config, { scope: SCOPE, codeChallenge });
    const code = callback.searchParams.get('code')!;
    const redeem = () =>
      postForm(
        t,
        '/token',
        { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, code_verifier: verifier },
        auth(app),
      );
    const first = await redeem();
    expect(first.status).toBe(200);
    const { refresh_token: rt } = (await first.json()) as { refresh_token: string };
    expect(await oauthError(await redeem())).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(await oauthError(await refresh(app, rt))).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('refuses a resource the client may not ask for with invalid_target', async () => {
    const { tokens } = await login(t, config, SCOPE);
    const res = await refresh(app, tokens.refresh_token!, { resource: 'https://evil.example.com' });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_target' });
  });

  it('slides the expiry on rotation, never past the absolute lifetime', async () => {
    const short = await fullClient(t, {
      refresh_token_lifetime: 3600,
      refresh_token_absolute_lifetime: 7200,
    });
    const cfg = await rp(t, short.client_id, client.ClientSecretBasic(short.client_secret!));
    const { tokens } = await login(t, cfg, SCOPE);
    const first = await client.tokenIntrospection(cfg, tokens.refresh_token!);
    expect(first.exp! - first.iat!).toBe(3600);
    const rotated = await client.refreshTokenGrant(cfg, tokens.refresh_token!);
    const second = await client.tokenIntrospection(cfg, rotated.refresh_token!);
    expect(second.exp!).toBeGreaterThanOrEqual(first.exp!);
    expect(second.exp! - second.iat!).toBeLessThanOrEqual(3600);
    expect(second.exp! - first.iat!).toBeLessThanOrEqual(7200);
  });
});

describe('client_credentials grant', () => {
  const cc = (c: RegisteredClient, extra: Record<string, string> = {}) =>
    postForm(t, '/token', { grant_type: 'client_credentials', ...extra }, auth(c));

  it('refuses a public client with unauthorized_client', async () => {
    const pub = await registerClient(t, { client_type: 'public', scope: 'openid api:read' });
    const res = await postForm(t, '/token', { grant_type: 'client_credentials', client_id: pub.client_id });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it('refuses a confidential client not allowed the grant with unauthorized_client', async () => {
    const codeOnly = await registerClient(t, { scope: 'openid api:read' });
    expect(await oauthError(await cc(codeOnly))).toMatchObject({ status: 400, error: 'unauthorized_client' });
  });

  it.each([
    ['a scope the client was not given', 'api:admin'],
    ['openid', 'openid'],
    ['offline_access', 'api:read offline_access'],
  ])('refuses %s with invalid_scope', async (_, scope) => {
    expect(await oauthError(await cc(app, { scope }))).toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it.each([
    ['an unregistered resource', 'resource=https%3A%2F%2Fevil.example.com'],
    ['a resource with a fragment', 'resource=https%3A%2F%2Fapi.example.com%23x'],
    ['a relative resource', 'resource=%2Fapi'],
    ['an unregistered audience', 'audience=https%3A%2F%2Fevil.example.com'],
    [
      'one bad resource among good ones',
      'resource=https%3A%2F%2Fapi.example.com&resource=https%3A%2F%2Fevil.example.com',
    ],
  ])('refuses %s with invalid_target', async (_, extra) => {
    const res = await postForm(t, '/token', `grant_type=client_credentials&${extra}`, auth(app));
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_target' });
  });

  it('takes audience (as Auth0-style providers name it) like a resource', async () => {
    const res = await cc(app, { audience: 'https://api.example.com' });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    await verify(t, access_token, 'https://api.example.com');
  });

  it('still refuses any other repeated parameter', async () => {
    const res = await postForm(
      t,
      '/token',
      'grant_type=client_credentials&scope=api:read&scope=api:write',
      auth(app),
    );
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_request' });
  });
});

describe('client authentication', () => {
  it('answers a wrong secret with 401 invalid_client and a Basic challenge', async () => {
    const res = await postForm(
      t,
      '/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(app.client_id, 'wrong') },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(await oauthError(res)).toMatchObject({ error: 'invalid_client' });
  });

  it('answers an unknown grant type with unsupported_grant_type', async () => {
    const res = await postForm(
      t,
      '/token',
      { grant_type: 'password', username: 'a', password: 'b' },
      auth(app),
    );
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'unsupported_grant_type' });
  });
});

describe('private_key_jwt client assertions', () => {
  let key: CryptoKey;
  let pk: RegisteredClient;
  const TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    pk = await fullClient(t, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1' }] },
    });
  });

  const assertion = (
    claims: Record<string, unknown> = {},
    opts: { signWith?: CryptoKey; alg?: string; expiresIn?: number } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ jti: randomUUID(), aud: `${t.issuer}/token`, ...claims })
      .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: 'k1' })
      .setIssuer(pk.client_id)
      .setSubject(pk.client_id)
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.expiresIn ?? 60))
      .sign(opts.signWith ?? key);
  };
  const withAssertion = (jwt: string, extra: Record<string, string> = {}) =>
    postForm(t, '/token', {
      grant_type: 'client_credentials',
      client_assertion_type: TYPE,
      client_assertion: jwt,
      ...extra,
    });

  it('accepts a good assertion (aud = token endpoint or issuer)', async () => {
    expect((await withAssertion(await assertion())).status).toBe(200);
    expect((await withAssertion(await assertion({ aud: t.issuer }))).status).toBe(200);
  });

  it('refuses an assertion signed with another key', async () => {
    const other = await generateKeyPair('ES256');
    const res = await withAssertion(await assertion({}, { signWith: other.privateKey }));
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses a replayed assertion (same jti)', async () => {
    const jwt = await assertion();
    expect((await withAssertion(jwt)).status).toBe(200);
    expect(await oauthError(await withAssertion(jwt))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });

  it('refuses an assertion for another audience', async () => {
    const res = await withAssertion(await assertion({ aud: 'https://elsewhere.example.com/token' }));
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it("refuses an assertion for another tenant's token endpoint", async () => {
    const other = await server.tenant();
    const res = await withAssertion(await assertion({ aud: `${other.issuer}/token` }));
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses an assertion that expires more than five minutes ahead', async () => {
    const res = await withAssertion(await assertion({}, { expiresIn: 3600 }));
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses an assertion without jti', async () => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(pk.client_id)
      .setSubject(pk.client_id)
      .setAudience(t.issuer)
      .setExpirationTime(now + 60)
      .sign(key);
    expect(await oauthError(await withAssertion(jwt))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });

  it('refuses an HS256 assertion made with a shared secret', async () => {
    const jwt = await assertion(
      {},
      { alg: 'HS256', signWith: new TextEncoder().encode('x'.repeat(32)) as unknown as CryptoKey },
    );
    expect(await oauthError(await withAssertion(jwt))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });

  it('refuses a wrong client_assertion_type, and a client_id that differs from the assertion', async () => {
    const wrongType = await postForm(t, '/token', {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      client_assertion: await assertion(),
    });
    expect(await oauthError(wrongType)).toMatchObject({ status: 401, error: 'invalid_client' });
    const res = await withAssertion(await assertion(), { client_id: app.client_id });
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses an assertion from a client registered for secrets, and a secret from a private_key_jwt client', async () => {
    const secretClientAssertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(app.client_id)
      .setSubject(app.client_id)
      .setAudience(t.issuer)
      .setExpirationTime('1m')
      .sign(key);
    expect(await oauthError(await withAssertion(secretClientAssertion))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    const res = await postForm(t, '/token', {
      grant_type: 'client_credentials',
      client_id: pk.client_id,
      client_secret: 'x'.repeat(43),
    });
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('refuses a client_secret and an assertion at once with invalid_request', async () => {
    const res = await withAssertion(await assertion(), { client_secret: 'x' });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_request' });
  });
});

describe('client registration rules', () => {
  it.each([
    [
      'client_credentials for a public client',
      { client_type: 'public', grant_types: ['client_credentials'] },
    ],
    ['private_key_jwt without jwks', { token_endpoint_auth_method: 'private_key_jwt' }],
    [
      'a private key in jwks',
      {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' }] },
      },
    ],
    ['a relative resource', { resources: ['/api'] }],
    ['a resource with a fragment', { resources: ['https://api.example.com/#x'] }],
    [
      'an absolute lifetime shorter than the sliding one',
      { refresh_token_lifetime: 7200, refresh_token_absolute_lifetime: 3600 },
    ],
    ['an unknown grant type', { grant_types: ['password'] }],
  ])('refuses %s with 400', async (_, metadata) => {
    const created = await http(`${t.origin}/v1/clients`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ client_name: 'x', ...metadata }),
    });
    expect(created.status, await created.clone().text()).toBe(400);
  });
});
