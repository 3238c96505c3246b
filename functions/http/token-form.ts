import { tokenRequest, type TokenRequest } from '../oidc/token-request.js';
import { parseForm } from './body.js';
import type { HttpRequest } from './request.js';

/**
 * Reads the form of a token, revocation or introspection request. Parameters must not repeat
 * (RFC 6749 §3.2), except `resource`, which RFC 8707 §2 lets a client send several times.
 */
export function parseTokenRequest(req: HttpRequest): TokenRequest {
  const all = new URLSearchParams(req.body);
  const resources = all.getAll('resource');
  all.delete('resource');
  // parseForm checks the media type and the size of the original body, then refuses repeats.
  const form = parseForm({ ...req, body: all.toString() });
  return tokenRequest(form, resources);
}
