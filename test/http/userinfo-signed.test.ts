/**
 * Signed UserInfo responses (OIDC Core §5.3.2): a client that registered
 * `userinfo_signed_response_alg` gets `application/jwt`, verified here with jose against the
 * tenant's JWKS; other clients keep plain JSON; an unsupported algorithm is refused at registration.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { body, docAuth, federatedTenant, JSON_TYPE, type TestTenant } from '../support/flow.js';
import { authUrl, pageLogin, pageUser, redeemCode } from '../support/hosted-login.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

const CB = 'https://rp.example.com/cb';
let server: TestServer;
let t: TestTenant;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
});
afterAll(async () => {
  await server.stop();
});

const register = (extra: Record<string, unknown>) =>
  registerClient(t, { redirect_uris: [CB], scope: 'openid email', first_party: true, ...extra });

async function userinfoOf(client: RegisteredClient) {
  const user = await pageUser(t);
  const req = authUrl(t, client.client_id, CB, { scope: 'openid email' });
  const { location } = await pageLogin(t, new CookieJar(), req.url, user);
  const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
  const res = await http(`${t.issuer}/userinfo`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  return { user, res };
}

describe('userinfo_signed_response_alg', () => {
  it.each(['ES256', 'RS256'] as const)(
    '%s: userinfo is a JWT of the tenant with iss and aud',
    async (alg) => {
      const client = await register({ userinfo_signed_response_alg: alg });
      expect(client).toMatchObject({ userinfo_signed_response_alg: alg });
      const { user, res } = await userinfoOf(client);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/jwt');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const jwks = await body<JSONWebKeySet>(await http(`${t.issuer}/jwks`));
      const { payload, protectedHeader } = await jwtVerify(await res.text(), createLocalJWKSet(jwks), {
        issuer: t.issuer,
        audience: client.client_id,
        algorithms: [alg],
      });
      expect(protectedHeader.alg).toBe(alg);
      expect(payload).toMatchObject({ sub: user.userId, email: user.email });
    },
  );

  it('a client without it gets JSON; PATCH null goes back to JSON', async () => {
    const plain = await register({});
    const { res } = await userinfoOf(plain);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const signed = await register({ userinfo_signed_response_alg: 'PS256' });
    const patched = await http(`${t.origin}/v1/clients/${signed.client_id}`, {
      method: 'PATCH',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ userinfo_signed_response_alg: null }),
    });
    expect(await body(patched)).not.toHaveProperty('userinfo_signed_response_alg');
    const again = await userinfoOf(signed);
    expect(again.res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it.each(['HS256', 'none', 'RS512'])('%s is refused with invalid_client_metadata', async (alg) => {
    const res = await http(`${t.origin}/v1/clients`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ redirect_uris: [CB], userinfo_signed_response_alg: alg }),
    });
    expect(res.status).toBe(400);
    expect(await body(res)).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('discovery lists the algorithms', async () => {
    const doc = await body(await http(`${t.issuer}/.well-known/openid-configuration`));
    expect(doc.userinfo_signing_alg_values_supported).toEqual(doc.id_token_signing_alg_values_supported);
  });
});
