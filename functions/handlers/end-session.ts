import { ClientRepository } from '../clients/client-repository.js';
import { parseForm, parseParams } from '../http/body.js';
import { tenantHandler } from '../http/handler.js';
import { logoutPage } from '../hosted/logout-page.js';
import { pickLocale } from '../i18n.js';
import { endSessionRequest } from '../oidc/end-session.js';
import { schemeCookies } from '../sessions/cookies.js';

/** GET and POST /oidc/session/end — RP-Initiated Logout 1.0. */
export const handler = tenantHandler(
  async (req, ctx) => {
    const params = req.method === 'POST' ? parseForm(req) : parseParams(req.query);
    const outcome = await endSessionRequest(params, {
      store: ctx.store,
      clients: new ClientRepository(ctx.store, ctx.tenant),
      signer: ctx.signer,
      issuer: ctx.issuer,
      delivery: ctx.services.logoutDelivery,
      cookies: schemeCookies(req.cookies, ctx.origin.startsWith('https:')),
      secure: ctx.origin.startsWith('https:'),
      confirmed: req.method === 'POST',
      from: { sourceIp: req.sourceIp, userAgent: req.userAgent },
    });
    return logoutPage(outcome, ctx.tenant, pickLocale(params.ui_locales, req.headers['accept-language']));
  },
  { errors: 'page' },
);
