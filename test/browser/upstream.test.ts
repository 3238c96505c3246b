/**
 * Sign-in through an upstream OpenID Connect provider in Chromium: the hosted login shows
 * "Continue with <name>", the browser goes to a real in-process OP (test/support/upstream-op.ts)
 * and back to /oidc/callback/{id} with its own cookies, the consent page of a third-party app
 * follows, and the app's ID token says how the user signed in (amr `fed`, `idp`).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, type TestPage } from '../support/browser.js';
import { body, docAuth, JSON_TYPE, type TestTenant } from '../support/flow.js';
import {
  authRequest,
  landedAt,
  registerApp,
  startAppServer,
  type AppServer,
} from '../support/oidc-browser.js';
import { client, rp } from '../support/relying-party.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import { startUpstreamOp, type UpstreamOp } from '../support/upstream-op.js';

let server: TestServer;
let browser: Browser;
let app: AppServer;
let op: UpstreamOp;
let t: TestTenant;
let config: client.Configuration;
let tp: TestPage | undefined;

beforeAll(async () => {
  [server, browser, app, op] = await Promise.all([
    startTestServer(),
    launchBrowser(),
    startAppServer(),
    startUpstreamOp(),
  ]);
  t = await server.tenant();
  const registered = await registerApp(t, {
    client_name: 'Photo Printer',
    redirect_uris: [app.url],
    scope: 'openid profile email',
    token_endpoint_auth_method: 'client_secret_basic',
  });
  config = await rp(t, registered.client_id, client.ClientSecretBasic(registered.client_secret));
  const res = await http(`${t.origin}/v1/identity-providers/corp`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({
      type: 'oidc',
      name: 'Contoso',
      issuer: op.issuer,
      client_id: 'rp',
      client_secret: 's3cret-value',
    }),
  });
  const provider = await body<{ redirect_uri: string }>(res);
  op.addClient({ client_id: 'rp', client_secret: 's3cret-value', redirect_uris: [provider.redirect_uri] });
}, 60_000);

afterAll(async () => {
  if (tp) await tp.context.close();
  await browser?.close();
  await op?.close();
  await server?.stop();
  await app?.close();
});

describe('upstream sign-in in Chromium', () => {
  it('Continue with Contoso → the upstream → consent → the app, with amr fed and idp', async () => {
    op.next = {
      sub: 'chromium-user',
      email: 'grace@contoso.example',
      email_verified: true,
      name: 'Grace Hopper',
    };
    tp = await openPage(browser, app);
    const req = await authRequest(config, app.url, { scope: 'openid profile email' });
    await tp.page.goto(req.url.href);
    await tp.page.getByRole('button', { name: 'Continue with Contoso' }).click();
    await tp.page.getByRole('heading', { name: /wants to access your account/ }).waitFor();
    // The consent page names the user the upstream vouched for.
    expect(await tp.page.textContent('main')).toContain('grace@contoso.example');
    await tp.page.getByRole('button', { name: 'Allow', exact: true }).click();
    const callback = await landedAt(tp, app.url);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: req.pkceCodeVerifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    const claims = tokens.claims()!;
    expect(claims.amr).toEqual(['fed']);
    expect(claims.idp).toBe('corp');
    expect(op.seen).toEqual(expect.arrayContaining(['/auth', '/token', '/jwks']));
    expect(tp.cspViolations).toEqual([]);

    // Signed in now: the next request answers from the SSO session, without the upstream.
    const before = op.seen.filter((p) => p === '/auth').length;
    const again = await authRequest(config, app.url, { scope: 'openid profile email' });
    await tp.page.goto(again.url.href);
    const ssoCallback = await landedAt(tp, app.url);
    expect(op.seen.filter((p) => p === '/auth').length).toBe(before);
    // The session remembers the provider: the SSO answer's ID token names it too.
    const sso = await client.authorizationCodeGrant(config, ssoCallback, {
      pkceCodeVerifier: again.pkceCodeVerifier,
      expectedState: again.state,
      expectedNonce: again.nonce,
    });
    expect(sso.claims()).toMatchObject({ amr: ['fed'], idp: 'corp' });
  });
});
