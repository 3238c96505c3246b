/**
 * Security headers on every response. JSON endpoints get a CSP that allows nothing; HTML pages set
 * their own nonce-based CSP (it is kept when present). `frame-ancestors 'none'` and X-Frame-Options
 * stop clickjacking of the hosted pages.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
};

const DEFAULTS: Record<string, string> = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };

export function withSecurityHeaders(headers: Record<string, string> = {}): Record<string, string> {
  const out = { ...DEFAULTS };
  // Handlers write header names in lower case; one that does not is still folded, so a
  // `Content-Security-Policy` of a page replaces the default instead of joining it.
  for (const k in headers) out[k.toLowerCase()] = headers[k]!;
  return out;
}
