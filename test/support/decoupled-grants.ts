/**
 * Shared steps of the device authorization grant and CIBA tests: users with an authenticator app,
 * clients, a cookie-jar browser, and the hosted sign-in on "the other device" (the user's phone or
 * laptop) up to the approval page, where they allow or deny.
 */
import { randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { Response } from 'undici';
import { expect } from 'vitest';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import type { LocalOutbox } from '../../functions/mail/local-outbox.js';
import { servicesFor } from '../../functions/services.js';
import { CookieJar } from './cookie-jar.js';
import { body, decodeEntities, docAuth, FORM_TYPE, JSON_TYPE, type TestTenant } from './flow.js';
import { csrfOf, go } from './hosted-login.js';
import { basic, http } from './server.js';

export { csrfOf, go };

export { CookieJar };

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

export interface User {
  userId: string;
  email: string;
  totp: () => string;
}

/** A user with a profile (email, optional locale) and an authenticator app. */
export async function newUser(t: TestTenant, profile: Record<string, unknown> = {}): Promise<User> {
  const userId = `u-${randomBytes(4).toString('hex')}`;
  const email = `${userId}@example.com`;
  const res = await http(`${t.origin}/v1/users/${userId}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ email, email_verified: true, name: 'Ada Lovelace', ...profile }),
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
  // A code per 30 s step can be used once: step forward in time for each new sign-in.
  let step = 0;
  return { userId, email, totp: () => totp.generate({ timestamp: Date.now() + 30_000 * step++ - 30_000 }) };
}

export interface App {
  client_id: string;
  client_secret?: string;
}

/** `POST /v1/clients`; must succeed. */
export async function registerApp(t: TestTenant, metadata: Record<string, unknown>): Promise<App> {
  const res = await registerRaw(t, metadata);
  const json = await body<App>(res);
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

export function registerRaw(t: TestTenant, metadata: Record<string, unknown>): Promise<Response> {
  return http(`${t.origin}/v1/clients`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({ client_name: 'app', ...metadata }),
  });
}

/** Client authentication as the client does it: Basic with a secret, else client_id in the body. */
export function clientAuth(app: App): { headers: Record<string, string>; form: Record<string, string> } {
  return app.client_secret
    ? { headers: { authorization: basic(app.client_id, app.client_secret) }, form: {} }
    : { headers: {}, form: { client_id: app.client_id } };
}

/** A form POST to an issuer path (`/device/auth`, `/backchannel`, `/token`) as `app`. */
export function postAs(
  t: TestTenant,
  app: App | undefined,
  path: string,
  form: Record<string, string>,
): Promise<Response> {
  const auth = app ? clientAuth(app) : { headers: {}, form: {} };
  return http(`${t.issuer}${path}`, {
    method: 'POST',
    headers: { ...FORM_TYPE, ...auth.headers },
    body: new URLSearchParams({ ...auth.form, ...form }).toString(),
  });
}

/** An OAuth error response: its status, error code and Cache-Control. */
export async function oauthError(
  res: Response,
): Promise<{ status: number; error: string; cacheControl: string | null }> {
  const json = await body<{ error: string }>(res);
  return { status: res.status, error: json.error, cacheControl: res.headers.get('cache-control') };
}

/** The page text with tags stripped and entities decoded, for readable assertions. */
export const textOf = (html: string) =>
  decodeEntities(html.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();

/** The local outbox every region's services share. */
export async function outbox(): Promise<LocalOutbox> {
  return (await servicesFor('us')).mailer as unknown as LocalOutbox;
}

/**
 * The hosted sign-in on the other device, from the 303 that starts it (the device page's or the
 * CIBA link's) to the end: identify (unless the request named the user), the authenticator app
 * code, then the approval page, allowed or denied. Returns the approval page and the final page.
 */
export async function signInAndDecide(
  t: TestTenant,
  jar: CookieJar,
  start: Response,
  user: User,
  opts: { decision?: 'allow' | 'deny'; identify: boolean },
): Promise<{ approval: string; done: string }> {
  expect(start.status).toBe(303);
  const location = start.headers.get('location')!;
  expect(location).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
  const page = `${t.origin}${location}`;
  let html = await (await go(jar, page)).text();
  expect(html.includes('name="identifier"'), 'the identify screen').toBe(opts.identify);
  if (opts.identify) {
    const res = await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: user.email } });
    expect(res.status).toBe(303);
    html = await (await go(jar, page)).text();
    // After the identifier everyone gets the same chooser: the authenticator app.
    expect(html).toContain('Verify it&#39;s you');
    html = await (await go(jar, `${page}?view=totp`)).text();
  }
  expect(html).toContain('autocomplete="one-time-code"');
  const passed = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
  expect(passed.status, await passed.clone().text()).toBe(303);
  const approval = await (await go(jar, page)).text();
  expect(approval).toContain('wants to access your account');
  const res = await go(jar, `${page}/consent`, {
    form: { csrf: csrfOf(approval), decision: opts.decision ?? 'allow' },
  });
  expect(res.status).toBe(200);
  return { approval, done: await res.text() };
}
