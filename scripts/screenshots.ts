/**
 * Screenshots of every hosted page, at desktop (1280×800) and phone (390×844) widths, into
 * docs/screenshots/. Starts the local product in-process on an in-memory DynamoDB Local, drives
 * the real flows in the system's Chromium (playwright-core; no browser is downloaded) and saves
 * one PNG per screen and width.
 *
 *   npx tsx scripts/screenshots.ts            (CHROMIUM_PATH to use another Chromium)
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { Agent, fetch, type RequestInit } from 'undici';
import { ENV } from '../functions/env-names.js';
import { servicesFor } from '../functions/services.js';
import { startLocal } from '../local/start.js';
import {
  addVirtualAuthenticator,
  DESKTOP,
  latestCode,
  launchBrowser,
  PHONE,
  startCallbackServer,
  totpFor,
  type CallbackServer,
} from '../test/support/browser.js';

const OUT = resolve(import.meta.dirname, '..', 'docs', 'screenshots');

/** Node does not resolve `*.localhost` here: every host name goes to 127.0.0.1, as in the browser. */
const loopback = new Agent({
  connect: {
    lookup: (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all)
        (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: '127.0.0.1', family: 4 },
        ]);
      else (cb as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4);
    },
  },
});

interface Tenant {
  id: string;
  secret: string;
  origin: string;
}

async function api(t: Tenant, method: string, path: string, payload?: unknown): Promise<unknown> {
  const init: RequestInit = {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${t.secret}:`).toString('base64')}`,
      ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
    redirect: 'manual',
    dispatcher: loopback,
  };
  const res = await fetch(`${t.origin}${path}`, init);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

const shots: string[] = [];

/** One screen at both widths (full page), then back to the desktop size. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const [suffix, size] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(size);
    const file = `${name}-${suffix}.png`;
    await page.screenshot({ path: join(OUT, file), fullPage: true, animations: 'disabled', caret: 'hide' });
    shots.push(file);
  }
  await page.setViewportSize(DESKTOP);
}

async function heading(page: Page, text: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: text }).waitFor();
}

/** `/init-auth` then `/oidc/auth` in the browser; returns the interaction URL the browser landed on. */
async function begin(
  page: Page,
  t: Tenant,
  callback: CallbackServer,
  input: Record<string, unknown>,
  extra: Record<string, string> = {},
): Promise<string> {
  const { token } = (await api(t, 'POST', '/init-auth', input)) as { token: string };
  const params = new URLSearchParams({
    client_id: t.id,
    token,
    redirect_uri: callback.url,
    response_type: 'code',
    scope: 'openid',
    state: 'screenshots',
    ...extra,
  });
  await page.goto(`${t.origin}/oidc/auth?${params}`);
  return page.url();
}

async function ended(page: Page, callback: CallbackServer): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(`${callback.url}?`));
  const code = new URL(page.url()).searchParams.get('code');
  if (!code) throw new Error(`the flow ended without a code: ${page.url()}`);
}

/** What every scene drives: one browser page, the tenant, its callback, and the one user. */
interface Scene {
  page: Page;
  t: Tenant;
  callback: CallbackServer;
  userId: string;
  email: string;
}

/** 1. A new user: the enrollment screens, ending with a passkey. */
async function enrollment(s: Scene): Promise<void> {
  const { page, t, callback, userId, email } = s;
  await begin(page, t, callback, { userId, action: 'signIn', email });
  await heading(page, 'Set up a way to verify it’s you');
  await shoot(page, 'enroll-choose');
  await page.getByRole('button', { name: /^Authenticator app/ }).click();
  await heading(page, 'Set up an authenticator app');
  await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  await shoot(page, 'enroll-totp');
  await page.getByRole('link', { name: 'Back' }).click();
  await page.getByRole('link', { name: /^Email code/ }).click();
  await heading(page, 'Get codes by email');
  await shoot(page, 'enroll-email');
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByLabel('Verification code').waitFor();
  await shoot(page, 'enroll-email-code');
  await page.getByRole('link', { name: 'Back' }).click();
  await page.getByRole('link', { name: /^Passkey/ }).click();
  await heading(page, 'Create a passkey');
  await shoot(page, 'enroll-passkey');
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await ended(page, callback);
}

