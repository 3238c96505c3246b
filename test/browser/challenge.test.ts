/**
 * The hosted challenge pages in real Chromium: TOTP (success, and failure after maxAttempts), the
 * emailed code read from the local outbox, keyboard use, a phone-sized viewport, and no Content
 * Security Policy violation on any page visited.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCallbackServer,
  type CallbackServer,
  launchBrowser,
  latestCode,
  openPage,
  outbox,
  PHONE,
  totpFor,
  type TestPage,
  closedAfterEachWithoutCspViolations,
} from '../support/browser.js';
import { newUserId, type TestTenant } from '../support/flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  begin,
  browserTenant,
  enroll,
  finishedClaims,
  horizontalOverflow,
  putAction,
  wrongCode,
  eventually,
} from '../support/browser-flow.js';

let server: TestServer;
let t: TestTenant;
let browser: Browser;
let callback: CallbackServer;
/** Closed after each test, which fails on any Content Security Policy violation they reported. */
const keep = closedAfterEachWithoutCspViolations();

beforeAll(async () => {
  [server, browser, callback] = await Promise.all([
    startTestServer(),
    launchBrowser(),
    startCallbackServer(),
  ]);
  t = await browserTenant(server, callback);
  await putAction(t, 'challenge', { defaultOutcome: 'CHALLENGE' });
  await putAction(t, 'strict', { defaultOutcome: 'CHALLENGE', maxAttempts: 2 });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
});

async function newPage(opts: Parameters<typeof openPage>[2] = {}): Promise<TestPage> {
  const tp = await openPage(browser, callback, opts);
  keep(tp);
  return tp;
}

async function totpUser(): Promise<{ userId: string; code: () => string; valid: () => string[] }> {
  const userId = newUserId();
  const { secret } = await enroll(t, userId, { type: 'AUTHENTICATOR_APP' });
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  const totp = totpFor(secret!);
  return {
    userId,
    code: () => totp.generate(),
    valid: () => [-30_000, 0, 30_000].map((d) => totp.generate({ timestamp: Date.now() + d })),
  };
}

