import type { ProtocolError } from '../errors.js';
import { pageResponse } from '../hosted/respond.js';
import { html } from '../hosted/views/html.js';
import { pageContext } from '../hosted/views/layout.js';
import { pickLocale } from '../i18n.js';
import type { HttpResponse } from './request.js';

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
  render(err: ProtocolError): string {
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

/** The same error in the tenant's page layout (name, colour, language of the browser). */
export function brandedErrorPage(
  err: ProtocolError,
  opts: { tenantName: string; brandColor?: string; acceptLanguage?: string },
): HttpResponse {
  const page = pageContext(
    { name: opts.tenantName, ...(opts.brandColor ? { brandColor: opts.brandColor } : {}) },
    pickLocale(undefined, opts.acceptLanguage),
  );
  const { t } = page;
  const body = html`<h1>${t('error_title')}</h1>
<p>${err.description}</p>
<p class="muted">${t('error_code')}: <code>${err.code}</code></p>
<p>${t('closed_text')}</p>`;
  const res = pageResponse(page, t('error_title'), body, { status: err.status });
  return { ...res, headers: { ...err.headers, ...res.headers } };
}
