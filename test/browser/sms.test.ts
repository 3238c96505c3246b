/**
 * SMS codes on the hosted pages in real Chromium: enrolling a mobile number with a texted code,
 * and answering an SMS challenge, the codes read from the local outbox; on a phone-sized viewport
 * too, and with no Content Security Policy violation on any page visited.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  openPage,
  PHONE,
  startCallbackServer,
  type CallbackServer,
  type TestPage,
  closedAfterEachWithoutCspViolations,
} from '../support/browser.js';
import {
  begin,
  browserTenant,
  eventually,
  finishedClaims,
  horizontalOverflow,
  putAction,
} from '../support/browser-flow.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { newUserId, type TestTenant } from '../support/flow.js';
import { allowSmsCountries, enrollSmsNumber, nzMobile, textedCode, textsTo } from '../support/sms.js';

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
  await allowSmsCountries(t, ['NZ']);
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

const heading = (tp: TestPage) => tp.page.getByRole('heading', { level: 1 }).textContent();

describe('SMS codes in Chromium', () => {
  it('enrolls a mobile number with a texted code, on a phone-sized screen', async () => {
    const userId = newUserId();
    const number = nzMobile();
    const tp = await newPage({ viewport: PHONE });
    await begin(tp, t, { userId, action: 'challenge' });
    await expect.poll(() => heading(tp), eventually).toBe('Set up a way to verify it’s you');
    await tp.page.getByRole('link', { name: /Text message code/ }).click();
    await expect.poll(() => heading(tp), eventually).toBe('Get codes by text message');
    const phone = tp.page.getByLabel(/Mobile number/);
    expect(await phone.getAttribute('type')).toBe('tel');
    expect(await phone.getAttribute('autocomplete')).toBe('tel');
    await phone.fill('+64 9 123 4567');
    await tp.page.getByRole('button', { name: 'Text me a code' }).click();
    await expect
      .poll(() => tp.page.getByRole('alert').textContent(), eventually)
      .toContain('Codes cannot be texted to this number');
    await tp.page.getByLabel(/Mobile number/).fill(number.replace(/^\+64(\d\d)(\d{3})/, '+64 $1 $2 '));
    await tp.page.getByRole('button', { name: 'Text me a code' }).click();
    await expect
      .poll(() => tp.page.getByRole('status').textContent(), eventually)
      .toContain(`We texted a code to +64 •• ••• ${number.slice(-4)}`);
    const { scrollWidth, innerWidth } = await horizontalOverflow(tp);
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    const input = tp.page.getByLabel('Verification code');
    expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
    await input.fill(await textedCode(number));
    await tp.page.getByRole('button', { name: 'Verify', exact: true }).click();
    const claims = await finishedClaims(tp, t);
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.is_enrolled).toBe(true);
    expect(claims.sub).toBe(userId);
  });

  it('answers an SMS challenge: "Text me a code", the code from the outbox, amr sms', async () => {
    const userId = newUserId();
    const number = nzMobile();
    await enrollSmsNumber(t, userId, number);
    const tp = await newPage();
    await begin(tp, t, { userId, action: 'challenge' });
    await expect.poll(() => heading(tp), eventually).toBe('Get a code by text message');
    await tp.page.getByRole('button', { name: 'Text me a code' }).click();
    await expect.poll(() => heading(tp), eventually).toBe('Check your phone');
    expect(await textsTo(number)).toHaveLength(1);
    await tp.page.getByLabel('Verification code').fill(await textedCode(number));
    await tp.page.getByRole('button', { name: 'Verify', exact: true }).click();
    const claims = await finishedClaims(tp, t);
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.amr).toEqual(['sms']);
    expect(claims.sub).toBe(userId);
  });
});
