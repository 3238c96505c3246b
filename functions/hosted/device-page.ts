import { ClientRepository } from '../clients/client-repository.js';
import { constantTimeEqual, randomSecret } from '../crypto/secrets.js';
import { parseForm } from '../http/body.js';
import type { TenantContext } from '../http/handler.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import { pickLocale } from '../i18n.js';
import { findByUserCode } from '../oidc/device.js';
import { schemeCookies, setCookie } from '../sessions/cookies.js';
import { startDecoupledLogin } from './decoupled.js';
import { countWrongGuess, guessesLeft } from './device-guesses.js';
import { pageResponse } from './respond.js';
import { deviceForm } from './views/device.js';
import { pageContext } from './views/layout.js';

/**
 * GET /oidc/device — the verification URI of the device authorization grant (RFC 8628 §3.3): the
 * user types the code their device shows (pre-filled from `verification_uri_complete`, but always
 * confirmed, §5.4). POST /oidc/device checks it and starts the hosted sign-in for that grant.
 *
 * CSRF: a double-submit token, in the form and in an HttpOnly SameSite=Lax cookie — on https a
 * `__Host-` one like the provider's other cookies (sessions/cookies.ts), so a sibling subdomain
 * cannot plant a token of its choosing beside a form it forged; locally scoped to this path. Wrong
 * guesses are limited per IP address (RFC 8628 §5.1): user codes are short.
 */
const COOKIE = 'idp_device_csrf';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{32}$/;
const COOKIE_MAX_AGE = 1800;

export async function devicePage(req: HttpRequest, ctx: TenantContext): Promise<HttpResponse> {
  const form = req.method === 'POST' ? parseForm(req) : {};
  const locale = pickLocale(
    form.ui_locales ?? req.query.get('ui_locales') ?? undefined,
    req.headers['accept-language'],
  );
  const page = pageContext(ctx.tenant, locale);
  const { t } = page;
  const secure = ctx.origin.startsWith('https:');
  const existing = schemeCookies(req.cookies, secure)[COOKIE];
  const csrf = existing && COOKIE_VALUE.test(existing) ? existing : randomSecret(24);
  const cookies = [setCookie(COOKIE, csrf, { secure, path: '/oidc/device', maxAge: COOKIE_MAX_AGE })];
  const typed = (form.user_code ?? req.query.get('user_code') ?? '').slice(0, 40);
  const render = (opts: { error?: string; status?: number } = {}) =>
    pageResponse(page, t('device_title'), deviceForm(t, { csrf, locale, userCode: typed, ...opts }), {
      status: opts.status ?? 200,
      cookies,
    });

  if (req.method !== 'POST') return render();
  if (!existing || !form.csrf || !constantTimeEqual(existing, form.csrf)) {
    return render({ error: t('form_expired'), status: 400 });
  }
  const ip = req.sourceIp || 'unknown';
  if (!(await guessesLeft(ctx.store, ip)))
    return render({ error: t('device_code_rate_limited'), status: 429 });
  const found = await findByUserCode(ctx.store, typed);
  const client = found && (await new ClientRepository(ctx.store, ctx.tenant).get(found.grant.clientId));
  if (!found || !client) {
    return (await countWrongGuess(ctx.store, ip))
      ? render({ error: t('device_code_invalid'), status: 400 })
      : render({ error: t('device_code_rate_limited'), status: 429 });
  }
  return startDecoupledLogin(req, ctx, {
    // The user code is what the device shows: the approval page repeats it to compare.
    target: { kind: 'device', key: found.key, bindingMessage: found.userCode },
    client,
    scope: found.grant.scope,
    acrValues: found.grant.acrValues ?? [],
    uiLocales: locale,
  });
}
