/**
 * Passkeys in real Chromium with its virtual WebAuthn authenticator (CDP `WebAuthn` domain): a new
 * user facing CHALLENGE creates one as their first method, then signs in with it. The relying
 * party id is the tenant host (`t-….us.localhost`), which Chromium accepts on http because
 * `*.localhost` is a secure context.
 */
import type { Browser, CDPSession } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addVirtualAuthenticator,
  launchBrowser,
  openPage,
  startCallbackServer,
  type CallbackServer,
  type TestPage,
} from '../support/browser.js';
import { newUserId, type TestTenant } from '../support/flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  begin,
  browserTenant,
  finishedClaims,
  getUser,
  putAction,
  eventually,
} from '../support/browser-flow.js';

let server: TestServer;
let t: TestTenant;
let browser: Browser;
let callback: CallbackServer;

beforeAll(async () => {
  [server, browser, callback] = await Promise.all([
    startTestServer(),
    launchBrowser(),
    startCallbackServer(),
  ]);
  t = await browserTenant(server, callback);
  await putAction(t, 'challenge', { defaultOutcome: 'CHALLENGE' });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
});

interface Credential {
  credentialId: string;
  rpId?: string;
  isResidentCredential: boolean;
  signCount: number;
  userHandle?: string;
}

async function credentials(cdp: CDPSession, authenticatorId: string): Promise<Credential[]> {
  const { credentials } = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })) as {
    credentials: Credential[];
  };
  return credentials;
}

describe('passkeys in Chromium', () => {
  it('a new user enrolls a passkey (CHALLENGE_SUCCEEDED, is_enrolled) and then signs in with it', async () => {
    const tp: TestPage = await openPage(browser, callback);
    try {
      const { page } = tp;
      const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
      const userId = newUserId();
      const host = new URL(t.origin).hostname;

      // First flow: nothing enrolled, so the enrollment chooser; Passkey → Create passkey.
      await begin(tp, t, { userId, action: 'challenge', email: `${userId.slice(0, 8)}@example.com` });
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe('Set up a way to verify it’s you');
      await page.getByRole('link', { name: /^Passkey/ }).click();
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe('Create a passkey');
      await page.getByRole('button', { name: 'Create passkey' }).click();
      const enrolled = await finishedClaims(tp, t);
      expect(enrolled.action_state).toBe('CHALLENGE_SUCCEEDED');
      expect(enrolled.is_enrolled).toBe(true);
      expect(enrolled.sub).toBe(userId);

      // The authenticator holds one discoverable credential for the tenant host; the server one passkey.
      const created = await credentials(cdp, authenticatorId);
      expect(created).toHaveLength(1);
      expect(created[0]!.isResidentCredential).toBe(true);
      expect(created[0]!.rpId).toBe(host);
      const user = await getUser(t, userId);
      expect(user.isEnrolled).toBe(true);
      expect(user.authenticators.map((a) => a.type)).toEqual(['PASSKEY']);

      // Second flow: the same user (same browser, same authenticator) → Use passkey.
      await begin(tp, t, { userId, action: 'challenge' });
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe('Use your passkey');
      await page.getByRole('button', { name: 'Use passkey' }).click();
      const signedIn = await finishedClaims(tp, t);
      expect(signedIn.action_state).toBe('CHALLENGE_SUCCEEDED');
      expect(signedIn.is_enrolled).toBe(true);
      expect(signedIn.sub).toBe(userId);
      expect(signedIn.amr).toEqual(['hwk', 'user']);
      // The assertion was made with that credential (its counter moved on).
      const after = await credentials(cdp, authenticatorId);
      expect(after.map((c) => c.credentialId)).toEqual([created[0]!.credentialId]);
      expect(after[0]!.signCount).toBeGreaterThan(created[0]!.signCount);

      expect(tp.cspViolations).toEqual([]);
    } finally {
      await tp.context.close();
    }
  });
});
