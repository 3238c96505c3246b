/**
 * The Microsoft Entra ID external authentication method in real Chromium: Entra (played by a local
 * issuer) asks for `amr` `fido` only; a new Entra user enrolls a passkey with Chromium's virtual
 * authenticator (the tenant allows a first method), then signs in with it. Each time the page
 * form-posts an ID token to Entra's callback, caught here at the browser's network layer, and it is
 * verified as Entra verifies it.
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addVirtualAuthenticator,
  launchBrowser,
  openPage,
  startCallbackServer,
  type CallbackServer,
} from '../support/browser.js';
import { eventually } from '../support/browser-flow.js';
import {
  ENTRA_CALLBACK,
  FakeEntra,
  entraRequest,
  putIntegration,
  type EntraSetup,
} from '../support/entra.js';
import { body, type TestTenant } from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let entra: FakeEntra;
let t: TestTenant;
let browser: Browser;
let callback: CallbackServer;
const setup: EntraSetup = { tid: randomUUID(), applicationId: randomUUID(), clientId: 'entra-eam' };
const FIDO_ONLY = JSON.stringify({
  id_token: {
    acr: { essential: true, values: ['possessionorinherence'] },
    amr: { essential: true, values: ['fido'] },
  },
});

beforeAll(async () => {
  entra = await FakeEntra.start();
  process.env.ENTRA_AUTHORITY = entra.authority;
  [server, browser, callback] = await Promise.all([
    startTestServer(),
    launchBrowser(),
    startCallbackServer(),
  ]);
  t = await server.tenant();
  await putIntegration(t, setup, { allowEnrollment: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
  await entra?.stop();
});

async function verifiedByEntra(idToken: string, nonce: string) {
  const doc = await body<{ jwks_uri: string }>(await http(`${t.issuer}/.well-known/openid-configuration`));
  const jwks = await body<JSONWebKeySet>(await http(doc.jwks_uri));
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
    issuer: t.issuer,
    audience: setup.clientId,
    algorithms: ['RS256'],
  });
  expect(payload.nonce).toBe(nonce);
  return payload;
}

describe('Entra EAM in Chromium', () => {
  it('a passkey is enrolled, then used; each answer is an ID token form-posted to Entra', async () => {
    const tp = await openPage(browser, callback);
    try {
      const { page, context } = tp;
      const posted: URLSearchParams[] = [];
      // Entra's callback: the browser's form post is answered here, never sent to Microsoft.
      await context.route(`${ENTRA_CALLBACK}**`, async (route) => {
        posted.push(new URLSearchParams(route.request().postData() ?? ''));
        await route.fulfill({ status: 200, contentType: 'text/plain', body: 'entra' });
      });
      await addVirtualAuthenticator(page);
      const oid = randomUUID();
      const sub = `sub-${randomUUID()}`;

      const first = entraRequest(
        t,
        setup,
        await entra.hint({ tid: setup.tid, oid, sub, aud: setup.applicationId }),
        {
          claims: FIDO_ONLY,
        },
      );
      await page.goto(first.url);
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe('Set up a way to verify it’s you');
      // Only the methods Entra accepts are offered.
      expect(await page.locator('form[action$="/enroll-totp-start"]').count()).toBe(0);
      expect(await page.getByRole('link', { name: /^Passkey/ }).count()).toBe(1);
      await page.getByRole('link', { name: /^Passkey/ }).click();
      await page.getByRole('button', { name: 'Create passkey' }).click();
      await expect.poll(() => posted.length, eventually).toBe(1);
      expect(posted[0]!.get('state')).toBe(first.state);
      const enrolled = await verifiedByEntra(posted[0]!.get('id_token')!, first.nonce);
      expect(enrolled).toMatchObject({
        sub,
        oid,
        tid: setup.tid,
        amr: ['fido'],
        acr: 'possessionorinherence',
      });

      const second = entraRequest(
        t,
        setup,
        await entra.hint({ tid: setup.tid, oid, sub, aud: setup.applicationId }),
        {
          claims: FIDO_ONLY,
        },
      );
      await page.goto(second.url);
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe('Use your passkey');
      await page.getByRole('button', { name: 'Use passkey' }).click();
      await expect.poll(() => posted.length, eventually).toBe(2);
      expect(posted[1]!.get('state')).toBe(second.state);
      const signedIn = await verifiedByEntra(posted[1]!.get('id_token')!, second.nonce);
      expect(signedIn).toMatchObject({ sub, oid, tid: setup.tid, amr: ['fido'] });
      expect(tp.cspViolations).toEqual([]);
    } finally {
      await tp.context.close();
    }
  });
});
