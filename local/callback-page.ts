import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { withSecurityHeaders } from '../functions/http/headers.js';

/** The demo client's redirect URI on the local server (`npm start` registers it for the demo tenant). */
export const CALLBACK_PATH = '/callback';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const html = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface DemoCallback {
  /** `http://demo.us.localhost:3000` */
  origin: string;
  tenantId: string;
  /** `http://localhost:3000/callback` */
  redirectUri: string;
}

let demo: DemoCallback | undefined;

/** `npm start` turns the page on once the demo tenant exists; until then `/callback` is a plain 404. */
export function serveDemoCallback(next: DemoCallback | undefined): void {
  demo = next;
}

export function demoCallback(): DemoCallback | undefined {
  return demo;
}

/** `localhost[:port]` or a loopback address: the page is not served on tenant hosts. */
export function isBareLoopbackHost(host: string | undefined): boolean {
  return /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i.test(host ?? '');
}

/**
 * What codes and states look like when they come from this server: base64url and a few URL-safe
 * characters. Anything else is shown (escaped) but never put into the ready-to-paste command, so a
 * crafted link cannot make the page hand out a shell command of the attacker's choosing.
 */
const SAFE = /^[A-Za-z0-9._~-]{1,512}$/;

/**
 * The local demo's redirect target (never a Lambda route): it shows the authorization response
 * (RFC 6749 §4.1.2: `code` and `state`, or `error`) and a `curl` that redeems the code at the
 * demo tenant's token endpoint. It redirects nowhere and runs no script.
 */
export function callbackPage(query: URLSearchParams, demo: DemoCallback): APIGatewayProxyStructuredResultV2 {
  const code = query.get('code') ?? '';
  const state = query.get('state') ?? '';
  const error = query.get('error') ?? '';
  const rows: string[] = [];
  if (error) {
    rows.push(`<p>The authorization server answered <strong>error</strong>: <code>${html(error)}</code></p>`);
    const description = query.get('error_description');
    if (description) rows.push(`<p>${html(description)}</p>`);
  }
  if (code) rows.push(`<p>code: <code id="code">${html(code)}</code></p>`);
  if (state) rows.push(`<p>state: <code id="state">${html(state)}</code></p>`);
  if (code && SAFE.test(code)) {
    const curl =
      `curl -s -X POST '${demo.origin}/oidc/token' -u "${demo.tenantId}:$SECRET" \\\n` +
      `  -d grant_type=authorization_code -d code='${code}' \\\n` +
      `  -d redirect_uri='${demo.redirectUri}'`;
    rows.push(
      '<p>Redeem it within a minute (codes are single-use; <code>$SECRET</code> is the demo tenant secret from the <code>npm start</code> banner):</p>',
      `<pre id="curl">${html(curl)}</pre>`,
    );
  } else if (code) {
    rows.push('<p>This code is not in the form this server issues, so no command is offered for it.</p>');
  }
  if (!rows.length) rows.push('<p>No authorization response in this URL.</p>');
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local callback</title></head>
<body><main><h1>Local callback</h1>
${rows.join('\n')}
</main></body></html>
`;
  return {
    statusCode: 200,
    headers: withSecurityHeaders({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The code is a credential: no referrer may carry it anywhere.
      'referrer-policy': 'no-referrer',
      'content-security-policy':
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    }),
    body,
  };
}
