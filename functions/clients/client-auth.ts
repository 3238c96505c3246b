import type { TenantContext } from '../http/handler.js';
import { secretMatches } from '../crypto/secrets.js';
import { basicCredentials } from '../http/body.js';
import { badRequest, invalidClient } from '../errors.js';
import type { HttpRequest } from '../http/request.js';
import type { Tenant } from '../tenants/tenant.js';
import {
  assertionClientId,
  JWT_BEARER_ASSERTION,
  verifyClientAssertion,
  type AssertionContext,
} from './client-assertion.js';
import type { Client } from './client.js';
import { ClientRepository } from './client-repository.js';

/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3.1):
 * `client_secret_basic` or `client_secret_post` for confidential clients with a secret,
 * `private_key_jwt` (RFC 7523 client assertions, verified against the client's registered JWKS)
 * for clients that registered it, `none` (client_id only) for public ones. Using more than one
 * method at once is an error (RFC 6749 §2.3).
 *
 * `assertions` is needed to accept `private_key_jwt`: where used `jti`s are remembered and which
 * audiences are ours. Without it an assertion is refused.
 */
export async function authenticateClient(
  req: HttpRequest,
  form: Record<string, string>,
  clients: ClientRepository,
  tenant: Tenant,
  assertions?: AssertionContext,
): Promise<Client> {
  const basic = basicCredentials(req);
  if (req.headers.authorization && !basic) throw invalidClient('unsupported Authorization scheme');
  const assertion = form.client_assertion;
  const methods = [basic, form.client_secret, assertion ?? form.client_assertion_type].filter(
    (m) => m !== undefined,
  );
  if (methods.length > 1) {
    throw badRequest(
      'use one client authentication method, not several (Basic, client_secret, client_assertion)',
    );
  }
  if (assertion !== undefined || form.client_assertion_type !== undefined) {
    return authenticateWithAssertion(form, clients, assertions);
  }
  const clientId = basic?.user ?? form.client_id;
  if (!clientId) throw invalidClient('client_id is required');
  if (basic && form.client_id !== undefined && form.client_id !== basic.user) {
    throw badRequest('client_id in the body differs from the authenticated client');
  }
  const client = await clients.get(clientId);
  if (!client) throw invalidClient('unknown client or wrong secret');

  if (client.client_type === 'public') {
    if (basic || form.client_secret !== undefined)
      throw invalidClient('a public client does not send a secret');
    return client;
  }
  if (client.token_endpoint_auth_method === 'private_key_jwt') {
    throw invalidClient('this client authenticates with private_key_jwt (a client_assertion)');
  }
  const presented = basic?.password ?? form.client_secret;
  if (!presented) throw invalidClient('client authentication is required');
  // The built-in client's secret is the tenant secret (API.md); others have their own.
  const hash = client.built_in ? tenant.secretHash : client.secret_hash;
  if (!hash || !secretMatches(presented, hash)) throw invalidClient('unknown client or wrong secret');
  return client;
}

async function authenticateWithAssertion(
  form: Record<string, string>,
  clients: ClientRepository,
  ctx: AssertionContext | undefined,
): Promise<Client> {
  if (form.client_assertion_type !== JWT_BEARER_ASSERTION) {
    throw invalidClient(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  }
  const assertion = form.client_assertion;
  if (!assertion) throw invalidClient('client_assertion is required with client_assertion_type');
  if (!ctx) throw invalidClient('client assertions are not accepted here');
  if (assertion.length > 8192) throw invalidClient('the client assertion is too large');
  const clientId = assertionClientId(assertion);
  if (!clientId)
    throw invalidClient('the client assertion must be a JWT whose iss and sub are the client_id');
  if (form.client_id !== undefined && form.client_id !== clientId) {
    throw invalidClient('client_id differs from the client assertion');
  }
  const client = await clients.get(clientId);
  if (!client) throw invalidClient('unknown client');
  await verifyClientAssertion(assertion, client, ctx);
  return client;
}

/**
 * Client authentication at one of this tenant's client-authenticated endpoints (token, PAR, device
 * authorization, CIBA, revocation, introspection), all with the token endpoint's methods. A
 * private_key_jwt assertion may name the issuer, the token endpoint or the endpoint itself as its
 * audience (RFC 7523 §3; RFC 9126 §2).
 */
export function authenticateClientAt(
  req: HttpRequest,
  form: Record<string, string>,
  ctx: Pick<TenantContext, 'store' | 'tenant' | 'issuer'>,
  endpointPath: string,
): Promise<Client> {
  const audiences = [...new Set([ctx.issuer, `${ctx.issuer}/token`, `${ctx.issuer}${endpointPath}`])];
  return authenticateClient(req, form, new ClientRepository(ctx.store, ctx.tenant), ctx.tenant, {
    store: ctx.store,
    audiences,
  });
}
