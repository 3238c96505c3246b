import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import type { TenantStore } from '../store/tenant-store.js';
import { PageError } from './authorize-errors.js';

/**
 * The authorization endpoint's side of Pushed Authorization Requests (RFC 9126 §4): a `request_uri`
 * from `POST /oidc/request` stands for the parameters the client pushed. Only the hash of its random
 * part is stored, under a short TTL, and it is consumed on first use (RFC 9126 §7.3).
 */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
/** Lifetime of a pushed request (RFC 9126 §2.2: "typically between 5 and 600 seconds"). */
export const PAR_TTL_SECONDS = 60;

export const pushedRequestKey = (reference: string) => ({ pk: `par#${sha256(reference)}`, sk: 'par' });

export interface PushedRequest {
  clientId: string;
  /** The pushed authorization request parameters, as JSON (client authentication removed). */
  params: string;
  /** The parameters came from a verified request object (RFC 9101 §5, RFC 9126 §3). */
  signed?: boolean;
  expiresAt: number;
  consumedAt?: number;
}

const REFERENCE = /^[A-Za-z0-9_-]{43}$/;

const unusable = () =>
  new PageError(
    400,
    'invalid_request_uri',
    'The sign-in request is unknown, has expired or has already been used. Return to the application and start again.',
  );

/**
 * The parameters of an authorization request: with `request_uri`, those that were pushed (and the
 * `client_id`), every other query parameter ignored (RFC 9126 §4); without it, the request itself.
 * A `request_uri` that cannot be used is shown on a page, never redirected: the redirect URI it
 * would name is not known yet. Only such pushed references are accepted: a `request_uri` naming
 * anything else is never fetched (RFC 9101 §10.4: fetching arbitrary URIs turns the provider into a
 * request-forgery tool against its own network, SSRF), so discovery says
 * `request_uri_parameter_supported: false` (RFC 9126 §5 lets PAR work regardless).
 */
export async function resolveRequestUri(
  p: Record<string, string>,
  store: TenantStore,
): Promise<{ params: Record<string, string>; pushed: boolean; signed: boolean }> {
  const uri = p.request_uri;
  if (uri === undefined) return { params: p, pushed: false, signed: false };
  if (!p.client_id) throw new PageError(400, 'invalid_request', 'The request has no client_id.');
  const reference = uri.startsWith(REQUEST_URI_PREFIX) ? uri.slice(REQUEST_URI_PREFIX.length) : '';
  if (!REFERENCE.test(reference)) throw unusable();
  const key = pushedRequestKey(reference);
  const found = await store.get<PushedRequest & Record<string, unknown>>(key);
  if (!found || found.consumedAt !== undefined) throw unusable();
  // RFC 9126 §2.2: the request_uri is bound to the client that pushed it. Checked before it is
  // consumed, so another client cannot use up someone else's request.
  if (!constantTimeEqual(found.clientId, p.client_id)) {
    throw new PageError(
      400,
      'invalid_request_uri',
      'The sign-in request was not made by the application that sent you here.',
    );
  }
  const used = await store.consume<PushedRequest & Record<string, unknown>>(key);
  if (used.status !== 'consumed') throw unusable();
  const params = JSON.parse(used.item.params) as Record<string, string>;
  return {
    params: { ...params, client_id: used.item.clientId },
    pushed: true,
    signed: used.item.signed === true,
  };
}
