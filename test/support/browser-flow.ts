/**
 * The federated flow driven from a real browser: `/init-auth` over HTTP (the tenant backend's
 * part), `/oidc/auth` and the hosted pages in Chromium (the user's part), and the code from the
 * intercepted callback redeemed at `/oidc/token` over HTTP (the client's part).
 */
import { expect } from 'vitest';
import { callbackParams, type CallbackServer, type TestPage } from './browser.js';
import {
  B2C_REDIRECT,
  APP_REDIRECT,
  body,
  patchRedirectUris,
  docAuth,
  initAuth,
  JSON_TYPE,
  redeem,
  verify,
  type TestTenant,
} from './flow.js';
import { http, type TestServer } from './server.js';

/**
 * `expect.poll` options for what the browser shows after a navigation: generous, since a page
 * load on a busy machine can take longer than vitest's 1-second default (this is not a timing
 * assertion, only how long to wait before giving up).
 */
export const eventually = { timeout: 15_000, interval: 100 } as const;

/** A tenant whose built-in client may return to the local callback server (and the usual URIs). */
export async function browserTenant(server: TestServer, callback: CallbackServer): Promise<TestTenant> {
  const t = await server.tenant();
  const res = await patchRedirectUris(t, [B2C_REDIRECT, APP_REDIRECT, callback.url]);
  expect(res.status, await res.clone().text()).toBe(200);
  return t;
}

/** `PUT /v1/actions/{action}` with a full configuration. */
export async function putAction(
  t: TestTenant,
  action: string,
  config: Record<string, unknown>,
): Promise<void> {
  const res = await http(`${t.origin}/v1/actions/${action}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify(config),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** `POST /v1/users/{userId}/authenticators`: an authenticator app (returns its secret) or an email. */
export async function enroll(
  t: TestTenant,
  userId: string,
  payload: { type: 'AUTHENTICATOR_APP' } | { type: 'EMAIL_OTP'; email: string },
): Promise<{ authenticator: { id: string; type: string }; secret?: string }> {
  const res = await http(`${t.origin}/v1/users/${encodeURIComponent(userId)}/authenticators`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify(payload),
  });
  const json = await body<{ authenticator: { id: string; type: string }; secret?: string }>(res);
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

/** `GET /v1/users/{userId}`. */
export async function getUser(
  t: TestTenant,
  userId: string,
): Promise<{ isEnrolled: boolean; authenticators: { id: string; type: string }[] }> {
  const res = await http(`${t.origin}/v1/users/${encodeURIComponent(userId)}`, {
    headers: { authorization: docAuth(t) },
  });
  expect(res.status).toBe(200);
  return body(res);
}

/** `POST /init-auth`, then the browser opens `/oidc/auth` and lands on the hosted page (or the callback). */
export async function begin(
  tp: TestPage,
  t: TestTenant,
  input: { userId: string; action: string; [k: string]: unknown },
  extra: Record<string, string> = {},
): Promise<void> {
  const init = await initAuth(t, input);
  const params = new URLSearchParams({
    client_id: t.id,
    token: init.token,
    redirect_uri: tp.callback.url,
    response_type: 'code',
    scope: 'openid',
    state: 'browser-state',
    ...extra,
  });
  const res = await tp.page.goto(`${t.origin}/oidc/auth?${params}`);
  expect(res, 'a response to /oidc/auth').not.toBeNull();
}

/** Waits for the callback, checks state, redeems the code and returns the verified ID token claims. */
export async function finishedClaims(tp: TestPage, t: TestTenant): Promise<Record<string, unknown>> {
  const params = await callbackParams(tp);
  expect(params.error, params.error_description).toBeUndefined();
  expect(params.state).toBe('browser-state');
  expect(params.code).toBeTruthy();
  const res = await redeem(t, params.code!, tp.callback.url);
  const tokens = await body<{ id_token: string }>(res);
  expect(res.status, JSON.stringify(tokens)).toBe(200);
  return (await verify(t, tokens.id_token)).payload;
}

/** A 6-digit code that is valid for no step within ±1 of now (the server's window). */
export function wrongCode(valid: string[], seed = 0): string {
  for (let n = seed; ; n++) {
    const candidate = String((n * 7919) % 1_000_000).padStart(6, '0');
    if (!valid.includes(candidate)) return candidate;
  }
}

/** `document.documentElement.scrollWidth <= innerWidth` on the current page (no horizontal scroll). */
export async function horizontalOverflow(tp: TestPage): Promise<{ scrollWidth: number; innerWidth: number }> {
  return (await tp.page.evaluate(
    '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
  )) as { scrollWidth: number; innerWidth: number };
}
