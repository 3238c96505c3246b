import { tokenRequest, type TokenRequest } from '../oidc/token-request.js';
import { formParams, parseParams } from './body.js';
import type { HttpRequest } from './request.js';

/**
 * Reads the form of a token, revocation or introspection request. Parameters must not repeat
 * (RFC 6749 §3.2), except `resource`, which RFC 8707 §2 lets a client send several times.
 */
export function parseTokenRequest(req: HttpRequest): TokenRequest {
  // Media type and size of the whole body checked first; then every parameter but `resource`
  // (RFC 8707 §2: it may repeat) is refused when repeated.
  const all = formParams(req);
  const resources = all.getAll('resource');
  all.delete('resource');
  return tokenRequest(parseParams(all), resources);
}
