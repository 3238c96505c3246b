/**
 * Self sign-up in real Chromium: "Create an account" on the hosted login, the emailed code from
 * the local outbox, a passkey created with Chromium's virtual WebAuthn authenticator (or "Not now"
 * when the tenant makes the authenticator optional), then openid-client redeems the code; the new
 * user then signs in again with the passkey.
 */
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addVirtualAuthenticator,
  latestCode,
  launchBrowser,
  openPage,
  type TestPage,
  closedAfterEachWithoutCspViolations,
} from '../support/browser.js';
import { eventually, getUser } from '../support/browser-flow.js';
import type { TestTenant } from '../support/flow.js';
import {
  authRequest,
  landedAt,
  registerApp,
  startAppServer,
  type AppServer,
} from '../support/oidc-browser.js';
import { client, rp } from '../support/relying-party.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { setSignUp } from '../support/sign-up.js';

let server: TestServer;
let browser: Browser;
let app: AppServer;
/** Closed after each test, which fails on any Content Security Policy violation they reported. */
const keep = closedAfterEachWithoutCspViolations();

beforeAll(async () => {
  [server, browser, app] = await Promise.all([startTestServer(), launchBrowser(), startAppServer()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await app?.close();
});

async function tenantWithApp(authenticator: 'required' | 'optional') {
  const t: TestTenant = await server.tenant();
  await setSignUp(t, 'email', authenticator);
  const registered = await registerApp(t, {
    client_name: 'Own App',
    redirect_uris: [app.url],
    grant_types: ['authorization_code'],
    scope: 'openid email',
    token_endpoint_auth_method: 'client_secret_basic',
    first_party: true,
  });
  const config = await rp(t, registered.client_id, client.ClientSecretBasic(registered.client_secret));
  return { t, config };
}

const heading = (tp: TestPage) => tp.page.getByRole('heading', { level: 1 }).textContent();

/** The person's part up to the enrollment chooser: the link, the address, the emailed code. */
async function createAccount(tp: TestPage, email: string): Promise<void> {
  const { page } = tp;
  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect.poll(() => heading(tp), eventually).toBe('Create an account');
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await expect.poll(() => heading(tp), eventually).toBe('Check your email');
  await page.getByLabel('Verification code').fill(await latestCode(email));
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect.poll(() => heading(tp), eventually).toBe('Set up a way to verify it’s you');
}

describe('self sign-up in Chromium', () => {
  it('creates an account with a passkey, gets tokens, and signs in again with the passkey', async () => {
    const { t, config } = await tenantWithApp('required');
    const tp = await openPage(browser, app);
    keep(tp);
    const { page } = tp;
    await addVirtualAuthenticator(page);
    const email = `new-${randomBytes(4).toString('hex')}@example.com`;

    const req = await authRequest(config, app.url, { scope: 'openid email' });
    await page.goto(req.url.href);
    await createAccount(tp, email);
    // Required: no "Not now".
    expect(await page.getByRole('button', { name: 'Not now' }).count()).toBe(0);
    await page.getByRole('link', { name: /^Passkey/ }).click();
    await expect.poll(() => heading(tp), eventually).toBe('Create a passkey');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    const tokens = await client.authorizationCodeGrant(config, await landedAt(tp, app.url), {
      pkceCodeVerifier: req.pkceCodeVerifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    const claims = tokens.claims()!;
    // Signed in by the emailed code that proved the address; the passkey was only added.
    expect(claims.amr).toEqual(['otp']);
    const user = await getUser(t, claims.sub);
    expect(user.authenticators.map((a) => a.type).sort()).toEqual(['EMAIL_OTP', 'PASSKEY']);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ email, email_verified: true });

    // Next time: the address, then the passkey.
    const again = await authRequest(config, app.url, { scope: 'openid email', prompt: 'login' });
    await page.goto(again.url.href);
    await page.getByLabel('Email or username').fill(email);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('link', { name: /^Passkey/ }).click();
    await page.getByRole('button', { name: 'Use passkey' }).click();
    const second = await client.authorizationCodeGrant(config, await landedAt(tp, app.url), {
      pkceCodeVerifier: again.pkceCodeVerifier,
      expectedState: again.state,
      expectedNonce: again.nonce,
    });
    expect(second.claims()!.sub).toBe(claims.sub);
    expect(second.claims()!.amr).toEqual(['hwk', 'user']);
  });

  it('optional authenticator: "Not now" goes straight back to the app as the new user', async () => {
    const { t, config } = await tenantWithApp('optional');
    const tp = await openPage(browser, app);
    keep(tp);
    const email = `new-${randomBytes(4).toString('hex')}@example.com`;
    const req = await authRequest(config, app.url, { scope: 'openid email' });
    await tp.page.goto(req.url.href);
    await createAccount(tp, email);
    await tp.page.getByRole('button', { name: 'Not now' }).click();
    const tokens = await client.authorizationCodeGrant(config, await landedAt(tp, app.url), {
      pkceCodeVerifier: req.pkceCodeVerifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    const user = await getUser(t, tokens.claims()!.sub);
    expect(user.authenticators.map((a) => a.type)).toEqual(['EMAIL_OTP']);
  });
});
