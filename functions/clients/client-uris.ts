import * as z from '../zod.js';

/*
 * The URIs a client registers: redirect URIs (exact match, RFC 6749 §3.1.2, RFC 8252) and RFC 8707
 * resource indicators. One validator for registration and PATCH alike.
 */

/** Hosts plain http may use (RFC 8252 §7.3, §8.3): the loopback interface only, never a network host. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const isLoopback = (hostname: string) => LOOPBACK.has(hostname) || hostname.endsWith('.localhost');

/**
 * Control characters (C0, DEL, C1), whitespace and separators of any script, and invisible format
 * characters (zero-width, bidi overrides). `new URL` silently strips tabs, newlines and outer spaces,
 * so a URI registered with them would be stored one way and matched another; a CR/LF could split a
 * header. The raw value is checked, not the parsed one.
 */
const UNSAFE_URI_CHARACTERS = /[\p{Cc}\p{Cf}\p{Z}\s]/u;

/**
 * A redirect URI as OAuth 2.0 Security BCP and RFC 8252 allow: absolute, no fragment (RFC 6749
 * §3.1.2), https, or http only on loopback, or a private-use scheme with a dot for native apps. It
 * is matched exactly, never by prefix or wildcard.
 */
export const redirectUriSchema = z.string().check(
  z.maxLength(2000, 'a redirect URI is at most 2000 characters'),
  z.superRefine((value: string, ctx) => {
    if (UNSAFE_URI_CHARACTERS.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'a redirect URI has no whitespace or control characters' });
      return;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an absolute URI` });
      return;
    }
    if (url.hash || value.includes('#'))
      ctx.addIssue({ code: 'custom', message: 'a redirect URI has no fragment' });
    if (url.username || url.password)
      ctx.addIssue({ code: 'custom', message: 'a redirect URI has no user info' });
    if (value.includes('*'))
      ctx.addIssue({ code: 'custom', message: 'wildcards are not allowed: register exact URIs' });
    const scheme = url.protocol.slice(0, -1);
    if (scheme === 'https') return;
    if (scheme === 'http' && isLoopback(url.hostname)) return;
    if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+$/.test(scheme)) return; // RFC 8252 §7.1 private-use scheme
    ctx.addIssue({ code: 'custom', message: `"${value}" must use https (http only for localhost)` });
  }),
);

export const uriList = z.array(redirectUriSchema).check(
  z.maxLength(50, 'at most 50 URIs'),
  z.refine((l) => new Set(l).size === l.length, 'URIs must not repeat'),
);

/** An RFC 8707 resource indicator: an absolute URI without a fragment. */
export const resourceUriSchema = z.string().check(
  z.maxLength(2000),
  z.refine((value) => {
    try {
      const url = new URL(value);
      return !value.includes('#') && url.protocol.length > 1;
    } catch {
      return false;
    }
  }, 'a resource is an absolute URI without a fragment (RFC 8707 §2)'),
);

export const resourceList = z.array(resourceUriSchema).check(
  z.maxLength(50, 'at most 50 resources'),
  z.refine((l) => new Set(l).size === l.length, 'resources must not repeat'),
);
