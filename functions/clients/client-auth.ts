import { secretMatches } from '../crypto/secrets.js';
import { basicCredentials } from '../http/body.js';
import { badRequest, invalidClient } from '../http/errors.js';
import type { HttpRequest } from '../http/request.js';
import type { Tenant } from '../tenants/tenant.js';
import type { Client } from './client.js';
import type { ClientRepository } from './client-repository.js';

/**
 * Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic` or
 * `client_secret_post` for confidential clients, `none` (client_id only) for public ones. Using
 * more than one method at once is an error (RFC 6749 §2.3).
 */
export async function authenticateClient(
  req: HttpRequest,
  form: Record<string, string>,
  clients: ClientRepository,
  tenant: Tenant,
): Promise<Client> {
  const basic = basicCredentials(req);
  if (req.headers.authorization && !basic) throw invalidClient('unsupported Authorization scheme', true);
  if (basic && form.client_secret !== undefined) {
    throw badRequest('use one client authentication method, not both Basic and client_secret');
  }
  const clientId = basic?.user ?? form.client_id;
  if (!clientId) throw invalidClient('client_id is required', false);
  if (basic && form.client_id !== undefined && form.client_id !== basic.user) {
    throw badRequest('client_id in the body differs from the authenticated client');
  }
  const client = await clients.get(clientId);
  if (!client) throw invalidClient('unknown client or wrong secret', Boolean(basic));

  if (client.client_type === 'public') {
    if (basic || form.client_secret !== undefined) throw invalidClient('a public client does not send a secret', Boolean(basic));
    return client;
  }
  const presented = basic?.password ?? form.client_secret;
  if (!presented) throw invalidClient('client authentication is required', false);
  // The built-in client's secret is the tenant secret (API.md); others have their own.
  const hash = client.built_in ? tenant.secretHash : client.secret_hash;
  if (!hash || !secretMatches(presented, hash)) throw invalidClient('unknown client or wrong secret', Boolean(basic));
  return client;
}
