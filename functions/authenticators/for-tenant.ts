import type { TenantContext } from '../http/handler.js';
import { createAuthenticatorService } from './service.js';
import type { AuthenticatorService } from './types.js';

/**
 * The authenticator service of the tenant a request is for: WebAuthn's relying party is the
 * tenant's host (without port) and its exact origin, mail goes through the region's mailer and TOTP
 * secrets are sealed by the region's secret box.
 */
export function authenticatorsFor(ctx: TenantContext): AuthenticatorService {
  return createAuthenticatorService(ctx.store, {
    mailer: ctx.services.mailer,
    secretBox: ctx.services.secretBox,
    rpId: new URL(ctx.origin).hostname,
    rpName: ctx.tenant.name,
    origin: ctx.origin,
  });
}
