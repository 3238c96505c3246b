import { initAuth, initAuthSchema } from '../federation/init-auth.js';
import { parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';

/** POST /init-auth — starts an Authsignal-style federated challenge flow for one user and action. */
export const handler = tenantHandler(
  async (req, ctx) => {
    await requireTenantSecret(req, ctx);
    const input = parseJson(req, initAuthSchema);
    return json(200, await initAuth(ctx.store, input));
  },
  { errors: 'b2c' },
);
