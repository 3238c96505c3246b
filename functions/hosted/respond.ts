import type { HttpResponse } from '../http/request.js';
import type { Html } from './views/html.js';
import { newNonce, pageSecurityPolicy, renderPage, type PageContext } from './views/layout.js';

/**
 * The edge of the hosted pages: a rendered page becomes a response here, with the headers every
 * hosted page carries (no caching of pages holding CSRF tokens, and a CSP admitting only this
 * response's nonce). Views only ever return markup.
 */
export function pageResponse(
  ctx: PageContext,
  title: string,
  body: Html,
  opts: { status?: number; nonce?: string; cookies?: string[] } = {},
): HttpResponse {
  const nonce = opts.nonce ?? newNonce();
  return {
    status: opts.status ?? 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': pageSecurityPolicy(nonce),
    },
    body: renderPage(ctx, title, body, nonce),
    ...(opts.cookies ? { cookies: opts.cookies } : {}),
  };
}

/** POST-redirect-GET to the next screen (RFC 9110 §15.4.4). */
export const seeOther = (location: string, cookies?: string[]): HttpResponse => ({
  status: 303,
  headers: { location, 'cache-control': 'no-store' },
  ...(cookies ? { cookies } : {}),
});

/** The answer to a step the page's script calls (passkey ceremonies). */
export const jsonOk = (body: unknown, status = 200, cookies?: string[]): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
  ...(cookies ? { cookies } : {}),
});
