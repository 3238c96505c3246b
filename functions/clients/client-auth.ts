import { secretMatches } from '../crypto/secrets.js';
import { badRequest, invalidClient } from '../errors.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Tenant } from '../tenants/tenant.js';
import {
  assertionClientId,
  JWT_BEARER_ASSERTION,
  verifyClientAssertion,
  type AssertionContext,
} from './client-assertion.js';
import type { Client, TokenEndpointAuthMethod } from './client.js';
import { ClientRepository } from './client-repository.js';

/** What a client presented to authenticate, as the edge read it from the request. */
export interface ClientCredentials {
  /** `Authorization: Basic` (client_secret_basic), each part already form-decoded (RFC 6749 §2.3.1). */
  basic?: { clientId: string; secret: string };
  /** The `client_id` form parameter. */
  clientId?: string;
  /** The `client_secret` form parameter (client_secret_post). */
  clientSecret?: string;
  /** The `client_assertion` form parameter (private_key_jwt, RFC 7523 §2.2). */
  assertion?: string;
  /** The `client_assertion_type` form parameter. */
  assertionType?: string;
}

/** The form parameters that authenticate a client (RFC 6749 §2.3.1, RFC 7523 §2.2). */
export function formCredentials(form: Record<string, string>): Omit<ClientCredentials, 'basic'> {
  return {
    ...(form.client_id !== undefined ? { clientId: form.client_id } : {}),
    ...(form.client_secret !== undefined ? { clientSecret: form.client_secret } : {}),
    ...(form.client_assertion !== undefined ? { assertion: form.client_assertion } : {}),
    ...(form.client_assertion_type !== undefined ? { assertionType: form.client_assertion_type } : {}),
  };
}

export interface ClientAuthDeps {
  store: TenantStore;
  tenant: Tenant;
  /** The tenant's issuer: assertions may name it (or an endpoint under it) as their audience. */
  issuer: string;
  now?: number;
}

/**
 * Client authentication at one of this tenant's client-authenticated endpoints (token, PAR, device
 * authorization, CIBA, revocation, introspection), all with the token endpoint's methods (RFC 6749
 * §2.3.1): `client_secret_basic` or `client_secret_post` for confidential clients with a secret,
 * `private_key_jwt` (RFC 7523 client assertions, verified against the client's registered JWKS)
 * for clients that registered it, `none` (client_id only) for public ones. Using more than one
 * method at once is an error (RFC 6749 §2.3). A private_key_jwt assertion may name the issuer, the
 * token endpoint or the endpoint itself as its audience (RFC 7523 §3; RFC 9126 §2).
 */
export async function authenticateClient(
  credentials: ClientCredentials,
  deps: ClientAuthDeps,
  endpointPath: string,
): Promise<Client> {
  const { basic, assertion } = credentials;
  const methods = [basic, credentials.clientSecret, assertion ?? credentials.assertionType].filter(
    (m) => m !== undefined,
  );
  if (methods.length > 1) {
    throw badRequest(
      'use one client authentication method, not several (Basic, client_secret, client_assertion)',
    );
  }
  const clients = new ClientRepository(deps.store, deps.tenant);
  if (assertion !== undefined || credentials.assertionType !== undefined) {
    const { issuer } = deps;
    const audiences = [...new Set([issuer, `${issuer}/token`, `${issuer}${endpointPath}`])];
    return authenticateWithAssertion(credentials, clients, {
      store: deps.store,
      audiences,
      ...(deps.now !== undefined ? { now: deps.now } : {}),
    });
  }
  const clientId = basic?.clientId ?? credentials.clientId;
  if (!clientId) throw invalidClient('client_id is required');
  if (basic && credentials.clientId !== undefined && credentials.clientId !== basic.clientId) {
    throw badRequest('client_id in the body differs from the authenticated client');
  }
  const client = await clients.get(clientId);
  if (!client) throw invalidClient('unknown client or wrong secret');

  if (client.client_type === 'public') {
    if (basic || credentials.clientSecret !== undefined)
      throw invalidClient('a public client does not send a secret');
    return client;
  }
  if (client.token_endpoint_auth_method === 'private_key_jwt') {
    throw invalidClient('this client authenticates with private_key_jwt (a client_assertion)');
  }
  const presented = basic?.secret ?? credentials.clientSecret;
  if (!presented) throw invalidClient('client authentication is required');
  const used: TokenEndpointAuthMethod = basic ? 'client_secret_basic' : 'client_secret_post';
  if (!acceptedSecretMethods(client).includes(used)) {
    throw invalidClient(`this client is registered for ${client.token_endpoint_auth_method}, not ${used}`);
  }
  // The built-in client's secret is the tenant secret (its client_id is the tenant id); others have their own.
  const hash = client.built_in ? deps.tenant.secretHash : client.secret_hash;
  if (!hash || !secretMatches(presented, hash)) throw invalidClient('unknown client or wrong secret');
  return client;
}

/**
 * The built-in client is registered for both secret methods, on purpose: Azure AD B2C's OpenID
 * Connect technical profile sends `client_secret_post`, and the tenant-secret Basic form
 * `<tenant id>:<secret>` is its documented `client_secret_basic` (docs/api.md). Its secret is the
 * tenant secret, which the management API already takes in Basic, so accepting both exposes
 * nothing new. Every other client uses exactly the method it registered (OIDC Core §9: the
 * registered method is the one the client uses; RFC 7591 §2).
 */
export const BUILT_IN_SECRET_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_post',
  'client_secret_basic',
];

function acceptedSecretMethods(client: Client): readonly TokenEndpointAuthMethod[] {
  const method = client.token_endpoint_auth_method;
  if (client.built_in && BUILT_IN_SECRET_METHODS.includes(method)) return BUILT_IN_SECRET_METHODS;
  return [method];
}

async function authenticateWithAssertion(
  credentials: ClientCredentials,
  clients: ClientRepository,
  ctx: AssertionContext,
): Promise<Client> {
  if (credentials.assertionType !== JWT_BEARER_ASSERTION) {
    throw invalidClient(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  }
  const { assertion } = credentials;
  if (!assertion) throw invalidClient('client_assertion is required with client_assertion_type');
  if (assertion.length > 8192) throw invalidClient('the client assertion is too large');
  const clientId = assertionClientId(assertion);
  if (!clientId)
    throw invalidClient('the client assertion must be a JWT whose iss and sub are the client_id');
  if (credentials.clientId !== undefined && credentials.clientId !== clientId) {
    throw invalidClient('client_id differs from the client assertion');
  }
  const client = await clients.get(clientId);
  if (!client) throw invalidClient('unknown client');
  await verifyClientAssertion(assertion, client, ctx);
  return client;
}
