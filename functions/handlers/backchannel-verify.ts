import { ClientRepository } from '../clients/client-repository.js';
import { tenantHandler } from '../http/handler.js';
import { startDecoupledLogin } from '../interaction/decoupled.js';
import { findByLinkId } from '../oidc/ciba.js';
import { notice } from '../pages/interaction-views.js';
import { pickLocale, translator } from '../i18n.js';
import { page } from '../pages/layout.js';

/**
 * GET /oidc/backchannel/verify?id=… — the link a CIBA request sends the user (by email, or through
 * the client with `channel: link`). It starts the hosted sign-in for that request: only the user
 * the client named can sign in and approve, and the approval page shows the binding message.
 * Opening it twice (or a mail scanner opening it) is harmless: one sign-in decides.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const found = await findByLinkId(ctx.store, req.query.get('id'));
    const client = found && (await new ClientRepository(ctx.store, ctx.tenant).get(found.grant.clientId));
    if (!found || !client) {
      const locale = pickLocale(undefined, req.headers['accept-language']);
      const t = translator(locale);
      return page(
        {
          t,
          locale,
          tenantName: ctx.tenant.name,
          ...(ctx.tenant.brandColor ? { brandColor: ctx.tenant.brandColor } : {}),
        },
        t('expired_title'),
        notice(t, 'expired_title', t('link_invalid')),
        { status: 400 },
      );
    }
    return startDecoupledLogin(req, ctx, {
      target: {
        kind: 'ciba',
        key: found.key,
        ...(found.grant.expectedUserId ? { expectedUserId: found.grant.expectedUserId } : {}),
        ...(found.grant.bindingMessage ? { bindingMessage: found.grant.bindingMessage } : {}),
      },
      client,
      scope: found.grant.scope,
    });
  },
  { errors: 'page' },
);
