/**
 * The provider's own cookies (the SSO session, the interaction bindings). On https they carry the
 * `__Host-` prefix (RFC 6265bis §4.1.3.2): the browser accepts such a cookie only with Secure,
 * Path=/ and no Domain, so neither a sibling subdomain nor a plain-http page can plant or shadow
 * one (cookie tossing, which would make a login CSRF of a planted session). Locally, on plain
 * http, the bare names are used: browsers refuse `__Host-` cookies without Secure.
 */
export const HOST_PREFIX = '__Host-';

/** A Set-Cookie value: HttpOnly and SameSite=Lax always; on https `__Host-`, Secure and Path=/. */
export function setCookie(
  name: string,
  value: string,
  opts: { secure: boolean; path: string; maxAge: number },
): string {
  const attributes = `HttpOnly; SameSite=Lax; Max-Age=${opts.maxAge}`;
  if (opts.secure) return `${HOST_PREFIX}${name}=${value}; Path=/; ${attributes}; Secure`;
  return `${name}=${value}; Path=${opts.path}; ${attributes}`;
}

/**
 * The request's cookies as the domain code reads them, by their bare names. On https only the
 * `__Host-` ones count: a bare-named cookie there was not set by this provider and is ignored.
 */
export function schemeCookies(cookies: Record<string, string>, secure: boolean): Record<string, string> {
  if (!secure) return cookies;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(cookies))
    if (name.startsWith(HOST_PREFIX)) out[name.slice(HOST_PREFIX.length)] = value;
  return out;
}
