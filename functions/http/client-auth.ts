import { limitAuthenticationFailures } from '../clients/auth-failures.js';
import { authenticateClient, formCredentials, type ClientCredentials } from '../clients/client-auth.js';
import type { Client } from '../clients/client.js';
import { invalidClient } from '../errors.js';
import { basicCredentials } from './body.js';
import type { TenantContext } from './handler.js';
import type { HttpRequest } from './request.js';

/**
 * The credentials a request presents: `Authorization: Basic` and the client authentication form
 * parameters. Any other Authorization scheme is refused here: the token endpoint knows no other
 * (RFC 6749 §2.3).
 */
export function clientCredentials(req: HttpRequest, form: Record<string, string>): ClientCredentials {
  const basic = basicCredentials(req);
  if (req.headers.authorization && !basic) throw invalidClient('unsupported Authorization scheme');
  return {
    ...(basic ? { basic: { clientId: basic.user, secret: basic.password } } : {}),
    ...formCredentials(form),
  };
}

/**
 * Authenticates the client of a request to `<issuer><endpointPath>` (see `authenticateClient`);
 * failures (wrong secrets, bad assertions, unknown clients) are limited per source IP and per
 * tenant (`clients/auth-failures.ts`).
 */
export function authenticateClientAt(
  req: HttpRequest,
  form: Record<string, string>,
  ctx: TenantContext,
  endpointPath: string,
): Promise<Client> {
  return limitAuthenticationFailures(ctx.store, req.sourceIp, () =>
    authenticateClient(
      clientCredentials(req, form),
      { store: ctx.store, tenant: ctx.tenant, issuer: ctx.issuer },
      endpointPath,
    ),
  );
}
