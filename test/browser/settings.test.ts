/**
 * The settings screen in real Chromium: `redirectToSettings: true` sends a TOTP user through the
 * challenge first; they add an email (code from the local outbox), remove the authenticator app,
 * and finish with CHALLENGE_SUCCEEDED. The management API then shows the email method only.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  latestCode,
  openPage,
  startCallbackServer,
  totpFor,
  type CallbackServer,
  type TestPage,
} from '../support/browser.js';
import { newUserId, type TestTenant } from '../support/flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  begin,
  browserTenant,
  enroll,
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
  await putAction(t, 'manage', { defaultOutcome: 'CHALLENGE' });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
});

describe('settings in Chromium', () => {
  it('after the TOTP challenge: add an email, remove the app, Done → CHALLENGE_SUCCEEDED', async () => {
    const userId = newUserId();
    const address = `settings.${userId.slice(0, 8)}@example.com`;
    const app = await enroll(t, userId, { type: 'AUTHENTICATOR_APP' });
    const tp: TestPage = await openPage(browser, callback);
    try {
      const { page } = tp;
      const heading = () => page.getByRole('heading', { level: 1 }).textContent();
      const rows = () => page.locator('table tr');

      await begin(tp, t, { userId, action: 'manage', redirectToSettings: true });
      await expect.poll(heading, eventually).toBe('Enter the code from your authenticator app');
      await page.getByLabel('Verification code').fill(totpFor(app.secret!).generate());
      await page.getByRole('button', { name: 'Verify', exact: true }).click();

      // The settings screen lists the authenticator app.
      await expect.poll(heading, eventually).toBe('Your sign-in methods');
      await expect.poll(() => rows().count(), eventually).toBe(1);
      expect(await rows().first().textContent()).toContain('Authenticator app');

      // Add a method → Email code → address → code from the outbox.
      await page.getByRole('link', { name: 'Add a method' }).click();
      await expect.poll(heading, eventually).toBe('Add a method');
      await page.getByRole('link', { name: /^Email code/ }).click();
      await expect.poll(heading, eventually).toBe('Get codes by email');
      await page.getByLabel('Email address').fill(address);
      await page.getByRole('button', { name: 'Email me a code' }).click();
      await expect
        .poll(() => page.getByRole('status').textContent(), eventually)
        .toContain('We sent a code to s•••@example.com');
      await page.getByLabel('Verification code').fill(await latestCode(address));
      await page.getByRole('button', { name: 'Verify', exact: true }).click();

      // Back on settings: both methods listed.
      await expect.poll(heading, eventually).toBe('Your sign-in methods');
      await expect.poll(() => rows().count(), eventually).toBe(2);
      expect(await page.locator('table').textContent()).toContain('s•••@example.com');

      // Remove the authenticator app (its button is labelled with the method's name).
      await page.getByRole('button', { name: /^Remove Authenticator app/ }).click();
      await expect.poll(() => rows().count(), eventually).toBe(1);
      expect(await heading()).toBe('Your sign-in methods');
      const remaining = (await rows().first().textContent()) ?? '';
      expect(remaining).toContain('Email code');
      expect(remaining).not.toContain('Authenticator app');

      await page.getByRole('button', { name: 'Done' }).click();
      const claims = await finishedClaims(tp, t);
      expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
      expect(claims.is_enrolled).toBe(true);
      expect(claims.sub).toBe(userId);

      const user = await getUser(t, userId);
      expect(user.isEnrolled).toBe(true);
      expect(user.authenticators.map((a) => a.type)).toEqual(['EMAIL_OTP']);
      expect(user.authenticators.map((a) => a.id)).not.toContain(app.authenticator.id);

      expect(tp.cspViolations).toEqual([]);
    } finally {
      await tp.context.close();
    }
  });

  it('the last method cannot be removed: the user is told to add another first', async () => {
    const userId = newUserId();
    const app = await enroll(t, userId, { type: 'AUTHENTICATOR_APP' });
    const tp: TestPage = await openPage(browser, callback);
    try {
      const { page } = tp;
      await begin(tp, t, { userId, action: 'manage', redirectToSettings: true });
      await page.getByLabel('Verification code').fill(totpFor(app.secret!).generate());
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe('Your sign-in methods');
      await page.getByRole('button', { name: /^Remove Authenticator app/ }).click();
      await expect
        .poll(() => page.getByRole('alert').textContent(), eventually)
        .toBe('Add another method before you remove your last one.');
      expect(await page.locator('table tr').count()).toBe(1);
      expect((await getUser(t, userId)).authenticators.map((a) => a.id)).toEqual([app.authenticator.id]);

      await page.getByRole('button', { name: 'Done' }).click();
      const claims = await finishedClaims(tp, t);
      expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
      expect(claims.is_enrolled).toBe(true);
      expect(tp.cspViolations).toEqual([]);
    } finally {
      await tp.context.close();
    }
  });
});
