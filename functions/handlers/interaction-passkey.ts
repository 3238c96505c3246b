import { withPasskeys } from '../authenticators/passkey.js';
import { tenantHandler } from '../http/handler.js';
import { interactionStep } from '../hosted/interaction-page.js';

/**
 * POST /interaction/{id}/passkey/{step} — the WebAuthn ceremonies of the hosted pages (options and
 * verification, for signing in and for enrolling). Their own function because
 * `@simplewebauthn/server` and its ASN.1 parsers are most of a bundle: the page itself and its
 * other steps start without them.
 */
export const handler = tenantHandler(
  (req, ctx) =>
    interactionStep(req, ctx, { passkeys: withPasskeys, step: `passkey-${req.pathParams.step ?? ''}` }),
  { errors: 'page' },
);
