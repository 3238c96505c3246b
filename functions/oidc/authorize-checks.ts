import type { Client } from '../clients/client.js';
import type { ClientRepository } from '../clients/client-repository.js';
import type { ResponseMode } from '../records/authorization.js';
import { PageError, RedirectError } from './authorize-errors.js';

/**
 * The authorization endpoint's checks, one per rule, each throwing the error the spec names for it
 * (after node-oidc-provider's pipeline). The pushed authorization request endpoint runs the same
 * ones (RFC 9126 §2.1: a pushed request is validated as an authorization request would be).
 */
const MAX = { state: 8192, nonce: 2048, scope: 1024 } as const;

export async function checkClient(p: Record<string, string>, clients: ClientRepository): Promise<Client> {
  if (!p.client_id) throw new PageError(400, 'invalid_request', 'The request has no client_id.');
  const client = await clients.get(p.client_id);
  if (!client)
    throw new PageError(400, 'invalid_client', 'The application that sent you here is not registered.');
  return client;
}

export function checkRedirectUri(p: Record<string, string>, client: Client): string {
  const uri = p.redirect_uri;
  if (!uri) throw new PageError(400, 'invalid_request', 'The request has no redirect_uri.');
  // Exact string match against the registered URIs (RFC 6749 §3.1.2.3; OAuth 2.0 Security BCP §4.1.3).
  if (!client.redirect_uris.includes(uri)) {
    throw new PageError(
      400,
      'invalid_redirect_uri',
      'The redirect_uri is not registered for this application.',
    );
  }
  return uri;
}

export function checkResponseMode(p: Record<string, string>): ResponseMode {
  const mode = p.response_mode ?? 'query';
  if (mode !== 'query' && mode !== 'form_post') {
    throw new RedirectError('invalid_request', 'response_mode must be query or form_post');
  }
  return mode;
}

export function checkResponseType(p: Record<string, string>, federated: boolean): void {
  // The Authsignal-style federated flow's documented request omits response_type; `code` is the only one.
  const type = p.response_type ?? (federated ? 'code' : undefined);
  if (!type) throw new RedirectError('invalid_request', 'response_type is required');
  if (type !== 'code')
    throw new RedirectError('unsupported_response_type', 'only response_type=code is supported');
}

export function checkScope(p: Record<string, string>, client: Client, federated: boolean): string {
  const requested = (p.scope ?? (federated ? 'openid' : '')).split(' ').filter(Boolean);
  if (requested.length === 0) throw new RedirectError('invalid_scope', 'scope is required');
  if (p.scope && p.scope.length > MAX.scope) throw new RedirectError('invalid_scope', 'scope is too long');
  const allowed = new Set(client.scope.split(' '));
  const refused = requested.filter((s) => !allowed.has(s));
  if (refused.length)
    throw new RedirectError('invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  return [...new Set(requested)].join(' ');
}

export function checkPkce(
  p: Record<string, string>,
  client: Client,
): { codeChallenge?: string; codeChallengeMethod?: 'S256' } {
  const challenge = p.code_challenge;
  if (!challenge) {
    if (client.require_pkce)
      throw new RedirectError('invalid_request', 'code_challenge is required (PKCE, S256)');
    if (p.code_challenge_method)
      throw new RedirectError('invalid_request', 'code_challenge_method without code_challenge');
    return {};
  }
  // Only S256 (RFC 7636 §4.2; "plain" adds nothing over no PKCE).
  if ((p.code_challenge_method ?? 'plain') !== 'S256') {
    throw new RedirectError('invalid_request', 'code_challenge_method must be S256');
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    throw new RedirectError('invalid_request', 'code_challenge is not an S256 challenge');
  return { codeChallenge: challenge, codeChallengeMethod: 'S256' };
}

/**
 * RFC 9449 §10: `dpop_jkt` binds the authorization code to a DPoP key, whose proof the token
 * request must then carry. A JWK SHA-256 thumbprint is 43 base64url characters (RFC 7638).
 */
export function checkDpopJkt(p: Record<string, string>): { dpopJkt?: string } {
  if (p.dpop_jkt === undefined) return {};
  if (!/^[A-Za-z0-9_-]{43}$/.test(p.dpop_jkt))
    throw new RedirectError('invalid_request', 'dpop_jkt is not a JWK SHA-256 thumbprint (RFC 9449 §10)');
  return { dpopJkt: p.dpop_jkt };
}

export function checkLengths(p: Record<string, string>): void {
  if ((p.state?.length ?? 0) > MAX.state)
    throw new RedirectError('invalid_request', `state is longer than ${MAX.state} characters`);
  if ((p.nonce?.length ?? 0) > MAX.nonce)
    throw new RedirectError('invalid_request', `nonce is longer than ${MAX.nonce} characters`);
}

/** RFC 9126 §4 and §6: a client that must use PAR is refused a request that was not pushed. */
export function checkPushed(client: Client, pushed: boolean): void {
  if (client.require_pushed_authorization_requests && !pushed)
    throw new RedirectError('invalid_request', 'this client must use pushed authorization requests (PAR)');
}

/** RFC 9101 §5: `request` and `request_uri` are never sent together (a pushed one is not re-sent either). */
export function checkNotBothRequestAndUri(query: Record<string, string>): void {
  if (query.request !== undefined && query.request_uri !== undefined)
    throw new RedirectError('invalid_request', 'request and request_uri must not both be sent (RFC 9101 §5)');
}

/**
 * RFC 9101 §10.5 `require_signed_request_object`: such a client's authorization requests count only
 * when they come as a verified request object, sent directly or pushed (RFC 9126 §3).
 */
export function checkSignedRequestObject(client: Client, signed: boolean): void {
  if (client.require_signed_request_object && !signed)
    throw new RedirectError(
      'invalid_request',
      'this client must send its requests as a signed request object',
    );
}