describe('hosted challenge in Chromium', () => {
  it('TOTP: the right code typed into "Verification code" ends CHALLENGE_SUCCEEDED', async () => {
    const user = await totpUser();
    const tp = await newPage();
    await begin(tp, t, { userId: user.userId, action: 'challenge' });
    await expect
      .poll(() => tp.page.getByRole('heading', { level: 1 }).textContent(), eventually)
      .toBe('Enter the code from your authenticator app');
    const input = tp.page.getByLabel('Verification code');
    expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await input.getAttribute('inputmode')).toBe('numeric');
    await input.fill(user.code());
    await tp.page.getByRole('button', { name: 'Verify', exact: true }).click();
    const claims = await finishedClaims(tp, t);
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.is_enrolled).toBe(true);
    expect(claims.sub).toBe(user.userId);
    expect(claims.amr).toEqual(['otp']);
  });

  it('TOTP: wrong codes up to maxAttempts (2) end CHALLENGE_FAILED', async () => {
    const user = await totpUser();
    const tp = await newPage();
    await begin(tp, t, { userId: user.userId, action: 'strict' });
    const input = tp.page.getByLabel('Verification code');
    await input.fill(wrongCode(user.valid(), 1));
    await tp.page.getByRole('button', { name: 'Verify', exact: true }).click();
    // The page comes back with the error announced, the field marked invalid and the count shown.
    const alert = tp.page.getByRole('alert');
    await expect.poll(() => alert.textContent(), eventually).toContain('That code is not right.');
    expect(await alert.textContent()).toContain('Attempts left: 1');
    expect(await tp.page.getByLabel('Verification code').getAttribute('aria-invalid')).toBe('true');
    expect(await tp.page.getByLabel('Verification code').getAttribute('aria-describedby')).toContain(
      'form-error',
    );
    await tp.page.getByLabel('Verification code').fill(wrongCode(user.valid(), 2));
    await tp.page.getByRole('button', { name: 'Verify', exact: true }).click();
    const claims = await finishedClaims(tp, t);
    expect(claims.action_state).toBe('CHALLENGE_FAILED');
    expect(claims.sub).toBe(user.userId);
  });

  it('email: "Email me a code", the code from the local outbox ends CHALLENGE_SUCCEEDED', async () => {
    const userId = newUserId();
    const address = `${userId.slice(0, 8)}@example.com`;
    await enroll(t, userId, { type: 'EMAIL_OTP', email: address });
    const before = (await outbox()).messages.length;
    const tp = await newPage();
    await begin(tp, t, { userId, action: 'challenge' });
    await expect
      .poll(() => tp.page.getByRole('heading', { level: 1 }).textContent(), eventually)
      .toBe('Get a code by email');
    await tp.page.getByRole('button', { name: 'Email me a code' }).click();
    await expect
      .poll(() => tp.page.getByRole('status').textContent(), eventually)
      .toContain(`We sent a code to ${address.slice(0, 1)}•••@example.com`);
    const mails = (await outbox()).messages.slice(before);
    expect(mails.map((m) => m.to)).toEqual([address]);
    const input = tp.page.getByLabel('Verification code');
    expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
    await input.fill(await latestCode(address));
    await tp.page.getByRole('button', { name: 'Verify', exact: true }).click();
    const claims = await finishedClaims(tp, t);
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.is_enrolled).toBe(true);
    expect(claims.sub).toBe(userId);
  });

  it('keyboard: the code input has focus on load, Enter submits, the skip link is the first tab stop', async () => {
    const user = await totpUser();
    const tp = await newPage();
    const { page } = tp;
    await begin(tp, t, { userId: user.userId, action: 'challenge' });
    await page.getByLabel('Verification code').waitFor();
    const focused = () => page.evaluate('document.activeElement && document.activeElement.id');
    const focusedClass = () => page.evaluate('document.activeElement && document.activeElement.className');
    expect(await focused()).toBe('code');
    // The page's own style sheet applies in full (it was once HTML-escaped, which dropped the
    // quoted font list), and the focused input shows a dark 3px ring.
    const style = (await page.evaluate(
      `(() => { const b = getComputedStyle(document.body), i = getComputedStyle(document.activeElement);
        return { font: b.fontFamily, outline: i.outlineStyle + ' ' + i.outlineWidth + ' ' + i.outlineColor }; })()`,
    )) as { font: string; outline: string };
    expect(style.font).toContain('"Segoe UI"');
    expect(style.font).toMatch(/sans-serif$/);
    expect(style.outline).toBe('solid 3px rgb(26, 26, 26)');

    // Backwards from the input: the skip link, and before it nothing in the page.
    await page.keyboard.press('Shift+Tab');
    expect(await focusedClass()).toBe('skip');
    const box = await page.locator('a.skip').boundingBox();
    expect(box, 'the focused skip link is on screen').not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.y).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement === document.body || !document.hasFocus()')).toBe(
      true,
    );
    // From the start of the page, the first Tab reaches the skip link; the next one the input.
    await page.keyboard.press('Tab');
    expect(await focusedClass()).toBe('skip');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('code');

    await page.keyboard.type(user.code());
    await page.keyboard.press('Enter');
    const claims = await finishedClaims(tp, t);
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
  });

  it('phone viewport (390×844): no horizontal scroll on the challenge and enrollment pages', async () => {
    const both = await totpUser();
    await enroll(t, both.userId, { type: 'EMAIL_OTP', email: 'phone.user.with.a.long.address@example.com' });
    const tp = await newPage({ viewport: PHONE });
    const seen: string[] = [];
    const check = async (heading: string) => {
      await expect
        .poll(() => tp.page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe(heading);
      const { scrollWidth, innerWidth } = await horizontalOverflow(tp);
      expect(innerWidth).toBe(PHONE.width);
      expect(scrollWidth, `horizontal scroll on "${heading}"`).toBeLessThanOrEqual(innerWidth);
      seen.push(heading);
    };
    await begin(tp, t, { userId: both.userId, action: 'challenge' });
    await check("Verify it's you");
    await tp.page.getByRole('link', { name: /Authenticator app/ }).click();
    await check('Enter the code from your authenticator app');
    await tp.page.getByRole('link', { name: 'Use another method' }).click();
    await tp.page.getByRole('link', { name: /Email code/ }).click();
    await check('Get a code by email');
    await tp.page.getByRole('button', { name: 'Email me a code' }).click();
    await expect.poll(() => tp.page.getByRole('status').count(), eventually).toBe(1);
    await check('Check your email');

    // A user with nothing enrolled: the enrollment screens, the QR code among them.
    const tp2 = await newPage({ viewport: PHONE });
    await begin(tp2, t, { userId: newUserId(), action: 'challenge' });
    const check2 = async (heading: string) => {
      await expect
        .poll(() => tp2.page.getByRole('heading', { level: 1 }).textContent(), eventually)
        .toBe(heading);
      const { scrollWidth, innerWidth } = await horizontalOverflow(tp2);
      expect(scrollWidth, `horizontal scroll on "${heading}"`).toBeLessThanOrEqual(innerWidth);
      seen.push(heading);
    };
    await check2('Set up a way to verify it’s you');
    await tp2.page.getByRole('button', { name: /Authenticator app/ }).click();
    await check2('Set up an authenticator app');
    expect(await tp2.page.getByRole('img', { name: 'QR code for your authenticator app' }).isVisible()).toBe(
      true,
    );
    await tp2.page.getByRole('link', { name: 'Back' }).click();
    await tp2.page.getByRole('link', { name: /Email code/ }).click();
    await check2('Get codes by email');
    await tp2.page.getByRole('link', { name: 'Back' }).click();
    await tp2.page.getByRole('link', { name: /Passkey/ }).click();
    await check2('Create a passkey');
    expect(seen).toHaveLength(8);
  });

  it('the CSP check itself works: an injected inline script is reported', async () => {
    const user = await totpUser();
    const tp = await openPage(browser, callback); // not kept: this one is meant to violate the policy
    try {
      await begin(tp, t, { userId: user.userId, action: 'challenge' });
      await tp.page.getByLabel('Verification code').waitFor();
      await tp.page.addScriptTag({ content: 'window.__injected = true;' }).catch(() => undefined);
      await expect.poll(() => tp.cspViolations.length, eventually).toBeGreaterThan(0);
      expect(await tp.page.evaluate('window.__injected === true')).toBe(false);
    } finally {
      await tp.context.close();
    }
  });
});
