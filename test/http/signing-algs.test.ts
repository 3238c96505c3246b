/**
 * Per-client signing algorithms (OpenID Connect Dynamic Client Registration 1.0 §2
 * `id_token_signed_response_alg`, and `access_token_signed_response_alg`): stored and returned like
 * every other client field (RFC 7591 §3.2.1), an unknown value refused with
 * `invalid_client_metadata`, tokens signed with them by the tenant's own keys and accepted by
 * every verifier of our own tokens (userinfo, introspection).
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, docAuth, federatedTenant, JSON_TYPE, type TestTenant } from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import { client, fullClient, login, postForm, rp, type RegisteredClient } from '../support/relying-party.js';

let server: TestServer;
let t: TestTenant;
beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
});
afterAll(async () => {
  await server.stop();
});

const jwks = async (tenant: TestTenant) =>
  createLocalJWKSet((await (await http(`${tenant.issuer}/jwks`)).json()) as JSONWebKeySet);
const manage = (path: string, method: string, payload?: unknown) =>
  http(`${t.origin}/v1/clients${path}`, {
    method,
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
  });
const introspect = async (c: RegisteredClient, token: string) =>
  body<{ active: boolean }>(
    await postForm(
      t,
      '/token/introspection',
      { token },
      { authorization: basic(c.client_id, c.client_secret!) },
    ),
  );

describe('client metadata', () => {
  it('defaults to RS256, stores and returns what was registered, and PATCH changes it', async () => {
    const plain = await fullClient(t);
    expect(plain).toMatchObject({
      id_token_signed_response_alg: 'RS256',
      access_token_signed_response_alg: 'RS256',
    });
    const ec = await fullClient(t, {
      id_token_signed_response_alg: 'ES256',
      access_token_signed_response_alg: 'EdDSA',
    });
    expect(ec).toMatchObject({
      id_token_signed_response_alg: 'ES256',
      access_token_signed_response_alg: 'EdDSA',
    });
    const got = await body(await manage(`/${ec.client_id}`, 'GET'));
    expect(got).toMatchObject({
      id_token_signed_response_alg: 'ES256',
      access_token_signed_response_alg: 'EdDSA',
    });
    const patched = await manage(`/${ec.client_id}`, 'PATCH', { id_token_signed_response_alg: 'PS256' });
    expect(patched.status).toBe(200);
    expect(await body(await manage(`/${ec.client_id}`, 'GET'))).toMatchObject({
      id_token_signed_response_alg: 'PS256',
      access_token_signed_response_alg: 'EdDSA',
    });
  });

  it.each(['HS256', 'none', 'RS512', 'ES384', '', 42])(
    'refuses %j at create and at PATCH with invalid_client_metadata',
    async (alg) => {
      for (const field of ['id_token_signed_response_alg', 'access_token_signed_response_alg']) {
        const created = await manage('', 'POST', { client_name: 'app', [field]: alg });
        expect(created.status).toBe(400);
        expect(await body(created)).toMatchObject({ error: 'invalid_client_metadata' });
        const app = await fullClient(t);
        const patched = await manage(`/${app.client_id}`, 'PATCH', { [field]: alg });
        expect(patched.status).toBe(400);
        expect(await body(patched)).toMatchObject({ error: 'invalid_client_metadata' });
        expect(await body(await manage(`/${app.client_id}`, 'GET'))).toMatchObject({ [field]: 'RS256' });
      }
    },
  );

  it('keeps the built-in client on RS256 (what Azure AD B2C expects)', async () => {
    const res = await manage(`/${t.id}`, 'PATCH', { id_token_signed_response_alg: 'ES256' });
    expect(res.status).toBe(400);
    expect(await body(res)).toMatchObject({ error: 'invalid_client_metadata' });
    expect(await body(await manage(`/${t.id}`, 'GET'))).toMatchObject({
      id_token_signed_response_alg: 'RS256',
      access_token_signed_response_alg: 'RS256',
    });
  });

  it('discovery lists the algorithms the tenant’s keys sign with', async () => {
    const doc = await body(await http(`${t.issuer}/.well-known/openid-configuration`));
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
  });
});

describe('tokens signed with the client’s algorithms', () => {
  it.each([
    ['ES256', 'PS256'],
    ['EdDSA', 'ES256'],
    ['PS256', 'EdDSA'],
  ] as const)(
    'ID token %s and access token %s: verified with the tenant JWKS, accepted by userinfo and introspection',
    async (idAlg, atAlg) => {
      const app = await fullClient(t, {
        id_token_signed_response_alg: idAlg,
        access_token_signed_response_alg: atAlg,
      });
      const config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!), {
        id_token_signed_response_alg: idAlg,
      });
      const { tokens, userId } = await login(t, config, 'openid profile');
      expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: idAlg, typ: 'JWT' });
      expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: atAlg, typ: 'at+jwt' });
      const keys = await jwks(t);
      await jwtVerify(tokens.id_token!, keys, {
        issuer: t.issuer,
        audience: app.client_id,
        algorithms: [idAlg],
      });
      await jwtVerify(tokens.access_token, keys, { issuer: t.issuer, typ: 'at+jwt', algorithms: [atAlg] });
      expect((await client.fetchUserInfo(config, tokens.access_token, userId)).sub).toBe(userId);
      expect(await introspect(app, tokens.access_token)).toMatchObject({ active: true });
      // The ID token works as id_token_hint at logout: verified with its own algorithm.
      const logout = await http(`${t.issuer}/session/end?id_token_hint=${tokens.id_token!}`, {
        redirect: 'manual',
      });
      expect(logout.status).toBeLessThan(400);
    },
  );

  it('client_credentials with ES256 and EdDSA access tokens; another tenant’s keys do not verify them', async () => {
    const other = await federatedTenant(server);
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const app = await fullClient(t, { access_token_signed_response_alg: alg });
      const res = await postForm(
        t,
        '/token',
        { grant_type: 'client_credentials' },
        { authorization: basic(app.client_id, app.client_secret!) },
      );
      const { access_token } = await body<{ access_token: string }>(res);
      expect(res.status).toBe(200);
      expect(decodeProtectedHeader(access_token).alg).toBe(alg);
      await jwtVerify(access_token, await jwks(t), { issuer: t.issuer, algorithms: [alg] });
      await expect(jwtVerify(access_token, await jwks(other))).rejects.toThrow();
      expect(await introspect(app, access_token)).toMatchObject({ active: true });
    }
  });
});
