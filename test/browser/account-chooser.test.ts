/**
 * The account chooser in Chromium: two people sign in on one browser (openid-client builds the
 * requests, a first-party app so no consent page), prompt=select_account lists both accounts and
 * "Use another account", and choosing the second one brings the app that person's ID token.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type TestPage } from '../support/browser.js';
import type { TestTenant } from '../support/flow.js';
import {
  authRequest,
  createTotpUser,
  landedAt,
  registerApp,
  signInOnPage,
  startAppServer,
  type AppServer,
  type AuthRequest,
  type TotpUser,
} from '../support/oidc-browser.js';
import { client, rp } from '../support/relying-party.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let browser: Browser;
let app: AppServer;
let t: TestTenant;
let config: client.Configuration;
let tp: TestPage | undefined;

beforeAll(async () => {
  [server, browser, app] = await Promise.all([startTestServer(), launchBrowser(), startAppServer()]);
  t = await server.tenant();
  const registered = await registerApp(t, {
    client_name: 'Own App',
    redirect_uris: [app.url],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile email offline_access',
    token_endpoint_auth_method: 'client_secret_basic',
    first_party: true,
  });
  config = await rp(t, registered.client_id, client.ClientSecretBasic(registered.client_secret));
});

afterAll(async () => {
  if (tp) await tp.context.close();
  await browser?.close();
  await server?.stop();
  await app?.close();
});

function redeem(callback: URL, req: AuthRequest) {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: req.pkceCodeVerifier,
    expectedState: req.state,
    expectedNonce: req.nonce,
  });
}

async function signIn(page: TestPage, user: TotpUser, extra: Record<string, string>): Promise<string> {
  const req = await authRequest(config, app.url, extra);
  await page.page.goto(req.url.href);
  await signInOnPage(page, user);
  return (await redeem(await landedAt(page, app.url), req)).claims()!.sub;
}

describe('the account chooser in Chromium', () => {
  it('lists both accounts of the browser and continues as the one chosen', async () => {
    const [ada, grace] = await Promise.all([createTotpUser(t), createTotpUser(t, 'Grace Hopper')]);
    tp = await openPage(browser, app);
    expect(await signIn(tp, ada, {})).toBe(ada.userId);
    expect(await signIn(tp, grace, { prompt: 'login' })).toBe(grace.userId);

    const req = await authRequest(config, app.url, { prompt: 'select_account' });
    await tp.page.goto(req.url.href);
    await tp.page.getByRole('heading', { name: 'Choose an account' }).waitFor();
    const buttons = await tp.page.getByRole('button').allTextContents();
    expect(buttons).toEqual([
      `Continue as ${grace.email}`,
      `Continue as ${ada.email}`,
      'Use another account',
    ]);
    await tp.page.getByRole('button', { name: `Continue as ${ada.email}` }).click();
    const tokens = await redeem(await landedAt(tp, app.url), req);
    expect(tokens.claims()!.sub).toBe(ada.userId);
    expect(tp.cspViolations).toEqual([]);
  });
});
