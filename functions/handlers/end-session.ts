import { ClientRepository } from '../clients/client-repository.js';
import { parseForm, parseParams } from '../http/body.js';
import { tenantHandler } from '../http/handler.js';
import { endSessionRequest } from '../oidc/end-session.js';
import { pickLocale, translator } from '../i18n.js';
import { page } from '../pages/layout.js';
import { logoutConfirm } from '../pages/login-views.js';
import { notice } from '../pages/interaction-views.js';

/** GET and POST /oidc/session/end — RP-Initiated Logout 1.0. */
export const handler = tenantHandler(
  async (req, ctx) => {
    const params = req.method === 'POST' ? parseForm(req) : parseParams(req.query);
    const outcome = await endSessionRequest(params, {
      store: ctx.store,
      clients: new ClientRepository(ctx.store, ctx.tenant),
      signer: ctx.services.signer,
      issuer: ctx.issuer,
      cookies: req.cookies,
      secure: ctx.origin.startsWith('https:'),
      confirmed: req.method === 'POST',
    });
    const locale = pickLocale(params.ui_locales, req.headers['accept-language']);
    const t = translator(locale);
    const pctx = {
      t,
      locale,
      tenantName: ctx.tenant.name,
      brandColor: (ctx.tenant as { brandColor?: string }).brandColor,
    };
    if (outcome.kind === 'redirect') {
      return {
        status: 303,
        headers: { location: outcome.location, 'cache-control': 'no-store' },
        cookies: [outcome.clearCookie],
      };
    }
    if (outcome.kind === 'confirm') {
      return page(
        pctx,
        t('logout_title'),
        logoutConfirm(t, { tenant: ctx.tenant.name, csrf: outcome.csrf, params: outcome.params }),
      );
    }
    return page(pctx, t('signed_out_title'), notice(t, 'closed_title', t('signed_out_text')), {
      ...(outcome.clearCookie ? { cookies: [outcome.clearCookie] } : {}),
    });
  },
  { errors: 'page' },
);