/** The same user now also has an authenticator app and an email address. */
async function addMethods(s: Scene): Promise<TOTP> {
  const { t, userId, email } = s;
  const app = (await api(t, 'POST', `/v1/users/${userId}/authenticators`, {
    type: 'AUTHENTICATOR_APP',
  })) as { secret: string };
  await api(t, 'POST', `/v1/users/${userId}/authenticators`, { type: 'EMAIL_OTP', email });
  return totpFor(app.secret);
}

/** 2. The challenge: the chooser, each method, a wrong code, then the passkey. */
async function challenge(s: Scene, totp: TOTP): Promise<string> {
  const { page, t, callback, userId } = s;
  const challengeUrl = await begin(page, t, callback, { userId, action: 'signIn' });
  await heading(page, "Verify it's you");
  await shoot(page, 'challenge-choose');
  await page.getByRole('link', { name: /^Authenticator app/ }).click();
  await heading(page, 'Enter the code from your authenticator app');
  await shoot(page, 'challenge-totp');
  const valid = [-30_000, 0, 30_000].map((d) => totp.generate({ timestamp: Date.now() + d }));
  await page.getByLabel('Verification code').fill(valid.includes('123456') ? '654321' : '123456');
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await shoot(page, 'error-wrong-code');
  await page.getByRole('link', { name: 'Use another method' }).click();
  await page.getByRole('link', { name: /^Email code/ }).click();
  await heading(page, 'Get a code by email');
  await shoot(page, 'challenge-email');
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByLabel('Verification code').waitFor();
  await shoot(page, 'challenge-email-sent');
  await page.getByRole('link', { name: 'Use another method' }).click();
  await page.getByRole('link', { name: /^Passkey/ }).click();
  await heading(page, 'Use your passkey');
  await shoot(page, 'challenge-passkey');
  await page.getByRole('button', { name: 'Use passkey' }).click();
  await ended(page, callback);
  return challengeUrl;
}

/** 3. The same interaction once it has ended. */
async function expired(s: Scene, challengeUrl: string): Promise<void> {
  const { page } = s;
  await page.goto(challengeUrl);
  await heading(page, 'This sign-in has ended');
  await shoot(page, 'expired');
}

/** 4. Settings: the challenge first (authenticator app), then the list of methods. */
async function settings(s: Scene, totp: TOTP): Promise<void> {
  const { page, t, callback, userId } = s;
  await begin(page, t, callback, { userId, action: 'signIn', redirectToSettings: true });
  await page.getByRole('link', { name: /^Authenticator app/ }).click();
  await page.getByLabel('Verification code').fill(totp.generate());
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await heading(page, 'Your sign-in methods');
  await shoot(page, 'settings');
  await page.getByRole('link', { name: 'Add a method' }).click();
  await heading(page, 'Add a method');
  await shoot(page, 'settings-add-method');
  await page.getByRole('link', { name: 'Back' }).click();
  await page.getByRole('button', { name: 'Done' }).click();
  await ended(page, callback);
}

/** 5. The /oidc/auth error page: a redirect URI that is not registered is never redirected to. */
async function errorPageAndSpanish(s: Scene): Promise<void> {
  const { page, t, callback, userId } = s;
  await page.goto(
    `${t.origin}/oidc/auth?${new URLSearchParams({
      client_id: t.id,
      redirect_uri: 'https://unregistered.example.com/callback',
      response_type: 'code',
      scope: 'openid',
    })}`,
  );
  await page.getByRole('heading', { level: 1 }).waitFor();
  await shoot(page, 'error-page-unregistered-redirect');

  // 6. Spanish (ui_locales=es).
  await begin(page, t, callback, { userId, action: 'signIn' }, { ui_locales: 'es' });
  await heading(page, 'Verifica que eres tú');
  await shoot(page, 'challenge-choose-es');
  await page.goto(`${t.origin}/health`);
}

