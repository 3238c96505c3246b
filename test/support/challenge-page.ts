import type { Response } from 'undici';
import { expect } from 'vitest';
import {
  APP_REDIRECT,
  authorize,
  body,
  initAuth,
  redeem,
  redirectParams,
  verify,
  type TestTenant,
} from './flow.js';
import { csrfOf } from './hosted-login.js';
import { http } from './server.js';

/** A browser's view of a hosted challenge page, over plain HTTP: its binding cookie, URL, CSRF token and markup. */
export interface HostedPage {
  cookie: string;
  url: string;
  csrf: string;
  html: string;
}

/**
 * Starts a federated flow for `userId` and follows the 303 to the hosted page, keeping the
 * binding cookie like a browser (checked: HttpOnly, SameSite=Lax, scoped to the interaction).
 */
export async function startChallenge(
  t: TestTenant,
  userId: string,
  action = 'challenge',
  extra: Record<string, unknown> = {},
): Promise<HostedPage> {
  const init = await initAuth(t, { userId, action, ...extra });
  const res = await authorize(t, {
    client_id: t.id,
    token: init.token,
    redirect_uri: APP_REDIRECT,
    response_type: 'code',
    scope: 'openid',
    state: 'st',
  });
  expect(res.status).toBe(303);
  const location = res.headers.get('location')!;
  expect(location).toMatch(/^\/interaction\/[A-Za-z0-9_-]{24}$/);
  const setCookie = res.headers.getSetCookie()[0]!;
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).toMatch(/SameSite=Lax/);
  expect(setCookie).toContain(`Path=${location}`);
  const cookie = setCookie.split(';')[0]!;
  const url = `${t.origin}${location}`;
  const page = await http(url, { headers: { cookie } });
  expect(page.status).toBe(200);
  const html = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html);
  expect(csrf, 'a CSRF field').toBeTruthy();
  return { cookie, url, csrf: csrfOf(html), html };
}

/** The ID token claims of the code the flow ended with (state `st`, no error). */
export async function claimsOf(t: TestTenant, res: Response) {
  const { params } = redirectParams(res);
  expect(params.error).toBeUndefined();
  expect(params.state).toBe('st');
  const tokenRes = await redeem(t, params.code!, APP_REDIRECT);
  const tokens = await body<{ id_token: string }>(tokenRes);
  expect(tokenRes.status).toBe(200);
  return (await verify(t, tokens.id_token)).payload;
}
