import { bearerError } from '../errors.js';
import { parseForm } from './body.js';
import type { HttpRequest } from './request.js';

/**
 * The access token of a protected resource request (RFC 6750 §2): the `Authorization: Bearer`
 * header, or (POST only) an `access_token` form parameter — never both.
 */
export function bearerToken(req: HttpRequest, realm: string): string {
  const header = req.headers.authorization;
  const m = header ? /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header) : null;
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
  if (!token)
    throw bearerError(
      401,
      'invalid_token',
      'an access token is required (Authorization: Bearer)',
      realm,
      false,
    );
  return token;
}
