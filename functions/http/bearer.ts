import { bearerError } from '../errors.js';
import { DPOP_CHALLENGE, dpopError, type PresentedToken } from '../oidc/dpop.js';
import { parseForm } from './body.js';
import type { HttpRequest } from './request.js';

/** RFC 6750 §2.1 / RFC 9449 §7.1: the token68 syntax of both schemes. */
const TOKEN68 = '([A-Za-z0-9\\-._~+/]+=*)';
const BEARER = new RegExp(`^Bearer[ ]+${TOKEN68}\\s*$`, 'i');
const DPOP = new RegExp(`^DPoP[ ]+${TOKEN68}\\s*$`, 'i');

/**
 * The access token of a protected resource request (RFC 6750 §2): the `Authorization: Bearer`
 * header, or (POST only) an `access_token` form parameter — never both.
 */
export function bearerToken(req: HttpRequest, realm: string): string {
  const header = req.headers.authorization;
  const m = header ? BEARER.exec(header) : null;
  const isForm =
    (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() ===
    'application/x-www-form-urlencoded';
  const fromBody = req.method === 'POST' && isForm && req.body ? parseForm(req).access_token : undefined;
  if (m && fromBody !== undefined) {
    throw bearerError(400, 'invalid_request', 'send the access token in one place only (RFC 6750 §2)', realm);
  }
  if (header && !m && /^Bearer\b/i.test(header))
    throw bearerError(401, 'invalid_token', 'the access token is malformed', realm);
  const token = m?.[1] ?? fromBody;
  if (!token) {
    const missing = bearerError(
      401,
      'invalid_token',
      'an access token is required (Authorization: Bearer or DPoP)',
      realm,
      false,
    );
    // Both schemes are offered to a request without a token (RFC 9449 §7.1).
    missing.headers['www-authenticate'] += `, ${DPOP_CHALLENGE}`;
    throw missing;
  }
  return token;
}

/**
 * The access token and its scheme: `Authorization: DPoP <token>` (RFC 9449 §7.1, header only),
 * else what `bearerToken` accepts.
 */
export function presentedToken(req: HttpRequest, realm: string): PresentedToken {
  const header = req.headers.authorization;
  if (!header || !/^DPoP\b/i.test(header)) return { token: bearerToken(req, realm), scheme: 'Bearer' };
  const m = DPOP.exec(header);
  if (!m) throw dpopError('resource', 'invalid_token', 'the access token is malformed');
  return { token: m[1]!, scheme: 'DPoP' };
}
