import type { SecretBox } from '../crypto/secret-box.js';
import type { Mailer } from '../mail/mailer.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Texter } from '../texting/texter.js';
import type { Tenant } from '../tenants/tenant.js';
import { createAuthenticatorService, type PasskeysFactory } from './service.js';
import type { AuthenticatorService } from './types.js';

/**
 * The authenticator service of one tenant: WebAuthn's relying party is the tenant's host (without
 * port) and its exact origin, mail goes through the region's mailer and TOTP secrets are sealed by
 * the region's secret box. Passkey ceremonies only with `passkeys` (passkey.ts `withPasskeys`):
 * the hosted pages run them, the management API never does and so does not carry WebAuthn.
 */
export function authenticatorsFor(
  store: TenantStore,
  ports: { mailer: Mailer; texter?: Texter; secretBox: SecretBox },
  tenant: Pick<Tenant, 'name'>,
  origin: string,
  passkeys?: PasskeysFactory,
): AuthenticatorService {
  return createAuthenticatorService(
    store,
    {
      mailer: ports.mailer,
      ...(ports.texter ? { texter: ports.texter } : {}),
      secretBox: ports.secretBox,
      rpId: new URL(origin).hostname,
      rpName: tenant.name,
      origin,
    },
    passkeys,
  );
}
