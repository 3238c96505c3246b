import type { Client } from '../clients/client.js';
import { invalidClient, invalidRequest } from '../errors.js';
import { looksLikeJwt, verifyAccessToken } from './access-tokens.js';
import { readRefreshToken, refreshTokenActive } from './refresh.js';
import type { TokenEndpointDeps } from './token-request.js';
import { ACTION_CLAIMS, type TokenSubject } from './tokens.js';

/** The `token` parameter of revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1). */
export function requireToken(form: Record<string, string>): string {
  const token = form.token;
  if (!token) throw invalidRequest('token is required');
  return token;
}

/** Which kind to look at first; RFC 7009 §2.1 and RFC 7662 §2.1 let the server search both anyway. */
export function kindOf(token: string): 'access_token' | 'refresh_token' {
  return looksLikeJwt(token) ? 'access_token' : 'refresh_token';
}

/**
 * Who may learn about a token: the client it was issued to, a client named in its audience (a
 * resource server registered as a client), or the tenant's built-in client. Anyone else is told
 * `active: false`, as for a token that does not exist (RFC 7662 §2.2).
 */
function mayIntrospect(caller: Client, tokenClientId: string, aud: string | string[] | undefined): boolean {
  if (caller.built_in || caller.client_id === tokenClientId) return true;
  return (Array.isArray(aud) ? aud : aud ? [aud] : []).includes(caller.client_id);
}

function actionClaimsOf(subject: Pick<TokenSubject, 'action'>): Record<string, unknown> {
  const a = subject.action;
  return a
    ? {
        action: a.code,
        action_code: a.code,
        action_state: a.state,
        is_enrolled: a.isEnrolled,
        idempotency_key: a.idempotencyKey,
      }
    : {};
}

/**
 * Token introspection (RFC 7662 §2): `{ active: false }` for anything invalid, expired, revoked, of
 * another tenant or not the caller's business; for a live token its scope, client, subject,
 * lifetime, audience and issuer, plus the federated action claims when it carries them.
 */
export async function introspect(
  form: Record<string, string>,
  client: Client,
  deps: TokenEndpointDeps,
): Promise<Record<string, unknown>> {
  if (client.client_type !== 'confidential') {
    throw invalidClient('a public client cannot introspect tokens: authenticate as a confidential client');
  }
  const token = requireToken(form);
  const inactive = { active: false };
  if (kindOf(token) === 'access_token') {
    const check = await verifyAccessToken(token, deps);
    if (!check.active) return inactive;
    const c = check.claims;
    if (!mayIntrospect(client, c.client_id, c.aud)) return inactive;
    const extra: Record<string, unknown> = {};
    for (const name of ACTION_CLAIMS) if (c[name] !== undefined) extra[name] = c[name];
    return {
      active: true,
      ...(c.scope !== undefined ? { scope: c.scope } : {}),
      client_id: c.client_id,
      sub: c.sub,
      exp: c.exp,
      iat: c.iat,
      // RFC 9449 §6.2: a DPoP-bound token is reported with its key's thumbprint.
      token_type: c.cnf?.jkt ? 'DPoP' : 'Bearer',
      ...(c.cnf?.jkt ? { cnf: { jkt: c.cnf.jkt } } : {}),
      aud: c.aud,
      iss: c.iss,
      jti: c.jti,
      ...(c.auth_time !== undefined ? { auth_time: c.auth_time } : {}),
      ...extra,
    };
  }
  const item = await readRefreshToken(deps.store, token);
  if (!item || !(await refreshTokenActive(deps.store, item, deps.now))) return inactive;
  if (!mayIntrospect(client, item.clientId, undefined)) return inactive;
  return {
    active: true,
    scope: item.scope,
    client_id: item.clientId,
    sub: item.userId,
    exp: item.expiresAt,
    iat: item.issuedAt,
    token_type: 'refresh_token',
    aud: item.clientId,
    iss: deps.issuer,
    auth_time: item.authTime,
    ...actionClaimsOf(item),
  };
}