/** 7. The hosted login of a third-party app (no /init-auth): identify, passkey, consent; then prompt=select_account on the SSO session, and RP-initiated logout. */
async function hostedLogin(s: Scene): Promise<string> {
  const { page, t, callback, userId, email } = s;
  await api(t, 'PUT', `/v1/users/${userId}`, { email, email_verified: true, name: 'Jane Doe' });
  const app3 = (await api(t, 'POST', '/v1/clients', {
    client_name: 'Photo Printer',
    redirect_uris: [callback.url],
    post_logout_redirect_uris: [callback.url],
    scope: 'openid profile email',
    grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
    client_type: 'public',
  })) as { client_id: string };
  const login = (extra: Record<string, string> = {}) =>
    `${t.origin}/oidc/auth?${new URLSearchParams({
      client_id: app3.client_id,
      redirect_uri: callback.url,
      response_type: 'code',
      scope: 'openid profile email',
      state: 'screenshots',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      ...extra,
    })}`;
  await page.goto(login());
  await heading(page, 'Sign in');
  await shoot(page, 'login-identify');
  await page.getByLabel('Email or username').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await heading(page, "Verify it's you");
  await page.getByRole('link', { name: /^Passkey/ }).click();
  await page.getByRole('button', { name: 'Use passkey' }).click();
  await heading(page, 'Photo Printer wants to access your account');
  await shoot(page, 'login-consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await ended(page, callback);
  await page.goto(login({ prompt: 'select_account' }));
  await heading(page, 'Choose an account');
  await shoot(page, 'login-select-account');
  await page.getByRole('button', { name: /^Continue as/ }).click();
  await ended(page, callback);
  await page.goto(`${t.origin}/oidc/session/end?client_id=${app3.client_id}`);
  await heading(page, 'Sign out?');
  await shoot(page, 'logout-confirm');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading(page, 'All done');
  await shoot(page, 'signed-out');
  return app3.client_id;
}

/** 8. The device flow's page (RFC 8628): enter the code, sign in, approve. */
async function devicePage(s: Scene, clientId: string): Promise<void> {
  const { page, t, email } = s;
  const device = (await (
    await fetch(`${t.origin}/oidc/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, scope: 'openid' }).toString(),
      dispatcher: loopback,
    })
  ).json()) as { user_code: string; verification_uri: string };
  await page.goto(device.verification_uri);
  await page.getByLabel('Device code').waitFor();
  await page.getByLabel('Device code').fill(device.user_code);
  await shoot(page, 'device-code');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Email or username').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('link', { name: /^Passkey/ }).click();
  await page.getByRole('button', { name: 'Use passkey' }).click();
  await heading(page, 'Photo Printer wants to access your account');
  await shoot(page, 'device-approve');
  await page.getByRole('button', { name: 'Allow' }).click();
  await heading(page, 'All done');
  await shoot(page, 'device-approved');
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-screenshots-'));
  process.env[ENV.localOutboxDir] = join(dataDir, 'outbox');
  process.env[ENV.logLevel] ??= 'WARN';
  mkdirSync(OUT, { recursive: true });
  const server = await startLocal({ port: 0, dataDir, inMemory: true, tenantCacheSeconds: 0 });
  const [browser, callback] = await Promise.all([launchBrowser(), startCallbackServer()]);
  try {
    const { tenants } = await servicesFor('us');
    const created = await tenants.create({ slug: 'acme', name: 'Acme Corp' });
    const t: Tenant = { id: created.tenant.id, secret: created.secret, origin: server.origin('acme', 'us') };
    await api(t, 'PATCH', `/v1/clients/${t.id}`, { redirect_uris: [callback.url] });
    await api(t, 'PUT', '/v1/actions/signIn', { defaultOutcome: 'CHALLENGE', maxAttempts: 3 });

    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (/content security policy/i.test(msg.text())) console.error(`CSP: ${page.url()}: ${msg.text()}`);
    });
    await addVirtualAuthenticator(page);

    const s: Scene = { page, t, callback, userId: 'jane-doe', email: 'jane.doe@example.com' };
    await enrollment(s);
    const totp = await addMethods(s);
    await expired(s, await challenge(s, totp));
    await settings(s, totp);
    await errorPageAndSpanish(s);
    await devicePage(s, await hostedLogin(s));
    await context.close();

    // Sanity: the mails really went through the local outbox.
    await latestCode(s.email);
  } finally {
    await browser.close();
    await callback.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`${shots.length} screenshots in ${OUT}:\n  ${shots.join('\n  ')}`);
}

await main();
// The AWS SDK and undici keep idle sockets open; nothing is left to do.
process.exit(0);
