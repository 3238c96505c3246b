import type { CodeSeal } from './code-seal.js';
import type { Client } from '../clients/client.js';
import { resourceUriSchema } from '../clients/client-uris.js';
import { invalidTarget } from '../errors.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';

export interface TokenRequest {
  /** Every parameter but `resource`, each present once (RFC 6749 §3.2). */
  form: Record<string, string>;
  /** RFC 8707 `resource` values (the one parameter that may repeat), plus an `audience` if sent. */
  resources: string[];
}

/** The ports a token, revocation or introspection request needs: the tenant's items, the signer. */
export interface TokenEndpointDeps {
  store: TenantStore;
  signer: Signer;
  /** The tenant's issuer (`iss` of what is minted, and the only one accepted). */
  issuer: string;
  /**
   * The JWK thumbprint of the key a valid DPoP proof of this request was signed with (RFC 9449
   * §5); absent for a request without a proof. Access tokens minted for it are bound to that key.
   */
  dpopJkt?: string;
  /** Opens codes that carry their grant (`code-seal.ts`); without it every code's item is read. */
  codeSeal?: CodeSeal;
  now?: number;
}

/**
 * A token, revocation or introspection request from its parameters, which the edge has read
 * without repeats (RFC 6749 §3.2) apart from `resource`, the one parameter RFC 8707 §2 lets a
 * client send several times. `audience` (as Auth0 names it) names a resource the same way.
 */
export function tokenRequest(form: Record<string, string>, resources: string[]): TokenRequest {
  const all = form.audience !== undefined ? [...resources, form.audience] : resources;
  return { form, resources: [...new Set(all)] };
}

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
