/**
 * The endpoints that take tokens back: userinfo (RFC 6750 bearer rules), introspection (RFC 7662)
 * and revocation (RFC 7009) — what they refuse, and that no tenant learns about another's tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TYPE, federatedTenant, type TestTenant } from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import {
  client,
  fullClient,
  login,
  oauthError,
  postForm,
  registerClient,
  rp,
  type RegisteredClient,
} from '../support/relying-party.js';

let server: TestServer;
let t: TestTenant;
let other: TestTenant;
let app: RegisteredClient;
let config: client.Configuration;
beforeAll(async () => {
  server = await startTestServer();
  [t, other] = await Promise.all([federatedTenant(server), federatedTenant(server)]);
  app = await fullClient(t);
  config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
});
afterAll(async () => {
  await server.stop();
});

const SCOPE = 'openid profile offline_access';
const auth = (c: RegisteredClient) => ({ authorization: basic(c.client_id, c.client_secret!) });
const userinfo = (tenant: TestTenant, token: string, method: 'GET' | 'POST' = 'GET') =>
  http(`${tenant.issuer}/userinfo`, { method, headers: { authorization: `Bearer ${token}` } });
const introspect = (c: RegisteredClient, token: string, tenant = t) =>
  postForm(tenant, '/token/introspection', { token }, auth(c));

/** A 401 from a protected resource: WWW-Authenticate names Bearer (RFC 6750 §3). */
async function expectBearer401(res: Awaited<ReturnType<typeof http>>, error?: string) {
  expect(res.status).toBe(401);
  const challenge = res.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer realm="/);
  if (error) expect(challenge).toContain(`error="${error}"`);
  expect(res.headers.get('cache-control')).toContain('no-store');
}

