import { authenticateClientAt } from '../http/client-auth.js';
import { parseForm } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { deviceAuthorization } from '../oidc/device.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * POST /oidc/device/auth — the device authorization endpoint (RFC 8628 §3.1): client
 * authentication as at the token endpoint (public clients send their client_id only), then a
 * device code, a user code and where the user enters it.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const form = parseForm(req);
    const client = await authenticateClientAt(req, form, ctx, '/device/auth');
    return json(
      200,
      await deviceAuthorization(form, client, { store: ctx.store, issuer: ctx.issuer }),
      NO_STORE,
    );
  },
  { errors: 'oauth' },
);
