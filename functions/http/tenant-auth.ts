import { limitAuthenticationFailures } from '../clients/auth-failures.js';
import { secretMatches } from '../crypto/secrets.js';
import type { TenantContext } from './handler.js';
import { unauthorized } from './errors.js';
import { basicCredentials } from './body.js';
import type { HttpRequest } from './request.js';

/**
 * Basic auth with the tenant's API secret, in every form found in the wild:
 * `secret:` (Authsignal's documented form), `secret:secret` (Azure AD B2C sends the same policy key
 * as user and password) and `<tenant id>:secret` (the built-in client's client_secret_basic).
 * Failures are limited per source IP and per tenant (`clients/auth-failures.ts`): 429 with
 * Retry-After once over the limit.
 */
export function requireTenantSecret(req: HttpRequest, ctx: TenantContext): Promise<void> {
  return limitAuthenticationFailures(ctx.store, req.sourceIp, () => checkTenantSecret(req, ctx));
}

/** The check itself, without the failure limits: throws 401 unless the request carries the secret. */
export function checkTenantSecret(req: HttpRequest, ctx: Pick<TenantContext, 'tenant'>): void {
  const creds = basicCredentials(req);
  if (!creds) throw unauthorized('Basic authentication with the tenant secret is required');
  const { user, password } = creds;
  const { secretHash, id } = ctx.tenant;
  let ok = false;
  if (password === '' || password === user) ok = secretMatches(user, secretHash);
  else if (user === id) ok = secretMatches(password, secretHash);
  if (!ok) throw unauthorized('the tenant secret is not valid');
}
