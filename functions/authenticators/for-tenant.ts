import type { TenantContext } from '../http/handler.js';
import { createAuthenticatorService } from './service.js';
import type { AuthenticatorService } from './types.js';

/**
 * The authenticator service of the tenant a request is for: WebAuthn's relying party is the
 * tenant's host (without port) and its exact origin, and mail goes through the region's mailer.
 */
export function authenticatorsFor(ctx: TenantContext): AuthenticatorService {
  return createAuthenticatorService(ctx.store, {
    mailer: ctx.services.mailer,
    rpId: new URL(ctx.origin).hostname,
    rpName: ctx.tenant.name,
    origin: ctx.origin,
  });
}
