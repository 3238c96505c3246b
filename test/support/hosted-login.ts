/**
 * The hosted login spoken over plain HTTP with a cookie jar, as a browser (or an attacker's
 * script) speaks it: users with an authenticator app, authorization URLs with PKCE, and a walk
 * through identify, method, code and consent pages.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { Response } from 'undici';
import { expect } from 'vitest';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { servicesFor } from '../../functions/services.js';
import type { CookieJar } from './cookie-jar.js';
import { body, decodeEntities, docAuth, JSON_TYPE, postToken, type TestTenant } from './flow.js';
import { basic, http, httpFrom } from './server.js';

export interface PageUser {
  userId: string;
  email: string;
  totp: () => string;
}

/** The authenticator service of a tenant, as the pages use it. */
export async function authenticators(t: TestTenant) {
  const services = await servicesFor('us');
  return createAuthenticatorService(services.tenants.scoped(t.id), {
    mailer: services.mailer,
    secretBox: services.secretBox,
    rpId: new URL(t.origin).hostname,
    rpName: t.slug,
    origin: t.origin,
  });
}

/** A user with a profile (email, phone, address) and the methods asked for (default: an authenticator app). */
export async function pageUser(
  t: TestTenant,
  methods: { totp?: boolean; email?: boolean } = { totp: true },
): Promise<PageUser> {
  const userId = `u-${randomBytes(4).toString('hex')}`;
  const email = `${userId}@example.com`;
  const res = await http(`${t.origin}/v1/users/${userId}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({
      email,
      email_verified: true,
      name: 'Ada Lovelace',
      phone_number: '+14155550123',
      address: { locality: 'London', country: 'UK' },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const auth = await authenticators(t);
  let totp = () => '000000';
  if (methods.totp) {
    const { secret } = await auth.createTotp(userId, email);
    const generator = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
    // A code per 30 s step can be used once: each login takes the next unused step the server
    // accepts (one back to one ahead). The step behind only while the window is young: a slow
    // request on a loaded machine must not see it fall out of the window before it is checked.
    let last = -Infinity;
    totp = () => {
      const now = Date.now();
      const current = Math.floor(now / 30_000);
      last = Math.max(last + 1, now % 30_000 > 20_000 ? current : current - 1);
      return generator.generate({ timestamp: last * 30_000 });
    };
  }
  if (methods.email) await auth.enrollEmail(userId, email);
  return { userId, email, totp };
}

/** Every Set-Cookie header `go` has seen, in order (for tests of the cookies' attributes). */
export const seenSetCookies: string[] = [];

export async function go(
  jar: CookieJar,
  url: string,
  init: { method?: string; form?: Record<string, string>; from?: string } = {},
): Promise<Response> {
  const send = init.from ? httpFrom.bind(null, init.from) : http;
  const res = await send(url, {
    method: init.method ?? (init.form ? 'POST' : 'GET'),
    headers: {
      ...jar.header(),
      ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
  });
  seenSetCookies.push(...res.headers.getSetCookie());
  jar.take(res);
  return res;
}

export const csrfOf = (html: string) => decodeEntities(/name="csrf" value="([^"]+)"/.exec(html)![1]!);

export function authUrl(
  t: TestTenant,
  clientId: string,
  redirectUri: string,
  extra: Record<string, string> = {},
): { url: string; verifier: string; state: string } {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    state,
    nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: `${t.issuer}/auth?${q}`, verifier, state };
}

/**
 * Walks one login to the redirect to the client: identify, the authenticator app, consent (allowed
 * unless told otherwise). Returns that Location and the consent page's text, if one was shown.
 */
export async function pageLogin(
  t: TestTenant,
  jar: CookieJar,
  start: string,
  user: PageUser,
  opts: { consent?: 'allow' | 'deny' } = {},
): Promise<{ location: URL; consentPage?: string }> {
  let res = await go(jar, start);
  expect(res.status, await res.clone().text()).toBe(303);
  const page = `${t.origin}${res.headers.get('location')}`;
  let html = await (await go(jar, page)).text();
  if (html.includes('name="identifier"')) {
    res = await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: user.email } });
    expect(res.status).toBe(303);
    html = await (await go(jar, page)).text();
  }
  if (!html.includes('autocomplete="one-time-code"'))
    html = await (await go(jar, `${page}?view=totp`)).text();
  expect(html).toContain('autocomplete="one-time-code"');
  res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
  let consentPage: string | undefined;
  if (res.status === 303 && res.headers.get('location')?.startsWith('/interaction/')) {
    consentPage = await (await go(jar, page)).text();
    expect(consentPage).toContain('wants to access your account');
    res = await go(jar, `${page}/consent`, {
      form: { csrf: csrfOf(consentPage), decision: opts.consent ?? 'allow' },
    });
  }
  expect(res.status, await res.clone().text()).toBe(302);
  return { location: new URL(res.headers.get('location')!), ...(consentPage ? { consentPage } : {}) };
}

/** The authorization_code grant with client_secret_basic; must succeed. */
export async function redeemCode(
  t: TestTenant,
  client: { client_id: string; client_secret?: string },
  code: string,
  redirectUri: string,
  verifier: string,
): Promise<{ id_token: string; access_token: string }> {
  const res = await postToken(
    t,
    { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
    { authorization: basic(client.client_id, client.client_secret ?? '') },
  );
  const tokens = await body<{ id_token: string; access_token: string }>(res);
  expect(res.status, JSON.stringify(tokens)).toBe(200);
  return tokens;
}

/** The UserInfo response for an access token; must succeed. */
export async function userinfo(t: TestTenant, accessToken: string): Promise<Record<string, unknown>> {
  const res = await http(`${t.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  const json = await body<Record<string, unknown>>(res);
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}
