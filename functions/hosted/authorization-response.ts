import { randomBytes } from 'node:crypto';
import type { HttpResponse } from '../http/request.js';
import type { ResponseMode } from '../records/authorization.js';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Sends the authorization response to a validated redirect URI: a 302 with the parameters in the
 * query (RFC 6749 §4.1.2), or an auto-submitting form (OAuth 2.0 Form Post Response Mode) whose
 * only script is allowed by a per-response CSP nonce. Parameter values go out unchanged.
 */
export function authorizationResponse(
  redirectUri: string,
  mode: ResponseMode,
  params: Record<string, string>,
): HttpResponse {
  if (mode === 'form_post') {
    const nonce = randomBytes(16).toString('base64');
    const inputs = Object.entries(params)
      .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
      .join('');
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        pragma: 'no-cache',
        // No `form-action`: Chrome applies it to every redirect after the submission too, and
        // B2C's authresp (like any RP) redirects on to other origins, which Chrome would block. The
        // server writes the form's action (the validated redirect URI) and escapes every value.
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`,
      },
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Continuing…</title></head><body>
<form method="post" action="${escape(redirectUri)}">${inputs}<noscript><p>JavaScript is off: press the button to continue.</p><button type="submit">Continue</button></noscript></form>
<script nonce="${nonce}">document.forms[0].submit();</script></body></html>`,
    };
  }
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  return { status: 302, headers: { location: url.toString(), 'cache-control': 'no-store' } };
}
