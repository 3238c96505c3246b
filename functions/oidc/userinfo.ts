import { ProtocolError } from '../errors.js';
import type { HttpRequest } from '../http/request.js';
import { parseForm } from '../http/body.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import { profileClaims } from '../users/profile.js';
import { ProfileRepository } from '../users/profile-repository.js';
import { verifyAccessToken } from './access-tokens.js';
import { pickClaims } from './claims-request.js';
import { scopeTokens } from './token-request.js';

/**
 * RFC 6750 §3: a 401 or 403 names the Bearer scheme in `WWW-Authenticate`, with the error code
 * when a token was presented (and none when the request carried no token at all).
 */
export function bearerError(
  status: 400 | 401 | 403,
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope',
  description: string,
  realm: string,
  withCode = true,
): ProtocolError {
  const challenge = withCode
    ? `Bearer realm="${realm}", error="${error}", error_description="${description.replace(/["\\]/g, '')}"`
    : `Bearer realm="${realm}"`;
  return new ProtocolError(status, error, description, { 'www-authenticate': challenge });
}

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

/**
 * The UserInfo endpoint (OIDC Core §5.3): for a live access token of this tenant with the `openid`
 * scope, `sub` and the profile claims its scopes release (§5.4).
 */
export async function userInfo(
  token: string,
  deps: { signer: Signer; issuer: string; store: TenantStore },
): Promise<Record<string, unknown>> {
  const check = await verifyAccessToken(token, deps);
  if (!check.active)
    throw bearerError(401, 'invalid_token', 'the access token is invalid, expired or revoked', deps.issuer);
  const scopes = scopeTokens(check.claims.scope);
  // A client_credentials token never has openid: there is no user behind it.
  if (!scopes.includes('openid') || !check.claims.gid) {
    throw bearerError(403, 'insufficient_scope', 'the access token lacks the openid scope', deps.issuer);
  }
  const profile = await new ProfileRepository(deps.store).get(check.claims.sub);
  // Claims the `claims` request parameter asked for at UserInfo (OIDC Core §5.5), beyond the scopes.
  const asked = Array.isArray(check.claims.uic) ? check.claims.uic.filter((c) => typeof c === 'string') : [];
  return { sub: check.claims.sub, ...pickClaims(profile, asked), ...profileClaims(profile, scopes) };
}
