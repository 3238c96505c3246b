import { ClientRepository } from '../clients/client-repository.js';
import { audit } from '../http/audit.js';
import { json, tenantHandler } from '../http/handler.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { notifyLogout } from '../oidc/backchannel-logout.js';
import { endUserSessions } from '../sessions/session.js';
import { userIdSchema } from '../users/user-schemas.js';
import { validate } from '../validate.js';

/**
 * DELETE /v1/users/{userId}/sessions — ends every SSO session of the user (the next authorization
 * request asks them to sign in) and tells the clients of those sessions (Back-Channel Logout 1.0
 * §2.5). Tokens already issued stay valid until they expire or are revoked; deleting the user
 * revokes them too. Answers how many sessions ended.
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  const userId = validate(userIdSchema, req.pathParams.userId);
  const ended = await endUserSessions(ctx.store, userId);
  if (ended.length)
    await audit(req, ctx).record({ type: 'session.ended', detail: { userId, reason: 'ended_by_tenant' } });
  await notifyLogout(ended, {
    clients: new ClientRepository(ctx.store, ctx.tenant),
    signer: ctx.signer,
    issuer: ctx.issuer,
    delivery: ctx.services.logoutDelivery,
  });
  return json(200, { ended: ended.length });
});
