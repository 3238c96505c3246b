/**
 * The hosted challenge over plain HTTP (the browser tests drive the same pages in Chromium):
 * browser binding, CSRF, security headers, and every way a challenge ends, each with a code.
 */
import * as OTPAuth from 'otpauth';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { brandPalette, DEFAULT_BRAND_COLOR } from '../../functions/hosted/views/brand.js';
import { servicesFor } from '../../functions/services.js';
import {
  APP_REDIRECT,
  authorize,
  body,
  decodeEntities,
  federatedTenant,
  initAuth,
  newUserId,
  type TestTenant,
} from '../support/flow.js';
import {
  claimsOf as claimsAt,
  startChallenge as startChallengeAt,
  type HostedPage,
} from '../support/challenge-page.js';
import { csrfOf } from '../support/hosted-login.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  for (const [action, body] of Object.entries({
    challenge: { defaultOutcome: 'CHALLENGE' },
    strict: { defaultOutcome: 'CHALLENGE', maxAttempts: 2 },
    noEnroll: { defaultOutcome: 'CHALLENGE', allowEnrollment: false },
  })) {
    const res = await http(`${t.origin}/v1/actions/${action}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${t.secret}:`).toString('base64')}`,
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await server.stop();
});

async function authenticators() {
  const services = await servicesFor('us');
  const store = services.tenants.scoped(t.id);
  return createAuthenticatorService(store, {
    mailer: services.mailer,
    secretBox: services.secretBox,
    rpId: new URL(t.origin).hostname,
    rpName: t.slug,
    origin: t.origin,
  });
}

/** A user with a TOTP authenticator; returns a generator of its current code. */
async function totpUser(): Promise<{ userId: string; code: () => string }> {
  const userId = newUserId();
  const { secret } = await (await authenticators()).createTotp(userId, `${userId}@example.com`);
  const totp = new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    digits: 6,
    period: 30,
    algorithm: 'SHA1',
  });
  return { userId, code: () => totp.generate() };
}

type Browser = HostedPage;

const startChallenge = (userId: string, action = 'challenge', extra: Record<string, unknown> = {}) =>
  startChallengeAt(t, userId, action, extra);

function post(b: Browser, step: string, form: Record<string, string>, cookie = b.cookie): Promise<Response> {
  return http(`${b.url}/${step}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}

const claimsOf = (res: Response) => claimsAt(t, res);