describe('userinfo', () => {
  it('answers GET and POST with a Bearer header, and POST with access_token in the form body', async () => {
    const { tokens, userId } = await login(t, config, SCOPE);
    for (const method of ['GET', 'POST'] as const) {
      const res = await userinfo(t, tokens.access_token, method);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(await res.json()).toEqual({ sub: userId });
    }
    const form = await http(`${t.issuer}/userinfo`, {
      method: 'POST',
      headers: FORM_TYPE,
      body: new URLSearchParams({ access_token: tokens.access_token }).toString(),
    });
    expect(form.status).toBe(200);
  });

  it('refuses a token sent both in the header and the body with 400', async () => {
    const { tokens } = await login(t, config, SCOPE);
    const res = await http(`${t.issuer}/userinfo`, {
      method: 'POST',
      headers: { ...FORM_TYPE, authorization: `Bearer ${tokens.access_token}` },
      body: new URLSearchParams({ access_token: tokens.access_token }).toString(),
    });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('answers 401 with a bare Bearer challenge when there is no token', async () => {
    const res = await http(`${t.issuer}/userinfo`);
    await expectBearer401(res);
    expect(res.headers.get('www-authenticate')).not.toContain('error=');
  });

  it('answers 401 invalid_token to a malformed or tampered token', async () => {
    const { tokens } = await login(t, config, SCOPE);
    await expectBearer401(await userinfo(t, 'not-a-jwt'), 'invalid_token');
    const [h, p, s] = tokens.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    await expectBearer401(await userinfo(t, `${h}.${forged}.${s}`), 'invalid_token');
  });

  it('answers 401 invalid_token to an ID token (typ is not at+jwt)', async () => {
    const { tokens } = await login(t, config, SCOPE);
    await expectBearer401(await userinfo(t, tokens.id_token!), 'invalid_token');
  });

  it('answers 401 invalid_token to a revoked access token', async () => {
    const { tokens } = await login(t, config, SCOPE);
    expect((await postForm(t, '/token/revocation', { token: tokens.access_token }, auth(app))).status).toBe(
      200,
    );
    await expectBearer401(await userinfo(t, tokens.access_token), 'invalid_token');
  });

  it("answers 401 invalid_token to another tenant's access token", async () => {
    const otherApp = await fullClient(other);
    const otherConfig = await rp(
      other,
      otherApp.client_id,
      client.ClientSecretBasic(otherApp.client_secret!),
    );
    const { tokens } = await login(other, otherConfig, SCOPE);
    expect((await userinfo(other, tokens.access_token)).status).toBe(200);
    await expectBearer401(await userinfo(t, tokens.access_token), 'invalid_token');
  });

  it('answers 403 insufficient_scope to a client_credentials token (no user, no openid)', async () => {
    const cc = await client.clientCredentialsGrant(config, { scope: 'api:read' });
    const res = await userinfo(t, cc.access_token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});

describe('introspection', () => {
  it("answers active: false to another tenant's token, even with the same signing keys", async () => {
    const otherApp = await fullClient(other);
    const otherConfig = await rp(
      other,
      otherApp.client_id,
      client.ClientSecretBasic(otherApp.client_secret!),
    );
    const { tokens } = await login(other, otherConfig, SCOPE);
    expect((await client.tokenIntrospection(otherConfig, tokens.access_token)).active).toBe(true);
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      const res = await introspect(app, token);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ active: false });
    }
  });

  it('answers active: false to garbage, and to a rotated refresh token', async () => {
    expect(await (await introspect(app, 'garbage')).json()).toEqual({ active: false });
    expect(await (await introspect(app, 'a.b.c')).json()).toEqual({ active: false });
    const { tokens } = await login(t, config, SCOPE);
    await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await (await introspect(app, tokens.refresh_token!)).json()).toEqual({ active: false });
  });

  it("answers active: false to another client's token, but the tenant's built-in client may see it", async () => {
    const stranger = await fullClient(t);
    const { tokens } = await login(t, config, SCOPE);
    expect(await (await introspect(stranger, tokens.access_token)).json()).toEqual({ active: false });
    const builtIn = await postForm(
      t,
      '/token/introspection',
      { token: tokens.access_token },
      { authorization: basic(t.id, t.secret) },
    );
    expect(((await builtIn.json()) as { active: boolean }).active).toBe(true);
  });

  it('refuses a public client with 401 invalid_client, and a wrong secret with 401', async () => {
    const pub = await registerClient(t, { client_type: 'public' });
    const res = await postForm(t, '/token/introspection', { token: 'x', client_id: pub.client_id });
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
    const wrong = await postForm(
      t,
      '/token/introspection',
      { token: 'x' },
      { authorization: basic(app.client_id, 'nope') },
    );
    expect(await oauthError(wrong)).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('answers 400 invalid_request without a token', async () => {
    expect(await oauthError(await postForm(t, '/token/introspection', {}, auth(app)))).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
  });
});

describe('revocation', () => {
  it("answers 200 but revokes nothing for another client's token", async () => {
    const stranger = await fullClient(t);
    const { tokens } = await login(t, config, SCOPE);
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      const res = await postForm(t, '/token/revocation', { token }, auth(stranger));
      expect(res.status).toBe(200);
    }
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(true);
  });

  it('answers 200 to unknown and malformed tokens, and to an unknown token_type_hint', async () => {
    const forms: Record<string, string>[] = [
      { token: 'unknown' },
      { token: 'a.b.c' },
      { token: 'x', token_type_hint: 'something_else' },
    ];
    for (const form of forms) {
      const res = await postForm(t, '/token/revocation', form, auth(app));
      expect(res.status).toBe(200);
    }
  });

  it("answers 200 to another tenant's token and leaves it alone", async () => {
    const otherApp = await fullClient(other);
    const otherConfig = await rp(
      other,
      otherApp.client_id,
      client.ClientSecretBasic(otherApp.client_secret!),
    );
    const { tokens } = await login(other, otherConfig, SCOPE);
    expect((await postForm(t, '/token/revocation', { token: tokens.refresh_token! }, auth(app))).status).toBe(
      200,
    );
    expect((await client.tokenIntrospection(otherConfig, tokens.refresh_token!)).active).toBe(true);
  });

  it('lets a public client revoke its own refresh token', async () => {
    const pub = await registerClient(t, {
      client_type: 'public',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: SCOPE,
    });
    const cfg = await rp(t, pub.client_id, client.None());
    const { tokens } = await login(t, cfg, SCOPE);
    expect(tokens.refresh_token).toBeTruthy();
    await client.tokenRevocation(cfg, tokens.refresh_token!);
    const res = await postForm(t, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
      client_id: pub.client_id,
    });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('refuses an unauthenticated request with 401 invalid_client', async () => {
    const res = await postForm(t, '/token/revocation', { token: 'x' });
    expect(await oauthError(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });
});
