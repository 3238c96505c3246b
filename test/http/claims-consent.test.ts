/**
 * The `claims` request parameter (OIDC Core §5.5) releases nothing beyond scopes and consent, tried
 * the way an attacker's client would: a client registered for `openid` alone asking for email,
 * phone and address in both the ID token and UserInfo; a client allowed `email` asking for it
 * without the scope; `prompt=none` riding on a consent remembered for `openid` alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { federatedTenant, verify, type TestTenant } from '../support/flow.js';
import { authUrl, go, pageLogin, pageUser, redeemCode, userinfo } from '../support/hosted-login.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';

const CB = 'https://rp.example.com/cb';
const EVERYTHING = { email: null, email_verified: null, phone_number: null, address: null, name: null };
const CLAIMS = JSON.stringify({ id_token: EVERYTHING, userinfo: EVERYTHING });
const LEAKED = ['email', 'email_verified', 'phone_number', 'address', 'name'];

let server: TestServer;
let t: TestTenant;
/** Registered for `openid` only: third party (consent page) and first party (no consent page). */
let openidOnly: RegisteredClient;
let openidOnlyFirst: RegisteredClient;
/** Allowed `openid email`, third party. */
let emailClient: RegisteredClient;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  const base = { redirect_uris: [CB], client_name: 'Photo Printer' };
  openidOnly = await registerClient(t, { ...base, scope: 'openid', first_party: false });
  openidOnlyFirst = await registerClient(t, { ...base, scope: 'openid', first_party: true });
  emailClient = await registerClient(t, { ...base, scope: 'openid email', first_party: false });
});
afterAll(async () => {
  await server.stop();
});

async function tokensFor(client: RegisteredClient, extra: Record<string, string>, jar = new CookieJar()) {
  const user = await pageUser(t);
  const req = authUrl(t, client.client_id, CB, extra);
  const { location, consentPage } = await pageLogin(t, jar, req.url, user);
  expect(location.searchParams.get('error'), location.searchParams.get('error_description') ?? '').toBeNull();
  const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
  const { payload } = await verify(t, tokens.id_token, client.client_id);
  return { user, payload, info: await userinfo(t, tokens.access_token), consentPage, jar };
}

describe('claims request parameter', () => {
  for (const [name, client] of [
    ['third-party', () => openidOnly],
    ['first-party', () => openidOnlyFirst],
  ] as const) {
    it(`a ${name} client registered for openid alone gets no profile claim through claims`, async () => {
      const { payload, info, consentPage } = await tokensFor(client(), { scope: 'openid', claims: CLAIMS });
      for (const claim of LEAKED) {
        expect(payload[claim], `id_token.${claim}`).toBeUndefined();
        expect(info[claim], `userinfo.${claim}`).toBeUndefined();
      }
      if (consentPage) {
        expect(consentPage).not.toContain('See your email address');
        expect(consentPage).not.toContain('See your phone number');
        expect(consentPage).not.toContain('See your address');
      }
    });
  }

  it('a client allowed email gets it through claims only after the consent page showed it', async () => {
    const { user, payload, info, consentPage } = await tokensFor(emailClient, {
      scope: 'openid',
      claims: CLAIMS,
    });
    expect(consentPage).toContain('See your email address');
    expect(consentPage).not.toContain('See your phone number');
    expect(payload.email).toBe(user.email);
    expect(info.email).toBe(user.email);
    for (const claim of ['phone_number', 'address', 'name']) {
      expect(payload[claim]).toBeUndefined();
      expect(info[claim]).toBeUndefined();
    }
  });

  it('prompt=none on a consent remembered for openid alone does not release email through claims', async () => {
    const { jar } = await tokensFor(emailClient, { scope: 'openid' });
    const res = await go(jar, authUrl(t, emailClient.client_id, CB, { prompt: 'none', claims: CLAIMS }).url);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('code')).toBeNull();
    expect(back.searchParams.get('error')).toBe('consent_required');
    // Without prompt=none the same request asks for consent again (SSO does not answer at once).
    const again = await go(jar, authUrl(t, emailClient.client_id, CB, { claims: CLAIMS }).url);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toMatch(/^\/interaction\//);
  });
});