describe('hosted challenge pages', () => {
  it('a correct TOTP code ends CHALLENGE_SUCCEEDED with is_enrolled true and amr otp', async () => {
    const user = await totpUser();
    const b = await startChallenge(user.userId);
    expect(b.html).toContain('autocomplete="one-time-code"');
    expect(b.html).toContain('inputmode="numeric"');
    const res = await post(b, 'totp', { csrf: b.csrf, code: user.code() });
    const claims = await claimsOf(res);
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.is_enrolled).toBe(true);
    expect(claims.amr).toEqual(['otp']);
    expect(claims.sub).toBe(user.userId);
  });

  it('wrong codes up to maxAttempts end CHALLENGE_FAILED, still with a code', async () => {
    const user = await totpUser();
    const b = await startChallenge(user.userId, 'strict');
    const first = await post(b, 'totp', { csrf: b.csrf, code: '000000' });
    expect(first.status).toBe(400);
    expect(await first.text()).toContain('Attempts left: 1');
    const second = await post(b, 'totp', { csrf: b.csrf, code: '000001' });
    const claims = await claimsOf(second);
    expect(claims.action_state).toBe('CHALLENGE_FAILED');
  });

  it('giving up ends CHALLENGE_FAILED and the outcome record says so', async () => {
    const user = await totpUser();
    const init = await initAuth(t, { userId: user.userId, action: 'challenge' });
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 'st',
    });
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const url = `${t.origin}${res.headers.get('location')}`;
    const html = await (await http(url, { headers: { cookie } })).text();
    const cancel = await http(`${url}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ csrf: csrfOf(html) }).toString(),
    });
    expect((await claimsOf(cancel)).action_state).toBe('CHALLENGE_FAILED');
    const record = await http(
      `${t.origin}/v1/users/${user.userId}/actions/challenge/${init.idempotencyKey}`,
      {
        headers: { authorization: `Basic ${Buffer.from(`${t.secret}:`).toString('base64')}` },
      },
    );
    expect((await body<{ state: string }>(record)).state).toBe('CHALLENGE_FAILED');
  });

  it('a user with nothing enrolled is offered enrollment and may skip it: ALLOW, is_enrolled false', async () => {
    const b = await startChallenge(newUserId());
    expect(b.html).toContain('/enroll-totp-start"');
    const res = await post(b, 'skip', { csrf: b.csrf });
    const claims = await claimsOf(res);
    expect(claims.action_state).toBe('ALLOW');
    expect(claims.is_enrolled).toBe(false);
  });

  it('enrolling an authenticator app as a first method ends CHALLENGE_SUCCEEDED with is_enrolled true', async () => {
    const userId = newUserId();
    const b = await startChallenge(userId);
    // The secret is made by a POST (no GET changes state).
    const enroll = await post(b, 'enroll-totp-start', { csrf: b.csrf });
    expect(enroll.status).toBe(200);
    const html = await enroll.text();
    expect(html).toContain('data:image/svg+xml;base64,');
    const secret = decodeEntities(/<code class="secret"[^>]*>([^<]+)<\/code/.exec(html)![1]!).replace(
      /\s+/g,
      '',
    );
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
    const res = await post(b, 'enroll-totp', { csrf: b.csrf, code: totp.generate() });
    const claims = await claimsOf(res);
    expect(claims.action_state).toBe('CHALLENGE_SUCCEEDED');
    expect(claims.is_enrolled).toBe(true);
    const user = await http(`${t.origin}/v1/users/${userId}`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.secret}:`).toString('base64')}` },
    });
    expect((await body<{ isEnrolled: boolean }>(user)).isEnrolled).toBe(true);
  });

  it('an action that forbids enrollment lets a user with nothing enrolled through with is_enrolled false', async () => {
    const init = await initAuth(t, { userId: newUserId(), action: 'noEnroll' });
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 'st',
    });
    const claims = await claimsOf(res);
    expect(claims.action_state).toBe('ALLOW');
    expect(claims.is_enrolled).toBe(false);
  });

  it('refuses a post without the CSRF token, and a browser without the binding cookie', async () => {
    const user = await totpUser();
    const b = await startChallenge(user.userId);
    const noCsrf = await post(b, 'totp', { code: user.code() });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.headers.get('location')).toBeNull();
    const otherBrowser = await post(b, 'totp', { csrf: b.csrf, code: user.code() }, '');
    expect(otherBrowser.status).toBe(400);
    expect(otherBrowser.headers.get('location')).toBeNull();
    const otherPage = await http(b.url);
    expect(await otherPage.text()).toContain('This sign-in has ended');
    // The real browser still finishes.
    expect((await claimsOf(await post(b, 'totp', { csrf: b.csrf, code: user.code() }))).action_state).toBe(
      'CHALLENGE_SUCCEEDED',
    );
  });

  it('pages carry a nonce-based CSP, frame-ancestors none, no-store and the tenant name', async () => {
    const user = await totpUser();
    const b = await startChallenge(user.userId);
    const res = await http(b.url, { headers: { cookie: b.cookie } });
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain(`<header>${t.slug}</header>`);
    expect(html).toContain('<html lang="en">');
  });

  it('a finished interaction cannot be finished again', async () => {
    const user = await totpUser();
    const b = await startChallenge(user.userId);
    const first = await post(b, 'cancel', { csrf: b.csrf });
    expect(first.status).toBe(302);
    const again = await post(b, 'cancel', { csrf: b.csrf });
    expect(again.status).toBe(400);
    expect(again.headers.get('location')).toBeNull();
  });

  it("the expired page carries the tenant's name and colour", async () => {
    const branded = await server.tenant();
    const color = '#0f766e';
    await (await servicesFor('us')).tenants.updateSettings(branded.id, { brandColor: color });
    const user = await totpUser();
    const b = await startChallenge(user.userId);
    // Another tenant's interaction id, and no binding cookie: the expired page, in this tenant's look.
    const res = await http(`${branded.origin}${new URL(b.url).pathname}`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('This sign-in has ended');
    expect(html).toContain(`<header>${branded.slug}</header>`);
    expect(html).toContain(`--brand:${brandPalette(color).brand}`);
    expect(brandPalette(color).brand).not.toBe(DEFAULT_BRAND_COLOR);
  });

  it("the /oidc/auth error page carries the tenant's name, a nonce CSP and no redirect", async () => {
    const res = await authorize(t, {
      client_id: t.id,
      redirect_uri: 'https://unregistered.example.com/cb',
      response_type: 'code',
      scope: 'openid',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain(`<header>${t.slug}</header>`);
    expect(html).toContain('invalid_redirect_uri');
  });

  it('ui_locales=es renders the pages in Spanish', async () => {
    const user = await totpUser();
    const init = await initAuth(t, { userId: user.userId, action: 'challenge' });
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      ui_locales: 'es-ES en',
    });
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const html = await (
      await http(`${t.origin}${res.headers.get('location')}`, { headers: { cookie } })
    ).text();
    expect(html).toContain('<html lang="es">');
    expect(html).toContain('Código de verificación');
  });
});
