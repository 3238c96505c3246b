/**
 * The provider as a tenant app sees it, driven end to end by `openid-client` v6 (a certified
 * relying party): discovery, the authorization code flow through `/init-auth`, userinfo, refresh,
 * introspection, revocation, client_credentials and private_key_jwt.
 */
import { decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_TYPE, body, docAuth, federatedTenant, verify, type TestTenant } from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import {
  client,
  fullClient,
  login,
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

const ALL_SCOPES = 'openid profile email phone address offline_access';

async function putProfile(userId: string, profile: Record<string, unknown>) {
  const res = await http(`${t.origin}/v1/users/${encodeURIComponent(userId)}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify(profile),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

const PROFILE = {
  username: 'ada',
  email: 'Ada@Example.com',
  email_verified: true,
  phone_number: '+44 20 7946 0000',
  name: 'Ada Lovelace',
  given_name: 'Ada',
  family_name: 'Lovelace',
  nickname: 'Countess',
  picture: 'https://example.com/ada.png',
  website: 'https://example.com',
  birthdate: '1815-12-10',
  zoneinfo: 'Europe/London',
  locale: 'en-GB',
  address: { formatted: '12 St James Square, London', country: 'GB' },
  custom_attributes: { tier: 'gold' },
};

describe('discovery as openid-client reads it', () => {
  it('advertises the endpoints, grants, auth methods, scopes and claims that work', () => {
    const m = config.serverMetadata();
    expect(m.issuer).toBe(t.issuer);
    expect(m.userinfo_endpoint).toBe(`${t.issuer}/userinfo`);
    expect(m.revocation_endpoint).toBe(`${t.issuer}/token/revocation`);
    expect(m.introspection_endpoint).toBe(`${t.issuer}/token/introspection`);
    expect(m.grant_types_supported).toEqual([
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:device_code',
      'urn:openid:params:grant-type:ciba',
    ]);
    expect(m.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(m.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS256', 'PS256', 'ES256']);
    expect(m.introspection_endpoint_auth_methods_supported).not.toContain('none');
    expect(m.revocation_endpoint_auth_methods_supported).toContain('client_secret_basic');
    expect(m.scopes_supported).toEqual([
      'openid',
      'offline_access',
      'profile',
      'email',
      'phone',
      'address',
      'roles',
      'groups',
      'custom_attributes',
    ]);
    for (const claim of [
      'email',
      'email_verified',
      'phone_number',
      'address',
      'updated_at',
      'preferred_username',
      'action_state',
    ]) {
      expect(m.claims_supported).toContain(claim);
    }
  });
});

describe('authorization code flow with a registered client', () => {
  it('issues access, ID and refresh tokens for offline_access; userinfo releases the profile by scope', async () => {
    const userId = `ada-${Date.now()}`;
    await putProfile(userId, PROFILE);
    const { tokens } = await login(t, config, ALL_SCOPES, userId);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.scope).toBe(ALL_SCOPES);
    expect(tokens.claims()!.sub).toBe(userId);
    const { header, payload } = await verify(t, tokens.access_token, app.client_id);
    expect(header.typ).toBe('at+jwt');
    expect(payload.gid).toBeTruthy();

    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    expect(info).toMatchObject({
      sub: userId,
      name: 'Ada Lovelace',
      given_name: 'Ada',
      family_name: 'Lovelace',
      nickname: 'Countess',
      preferred_username: 'ada',
      picture: 'https://example.com/ada.png',
      website: 'https://example.com',
      birthdate: '1815-12-10',
      zoneinfo: 'Europe/London',
      locale: 'en-GB',
      email: 'Ada@Example.com',
      email_verified: true,
      phone_number: '+442079460000',
      phone_number_verified: false,
      address: { formatted: '12 St James Square, London', country: 'GB' },
    });
    expect(typeof info.updated_at).toBe('number');
    expect(info).not.toHaveProperty('custom_attributes');
    expect(info).not.toHaveProperty('username');
  });

  it('releases only what the scopes cover', async () => {
    const userId = `grace-${Date.now()}`;
    await putProfile(userId, { ...PROFILE, username: 'grace', email: 'grace@example.com' });
    const { tokens } = await login(t, config, 'openid email', userId);
    expect(tokens.refresh_token).toBeUndefined();
    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    expect(info).toEqual({ sub: userId, email: 'grace@example.com', email_verified: true });
  });

  it('answers userinfo with just sub for a user without a profile', async () => {
    const { tokens, userId } = await login(t, config, 'openid profile');
    expect(await client.fetchUserInfo(config, tokens.access_token, userId)).toEqual({ sub: userId });
  });

  it('rotates the refresh token, keeps the family and the subject, and the new token works again', async () => {
    const { tokens, userId } = await login(t, config, ALL_SCOPES);
    const first = await verify(t, tokens.access_token, app.client_id);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.scope).toBe(ALL_SCOPES);
    expect(refreshed.claims()!.sub).toBe(userId);
    expect(refreshed.claims()!.nonce).toBeUndefined();
    expect(refreshed.claims()!.auth_time).toBe(tokens.claims()!.auth_time);
    const second = await verify(t, refreshed.access_token, app.client_id);
    expect(second.payload.gid).toBe(first.payload.gid);
    expect(second.payload.jti).not.toBe(first.payload.jti);
    const again = await client.refreshTokenGrant(config, refreshed.refresh_token!);
    expect((await client.fetchUserInfo(config, again.access_token, userId)).sub).toBe(userId);
  });

  it('does not issue a refresh token to a client not allowed the grant, and drops offline_access', async () => {
    const plain = await registerClient(t, {
      scope: 'openid offline_access',
      token_endpoint_auth_method: 'client_secret_post',
    });
    const cfg = await rp(t, plain.client_id, client.ClientSecretPost(plain.client_secret!));
    const { tokens } = await login(t, cfg, 'openid offline_access');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('openid');
  });

  it('keeps the built-in client working as before (no refresh token, aud = tenant id)', async () => {
    const builtIn = await rp(t, t.id, client.ClientSecretPost(t.secret));
    const { tokens } = await login(t, builtIn, 'openid');
    expect(tokens.refresh_token).toBeUndefined();
    const { payload } = await verify(t, tokens.access_token, t.id);
    expect(payload.action_state).toBe('ALLOW');
  });

  it('issues access tokens for a requested resource (RFC 8707) at the token endpoint', async () => {
    const { tokens } = await login(t, config, 'openid offline_access');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, {
      resource: 'https://api.example.com',
    });
    await verify(t, refreshed.access_token, 'https://api.example.com');
  });
});

describe('introspection and revocation', () => {
  it('introspects a live access token with its claims, and a refresh token', async () => {
    const { tokens, userId } = await login(t, config, ALL_SCOPES);
    const at = await client.tokenIntrospection(config, tokens.access_token);
    expect(at).toMatchObject({
      active: true,
      scope: ALL_SCOPES,
      client_id: app.client_id,
      sub: userId,
      token_type: 'Bearer',
      aud: app.client_id,
      iss: t.issuer,
      action: 'signIn',
      action_state: 'ALLOW',
    });
    expect(typeof at.exp).toBe('number');
    expect(typeof at.iat).toBe('number');
    expect(typeof at.jti).toBe('string');
    const rt = await client.tokenIntrospection(config, tokens.refresh_token!, {
      token_type_hint: 'refresh_token',
    });
    expect(rt).toMatchObject({
      active: true,
      client_id: app.client_id,
      sub: userId,
      scope: ALL_SCOPES,
      iss: t.issuer,
    });
  });

  it('revoking a refresh token kills its family: refresh, introspection and userinfo all refuse', async () => {
    const { tokens, userId } = await login(t, config, ALL_SCOPES);
    await client.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(await rpError(client.refreshTokenGrant(config, tokens.refresh_token!))).toMatchObject({
      error: 'invalid_grant',
    });
    expect((await client.tokenIntrospection(config, tokens.refresh_token!)).active).toBe(false);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect(await rpError(client.fetchUserInfo(config, tokens.access_token, userId))).toMatchObject({
      error: 'invalid_token',
    });
  });

  it('revoking an access token kills that token only', async () => {
    const { tokens, userId } = await login(t, config, ALL_SCOPES);
    await client.tokenRevocation(config, tokens.access_token);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect(await rpError(client.fetchUserInfo(config, tokens.access_token, userId))).toMatchObject({
      error: 'invalid_token',
    });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect((await client.fetchUserInfo(config, refreshed.access_token, userId)).sub).toBe(userId);
  });
});

describe('client_credentials', () => {
  it('issues an RFC 9068 access token for the client itself, for a requested resource', async () => {
    const tokens = await client.clientCredentialsGrant(config, {
      scope: 'api:read',
      resource: 'https://api.example.com',
    });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.scope).toBe('api:read');
    const { header, payload } = await verify(t, tokens.access_token, 'https://api.example.com');
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      sub: app.client_id,
      client_id: app.client_id,
      scope: 'api:read',
      iss: t.issuer,
    });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(600);
    const info = await client.tokenIntrospection(config, tokens.access_token);
    expect(info).toMatchObject({ active: true, sub: app.client_id, aud: 'https://api.example.com' });
  });

  it('defaults to every allowed scope but openid and offline_access, with the client id as audience', async () => {
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.scope).toBe('profile email phone address api:read api:write');
    await verify(t, tokens.access_token, app.client_id);
  });

  it('takes several resources (repeated resource parameter) as several audiences', async () => {
    const params = new URLSearchParams([
      ['resource', 'https://api.example.com'],
      ['resource', 'https://other.example.com/v1'],
    ]);
    const tokens = await client.clientCredentialsGrant(config, params);
    const { payload } = await verify(t, tokens.access_token, 'https://other.example.com/v1');
    expect(payload.aud).toEqual(['https://api.example.com', 'https://other.example.com/v1']);
  });
});

describe('private_key_jwt', () => {
  it.each(['RS256', 'PS256', 'ES256'] as const)(
    'authenticates a client by an %s assertion (code flow and client_credentials)',
    async (alg) => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: `k-${alg}`, alg };
      const pk = await fullClient(t, {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
      });
      expect(pk.client_secret).toBeUndefined();
      const cfg = await rp(t, pk.client_id, client.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }));
      const { tokens, userId } = await login(t, cfg, ALL_SCOPES);
      expect(tokens.claims()!.sub).toBe(userId);
      const refreshed = await client.refreshTokenGrant(cfg, tokens.refresh_token!);
      expect(refreshed.access_token).toBeTruthy();
      const cc = await client.clientCredentialsGrant(cfg, { scope: 'api:write' });
      expect(decodeProtectedHeader(cc.access_token).typ).toBe('at+jwt');
      expect((await client.tokenIntrospection(cfg, cc.access_token)).active).toBe(true);
      await client.tokenRevocation(cfg, cc.access_token);
      expect((await client.tokenIntrospection(cfg, cc.access_token)).active).toBe(false);
    },
  );
});

describe('management view of clients', () => {
  it('shows the new metadata with defaults and never a secret hash', async () => {
    const res = await http(`${t.origin}/v1/clients/${app.client_id}`, {
      headers: { authorization: docAuth(t) },
    });
    const json = await body<Record<string, unknown>>(res);
    expect(res.status).toBe(200);
    expect(json).toMatchObject({
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      resources: ['https://api.example.com', 'https://other.example.com/v1'],
      refresh_token_lifetime: 14 * 86_400,
      refresh_token_absolute_lifetime: 90 * 86_400,
    });
    expect(json).not.toHaveProperty('secret_hash');
  });
});
