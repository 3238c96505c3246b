/**
 * A relying party in a test: openid-client (a certified RP library) builds the requests and checks
 * the responses, Chromium plays the user on the hosted login pages, and a tiny local HTTP server
 * stands in for the app's callback and post-logout pages (recording what it is sent, form_post
 * bodies included). See `browser.ts` for why the callback is a real server and not `page.route`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { expect } from 'vitest';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { servicesFor } from '../../functions/services.js';
import { client } from './relying-party.js';
import type { CallbackServer, TestPage } from './browser.js';
import { docAuth, JSON_TYPE, body, type TestTenant } from './flow.js';
import { http } from './server.js';

/** One request the app's server received. */
export interface AppRequest {
  method: string;
  url: URL;
  contentType: string;
  body: string;
}

/** The app: `/callback` (the redirect URI) and `/logged-out` (the post-logout redirect URI). */
export interface AppServer extends CallbackServer {
  loggedOut: string;
  requests: AppRequest[];
}

export async function startAppServer(): Promise<AppServer> {
  const received: URL[] = [];
  const requests: AppRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'app.localhost'}`);
      received.push(url);
      requests.push({
        method: req.method ?? 'GET',
        url,
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : 'ok');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const origin = `http://app.localhost:${port}`;
  return {
    url: `${origin}/callback`,
    loggedOut: `${origin}/logged-out`,
    received,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** A user with an email login and an authenticator app, as the management API would hold them. */
export interface TotpUser {
  userId: string;
  email: string;
  /** The code for the next login: codes are single-use per 30 s step, so each call steps forward. */
  nextCode(): string;
}

export async function createTotpUser(t: TestTenant, name = 'Ada Lovelace'): Promise<TotpUser> {
  const userId = `u-${randomBytes(6).toString('hex')}`;
  const email = `${userId}@example.com`;
  const res = await http(`${t.origin}/v1/users/${userId}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ email, email_verified: true, name }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const services = await servicesFor(t.region);
  const auth = createAuthenticatorService(services.tenants.scoped(t.id), {
    mailer: services.mailer,
    secretBox: services.secretBox,
    rpId: new URL(t.origin).hostname,
    rpName: t.slug,
    origin: t.origin,
  });
  const { secret } = await auth.createTotp(userId, email);
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  // Steps 0, +1 (the server accepts ±1): two logins without waiting for the clock.
  let step = 0;
  return { userId, email, nextCode: () => totp.generate({ timestamp: Date.now() + 30_000 * step++ }) };
}

/** `POST /v1/clients`; the registered metadata with the secret (shown once). */
export async function registerApp(
  t: TestTenant,
  metadata: Record<string, unknown>,
): Promise<{ client_id: string; client_secret: string }> {
  const res = await http(`${t.origin}/v1/clients`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify(metadata),
  });
  const json = await body<{ client_id: string; client_secret: string }>(res);
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

/** One authorization request as openid-client builds it, with the checks to complete it. */
export interface AuthRequest {
  url: URL;
  state: string;
  nonce: string;
  pkceCodeVerifier: string;
}

export async function authRequest(
  config: client.Configuration,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<AuthRequest> {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, state, nonce, pkceCodeVerifier };
}

/**
 * Every document the page navigated to (redirects included), so a test can tell whether the user
 * was shown a page of the provider or went straight back to the app.
 */
export function recordNavigations(tp: TestPage): string[] {
  const seen: string[] = [];
  tp.page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === tp.page.mainFrame()) seen.push(req.url());
  });
  return seen;
}

/** Waits for the browser to be back at a URL of the app (`prefix` without a query). */
export async function landedAt(tp: TestPage, prefix: string): Promise<URL> {
  await tp.page.waitForURL((url) => url.href === prefix || url.href.startsWith(`${prefix}?`));
  return new URL(tp.page.url());
}

/**
 * The person's part of a hosted login, on whatever login page the browser is showing: the
 * identifier, the authenticator app's code, and "Allow" when a third-party client asks consent.
 */
export async function signInOnPage(
  tp: TestPage,
  user: TotpUser,
  opts: { consent?: boolean } = {},
): Promise<void> {
  const { page } = tp;
  await page.getByLabel('Email or username').fill(user.email);
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  // After the identifier everyone gets the same chooser (the page does not tell who has an
  // account); a page that challenges a named user (CIBA) goes straight to the code.
  const code = page.getByLabel('Verification code');
  const app = page.getByRole('link', { name: /^Authenticator app/ });
  await code.or(app).first().waitFor();
  if (await app.isVisible()) await app.click();
  await code.fill(user.nextCode());
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  if (opts.consent) {
    await page.getByRole('heading', { name: /wants to access your account/ }).waitFor();
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
  }
}
