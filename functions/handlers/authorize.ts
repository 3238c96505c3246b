import { ClientRepository } from '../clients/client-repository.js';
import { parseForm, parseParams } from '../http/body.js';
import { tenantHandler } from '../http/handler.js';
import { authorizationResponse } from '../hosted/authorization-response.js';
import { bindingCookie } from '../hosted/binding.js';
import { seeOther } from '../hosted/respond.js';
import { authorize } from '../oidc/authorize.js';
import { schemeCookies } from '../sessions/cookies.js';

/**
 * GET and POST /oidc/auth — the authorization endpoint (OIDC Core §3.1.2; POST carries the same
 * parameters form-encoded). Errors before the redirect URI is validated render a page; a challenge
 * continues on the hosted pages, bound to this browser by a cookie.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const params = req.method === 'POST' ? parseForm(req) : parseParams(req.query);
    const outcome = await authorize(params, {
      tenant: ctx.tenant,
      store: ctx.store,
      clients: new ClientRepository(ctx.store, ctx.tenant),
      issuer: ctx.issuer,
      sourceIp: req.sourceIp,
      userAgent: req.userAgent,
      acceptLanguage: req.headers['accept-language'],
      cookies: schemeCookies(req.cookies, ctx.origin.startsWith('https:')),
      signer: ctx.signer,
    });
    if (outcome.kind === 'interaction') {
      const secure = ctx.origin.startsWith('https:');
      return seeOther(`/interaction/${outcome.id}`, [bindingCookie(outcome.id, outcome.binding, secure)]);
    }
    return authorizationResponse(outcome.redirectUri, outcome.mode, outcome.params);
  },
  { errors: 'page' },
);
