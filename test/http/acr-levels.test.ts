/**
 * acr levels (OIDC Core §3.1.2.1, §5.5.1.1): `phishing-resistant` (a user-verifying passkey) above
 * `mfa` above one method. Voluntary values get the best the user can do, with an honest `acr`;
 * an essential level the user's methods cannot reach ends with `unmet_authentication_requirements`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { body, federatedTenant, verify, type TestTenant } from '../support/flow.js';
import { authUrl, pageLogin, pageUser, redeemCode } from '../support/hosted-login.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

const CB = 'https://rp.example.com/cb';
const essential = (...values: string[]) => JSON.stringify({ id_token: { acr: { essential: true, values } } });

let server: TestServer;
let t: TestTenant;
let client: RegisteredClient;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  client = await registerClient(t, { redirect_uris: [CB], client_name: 'Bank', first_party: true });
});
afterAll(async () => {
  await server.stop();
});

it('discovery lists phishing-resistant and mfa', async () => {
  const doc = await body<{ acr_values_supported: string[] }>(
    await http(`${t.issuer}/.well-known/openid-configuration`),
  );
  expect(doc.acr_values_supported).toEqual(expect.arrayContaining(['phishing-resistant', 'mfa']));
});

describe('phishing-resistant with codes only', () => {
  it('essential, for a TOTP user: unmet_authentication_requirements', async () => {
    const user = await pageUser(t);
    const req = authUrl(t, client.client_id, CB, { claims: essential('phishing-resistant') });
    const { location } = await pageLogin(t, new CookieJar(), req.url, user);
    expect(location.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(location.searchParams.get('code')).toBeNull();
  });

  it('essential, for a TOTP and email user: a second code cannot reach it, so none is asked for', async () => {
    const user = await pageUser(t, { totp: true, email: true });
    const req = authUrl(t, client.client_id, CB, { claims: essential('phishing-resistant') });
    const { location } = await pageLogin(t, new CookieJar(), req.url, user);
    expect(location.searchParams.get('error')).toBe('unmet_authentication_requirements');
  });

  it('voluntary: the sign-in goes on, and acr says what was done', async () => {
    const user = await pageUser(t);
    const req = authUrl(t, client.client_id, CB, { acr_values: 'phishing-resistant' });
    const { location } = await pageLogin(t, new CookieJar(), req.url, user);
    const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
    const { payload } = await verify(t, tokens.id_token, client.client_id);
    expect(payload.acr).toBe('urn:identity:acr:single-factor');
  });

  it('essential phishing-resistant or single-factor: met by TOTP, and acr is the value reached', async () => {
    const user = await pageUser(t);
    const claims = essential('phishing-resistant', 'urn:identity:acr:single-factor');
    const req = authUrl(t, client.client_id, CB, { claims });
    const { location } = await pageLogin(t, new CookieJar(), req.url, user);
    const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
    expect((await verify(t, tokens.id_token, client.client_id)).payload.acr).toBe(
      'urn:identity:acr:single-factor',
    );
  });
});
