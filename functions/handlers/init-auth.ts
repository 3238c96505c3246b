import { initAuth, initAuthSchema } from '../federation/init-auth.js';
import { parseJson } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { metric } from '../metrics.js';

/** POST /init-auth — starts an Authsignal-style federated challenge flow for one user and action. */
export const handler = tenantHandler(
  async (req, ctx) => {
    await requireTenantSecret(req, ctx);
    const input = parseJson(req, initAuthSchema);
    const started = await initAuth(ctx.store, input);
    metric('FlowsStarted', {});
    return json(200, started);
  },
  { errors: 'b2c' },
);
