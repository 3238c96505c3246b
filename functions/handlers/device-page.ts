import { ClientRepository } from '../clients/client-repository.js';
import { constantTimeEqual, randomSecret } from '../crypto/secrets.js';
import { parseForm } from '../http/body.js';
import { tenantHandler, type TenantContext } from '../http/handler.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import { startDecoupledLogin } from '../interaction/decoupled.js';
import { findByUserCode } from '../oidc/device.js';
import { html, raw } from '../pages/html.js';
import { pickLocale, translator, type Locale, type T } from '../i18n.js';
import { page } from '../pages/layout.js';
import { ConditionFailedError, nowSeconds } from '../store/store.js';

/**
 * GET /oidc/device — the verification URI of the device authorization grant (RFC 8628 §3.3): the
 * user types the code their device shows (pre-filled from `verification_uri_complete`, but always
 * confirmed, §5.4). POST /oidc/device checks it and starts the hosted sign-in for that grant.
 *
 * CSRF: a double-submit token, in an HttpOnly SameSite=Lax cookie scoped to this path and in the
 * form. Wrong guesses are limited per IP address (RFC 8628 §5.1): user codes are short.
 */
const COOKIE = 'idp_device_csrf';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{32}$/;
export const GUESS_LIMIT = { max: 10, windowSeconds: 900 };

function csrfCookie(value: string, secure: boolean): string {
  return `${COOKIE}=${value}; Path=/oidc/device; HttpOnly; SameSite=Lax; Max-Age=1800${secure ? '; Secure' : ''}`;
}

function deviceForm(t: T, opts: { csrf: string; locale: Locale; userCode?: string; error?: string }) {
  const { error } = opts;
  return html`<h1>${t('device_title')}</h1>
    ${error ? html`<p class="error" role="alert" id="form-error">${error}</p>` : ''}
    <p>${t('device_intro')}</p>
    <form method="post" action="/oidc/device" novalidate>
      <input type="hidden" name="csrf" value="${opts.csrf}" />
      <input type="hidden" name="ui_locales" value="${opts.locale}" />
      <label for="user_code">${t('device_code_label')}</label>
      <input
        type="text"
        id="user_code"
        name="user_code"
        value="${opts.userCode ?? ''}"
        autocomplete="off"
        autocapitalize="characters"
        spellcheck="false"
        maxlength="20"
        required
        autofocus
        aria-describedby="user-code-hint${error ? ' form-error' : ''}"
        ${error ? raw(' aria-invalid="true"') : ''}
      />
      <p class="muted" id="user-code-hint">${t('device_code_hint')}</p>
      <button type="submit">${t('continue')}</button>
    </form>`;
}

/** Wrong guesses of one address: a window that starts at the first one and lasts `windowSeconds`. */
const guessKey = (ip: string) => ({ pk: `device-guess#${ip}`, sk: 'guesses' });

/** Whether this address has wrong guesses left in its current window. */
async function guessesLeft(ctx: TenantContext, ip: string): Promise<boolean> {
  const item = await ctx.store.get<{ count?: number }>(guessKey(ip));
  return (item?.count ?? 0) < GUESS_LIMIT.max;
}

/** Counts a wrong guess; false when the limit is reached. */
async function countWrongGuess(ctx: TenantContext, ip: string, now = Date.now()): Promise<boolean> {
  try {
    await ctx.store.increment(guessKey(ip), 'count', {
      below: GUESS_LIMIT.max,
      create: { expiresAt: nowSeconds(now) + GUESS_LIMIT.windowSeconds },
    });
    return true;
  } catch (err) {
    if (err instanceof ConditionFailedError) return false;
    throw err;
  }
}

async function devicePage(req: HttpRequest, ctx: TenantContext): Promise<HttpResponse> {
  const form = req.method === 'POST' ? parseForm(req) : {};
  const locale = pickLocale(
    form.ui_locales ?? req.query.get('ui_locales') ?? undefined,
    req.headers['accept-language'],
  );
  const t = translator(locale);
  const secure = ctx.origin.startsWith('https:');
  const existing = req.cookies[COOKIE];
  const csrf = existing && COOKIE_VALUE.test(existing) ? existing : randomSecret(24);
  const render = (opts: { userCode?: string; error?: string; status?: number }) =>
    page(
      {
        t,
        locale,
        tenantName: ctx.tenant.name,
        ...(ctx.tenant.brandColor ? { brandColor: ctx.tenant.brandColor } : {}),
      },
      t('device_title'),
      deviceForm(t, { csrf, locale, ...opts }),
      { status: opts.status ?? 200, cookies: [csrfCookie(csrf, secure)] },
    );
  const typed = (form.user_code ?? req.query.get('user_code') ?? '').slice(0, 40);

  if (req.method !== 'POST') return render({ userCode: typed });

  if (!existing || !form.csrf || !constantTimeEqual(existing, form.csrf)) {
    return render({ userCode: typed, error: t('form_expired'), status: 400 });
  }
  const ip = req.sourceIp || 'unknown';
  if (!(await guessesLeft(ctx, ip))) {
    return render({ userCode: typed, error: t('device_code_rate_limited'), status: 429 });
  }
  const found = await findByUserCode(ctx.store, typed);
  const client = found && (await new ClientRepository(ctx.store, ctx.tenant).get(found.grant.clientId));
  if (!found || !client) {
    const allowed = await countWrongGuess(ctx, ip);
    return allowed
      ? render({ userCode: typed, error: t('device_code_invalid'), status: 400 })
      : render({ userCode: typed, error: t('device_code_rate_limited'), status: 429 });
  }
  return startDecoupledLogin(req, ctx, {
    // The user code is what the device shows: the approval page repeats it to compare.
    target: { kind: 'device', key: found.key, bindingMessage: found.userCode },
    client,
    scope: found.grant.scope,
    uiLocales: locale,
  });
}

export const handler = tenantHandler(devicePage, { errors: 'page' });
