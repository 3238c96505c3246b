import { ClientRepository } from '../clients/client-repository.js';
import type { TenantContext } from '../http/handler.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import { pickLocale } from '../i18n.js';
import { findByLinkId } from '../oidc/ciba.js';
import { startDecoupledLogin } from './decoupled.js';
import { pageResponse } from './respond.js';
import { pageContext } from './views/layout.js';
import { notice } from './views/notice.js';

/**
 * The link a CIBA request sends the user (by email, or through the client with `channel: link`).
 * It starts the hosted sign-in for that request: only the user the client named can sign in and
 * approve, and the approval page shows the binding message. Opening it twice (or a mail scanner
 * opening it) is harmless: one sign-in decides.
 */
export async function cibaLinkPage(req: HttpRequest, ctx: TenantContext): Promise<HttpResponse> {
  const found = await findByLinkId(ctx.store, req.query.get('id'));
  const client = found && (await new ClientRepository(ctx.store, ctx.tenant).get(found.grant.clientId));
  if (!found || !client) {
    const page = pageContext(ctx.tenant, pickLocale(undefined, req.headers['accept-language']));
    return pageResponse(
      page,
      page.t('expired_title'),
      notice(page.t, 'expired_title', page.t('link_invalid')),
      {
        status: 400,
      },
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
    acrValues: found.grant.acrValues ?? [],
  });
}
