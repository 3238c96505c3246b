import type { Client } from '../clients/client.js';
import { resourceUriSchema } from '../clients/client.js';
import { parseForm } from '../http/body.js';
import { ProtocolError } from '../errors.js';
import type { HttpRequest } from '../http/request.js';

export interface TokenRequest {
  /** Every parameter but `resource`, each present once (RFC 6749 §3.2). */
  form: Record<string, string>;
  /** RFC 8707 `resource` values (the one parameter that may repeat), plus an `audience` if sent. */
  resources: string[];
}

/**
 * Parses a form for the token, revocation or introspection endpoint. Parameters must not repeat
 * (RFC 6749 §3.2), except `resource`, which RFC 8707 §2 lets a client send several times.
 */
export function parseTokenRequest(req: HttpRequest): TokenRequest {
  const all = new URLSearchParams(req.body);
  const resources = all.getAll('resource');
  all.delete('resource');
  // parseForm checks the media type and the size of the original body, then refuses repeats.
  const form = parseForm({ ...req, body: all.toString() });
  // `audience` (Auth0-style, reference 002) names a resource the same way.
  if (form.audience !== undefined) resources.push(form.audience);
  return { form, resources: [...new Set(resources)] };
}

export const invalidTarget = (description: string) => new ProtocolError(400, 'invalid_target', description);

/**
 * The access token's audiences for the requested resources (RFC 8707 §2): each must be an absolute
 * URI without a fragment and among the resources the client may ask for (and, when the grant
 * already names resources, among those); else `invalid_target`. No resource: `fallback`.
 */
export function resolveAudiences(
  requested: string[],
  client: Client,
  fallback: string[],
  granted?: string[],
): string[] {
  if (requested.length === 0) return fallback;
  for (const resource of requested) {
    if (!resourceUriSchema.safeParse(resource).success) {
      throw invalidTarget(`"${resource.slice(0, 200)}" is not an absolute URI without a fragment`);
    }
    if (!client.resources.includes(resource) || (granted?.length && !granted.includes(resource))) {
      throw invalidTarget(`the resource "${resource.slice(0, 200)}" is not allowed for this client`);
    }
  }
  return requested;
}

/** The space-separated scope tokens of a `scope` parameter, each once, in order. */
export function scopeTokens(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}
