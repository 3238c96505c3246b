/**
 * acr levels (OIDC Core §3.1.2.1, §5.5.1.1): `phishing-resistant` (a user-verifying passkey) above
 * `mfa` above one method. Voluntary values get the best the user can do, with an honest `acr`;
 * an essential level the user's methods cannot reach ends with `unmet_authentication_requirements`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { body, federatedTenant, verify, type TestTenant } from '../support/flow.js';
import { withPasskeys } from '../../functions/authenticators/passkey.js';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { servicesFor } from '../../functions/services.js';
import { authUrl, csrfOf, go, pageLogin, pageUser, redeemCode } from '../support/hosted-login.js';
import { SoftPasskey } from '../support/soft-passkey.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';

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

/** A user whose only method is a passkey, enrolled as the hosted pages would enroll it. */
async function passkeyUser() {
  const user = await pageUser(t, {});
  const services = await servicesFor('us');
  const auth = createAuthenticatorService(
    services.tenants.scoped(t.id),
    {
      mailer: services.mailer,
      secretBox: services.secretBox,
      rpId: new URL(t.origin).hostname,
      rpName: t.slug,
      origin: t.origin,
    },
    withPasskeys,
  );
  const passkey = new SoftPasskey(t.origin);
  const key = `enroll-${user.userId}`;
  const options = await auth.passkeyRegistrationOptions(user.userId, {
    key,
    userName: user.email,
    displayName: 'Ada',
  });
  expect(
    await auth.verifyPasskeyRegistration(user.userId, { key, response: passkey.register(options) }),
  ).toBeDefined();
  return { user, passkey };
}

async function postJson(jar: CookieJar, url: string, json: unknown) {
  const res = await http(url, {
    method: 'POST',
    headers: { ...jar.header(), 'content-type': 'application/json' },
    body: JSON.stringify(json),
  });
  jar.take(res);
  return res;
}

/** Identify, then the passkey ceremony over the pages' JSON steps, then `next`: the redirect. */
async function passkeyLogin(start: string, passkey: SoftPasskey, email: string): Promise<URL> {
  const jar = new CookieJar();
  const res = await go(jar, start);
  const page = `${t.origin}${res.headers.get('location')}`;
  let html = await (await go(jar, page)).text();
  await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: email } });
  html = await (await go(jar, page)).text();
  const csrf = csrfOf(html);
  // The ceremonies have a route (and a function) of their own; each route answers only its steps.
  const misplaced = await postJson(jar, `${page}/passkey-options`, { csrf });
  expect(misplaced.status).toBe(404);
  expect(await misplaced.json()).toMatchObject({ error: 'not_found' });
  expect((await postJson(jar, `${page}/passkey/email-send`, { csrf })).status).toBe(404);
  const options = await postJson(jar, `${page}/passkey/options`, { csrf });
  expect(options.status).toBe(200);
  const response = passkey.authenticate((await options.json()) as PublicKeyCredentialRequestOptionsJSON);
  const verified = await postJson(jar, `${page}/passkey/verify`, { csrf, response });
  expect(await verified.json()).toEqual({ next: true });
  const done = await go(jar, `${page}/next`, { form: { csrf } });
  expect(done.status).toBe(302);
  return new URL(done.headers.get('location')!);
}

describe('phishing-resistant with a passkey', () => {
  it('essential: met by a user-verifying passkey; acr and amr say so', async () => {
    const { user, passkey } = await passkeyUser();
    const req = authUrl(t, client.client_id, CB, { claims: essential('phishing-resistant') });
    const location = await passkeyLogin(req.url, passkey, user.email);
    expect(
      location.searchParams.get('error'),
      location.searchParams.get('error_description') ?? '',
    ).toBeNull();
    const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
    const { payload } = await verify(t, tokens.id_token, client.client_id);
    expect(payload.acr).toBe('phishing-resistant');
    expect(payload.amr).toEqual(expect.arrayContaining(['hwk', 'user']));
  });

  it('essential mfa is met by the same passkey, and the acr is the value requested', async () => {
    const { user, passkey } = await passkeyUser();
    const req = authUrl(t, client.client_id, CB, { claims: essential('mfa') });
    const location = await passkeyLogin(req.url, passkey, user.email);
    const tokens = await redeemCode(t, client, location.searchParams.get('code')!, CB, req.verifier);
    expect((await verify(t, tokens.id_token, client.client_id)).payload.acr).toBe('mfa');
  });
});
