import type { HttpError } from './errors.js';

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The error page users see when a request cannot be sent back to a client (unknown client, an
 * unregistered redirect URI): never a redirect to an unvalidated URI (RFC 6749 §4.1.2.1).
 */
export const errorPage = {
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  },
  render(err: HttpError): string {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Something went wrong</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:.1rem .3rem}</style></head>
<body><main><h1>Something went wrong</h1><p>${escape(err.description)}</p>
<p>Error code: <code>${escape(err.code)}</code></p>
<p>You can close this window and return to the application.</p></main></body></html>`;
  },
};
