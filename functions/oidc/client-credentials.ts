import type { Client } from '../clients/client.js';
import { invalidScope } from '../errors.js';
import { OFFLINE_ACCESS } from './refresh.js';
import { resolveAudiences, scopeTokens, type TokenEndpointDeps, type TokenRequest } from './token-request.js';
import { mintClientToken, type TokenResponse } from './tokens.js';

/** Scopes that only mean something for a user: never granted to a client acting for itself. */
const USER_ONLY_SCOPES = new Set(['openid', OFFLINE_ACCESS]);

/** The scopes a client may ask for with client_credentials: its registered ones minus the OIDC ones. */
export function clientCredentialScopes(client: Client): string[] {
  return scopeTokens(client.scope).filter((s) => !USER_ONLY_SCOPES.has(s));
}

/**
 * The client_credentials grant (RFC 6749 §4.4): a confidential client allowed the grant (the token
 * endpoint has checked both) gets an access token for itself. The scope must be among its allowed scopes (no `openid`, no
 * `offline_access`; without `scope`, all of them); `resource` / `audience` name the token's
 * audience, each one of the client's registered resources (RFC 8707), else the client id.
 */
export async function clientCredentialsGrant(
  { form, resources }: TokenRequest,
  client: Client,
  deps: Pick<TokenEndpointDeps, 'signer' | 'issuer' | 'dpopJkt'>,
): Promise<TokenResponse> {
  const allowed = clientCredentialScopes(client);
  let scopes = allowed;
  if (form.scope !== undefined) {
    const requested = scopeTokens(form.scope);
    const refused = requested.filter((s) => !allowed.includes(s));
    if (refused.length) throw invalidScope(`scope not allowed for this client: ${refused.join(' ')}`);
    scopes = requested;
  }
  const audiences = resolveAudiences(resources, client, [client.client_id]);
  return mintClientToken(deps.signer, deps.issuer, client, scopes.join(' '), audiences, deps.dpopJkt);
}
