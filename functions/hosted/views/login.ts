import { html, type Html } from './html.js';
import type { T } from '../../i18n.js';
import type { ViewContext } from './challenge.js';
import { BUILT_IN_SCOPES } from '../../scopes/tenant-scopes.js';
import { signUpLink } from './sign-up.js';

/** Screens of a sign-in that does not start with /init-auth: identify, choose account, consent. */
const action = (v: ViewContext, step: string) => `/interaction/${v.id}/${step}`;
const csrfField = (v: ViewContext) => html`<input type="hidden" name="csrf" value="${v.csrf}">`;

export function identify(
  v: ViewContext,
  opts: { hint?: string; error?: string; notice?: string; signUp?: boolean },
): Html {
  const { t } = v;
  return html`<h1>${t('signin_title')}</h1>
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : ''}
${opts.error ? html`<p class="error" role="alert" id="form-error">${opts.error}</p>` : ''}
<form method="post" action="${action(v, 'identify')}" novalidate>
${csrfField(v)}
<label for="identifier">${t('identifier_label')}</label>
<input type="text" id="identifier" name="identifier" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required autofocus value="${opts.hint ?? ''}"${opts.error ? html` aria-invalid="true" aria-describedby="form-error"` : ''}>
<button type="submit">${t('next')}</button>
</form>
${opts.signUp ? signUpLink(v) : ''}`;
}

/** The accounts signed in on this browser, each a button, and "use another account". */
export function selectAccount(v: ViewContext, accounts: { sid: string; name: string }[]): Html {
  const { t } = v;
  return html`<h1>${t('select_title')}</h1>
<ul class="accounts">${accounts.map(
    (a) =>
      html`<li><form method="post" action="${action(v, 'select-account')}">${csrfField(v)}<input type="hidden" name="choice" value="${a.sid}"><button type="submit">${t('continue_as', { user: a.name })}</button></form></li>`,
  )}</ul>
<form method="post" action="${action(v, 'select-account')}">${csrfField(v)}<input type="hidden" name="choice" value="another"><button type="submit" class="secondary">${t('use_another')}</button></form>`;
}

function scopeText(t: T, scope: string, descriptions: Record<string, string>): string {
  if (BUILT_IN_SCOPES.includes(scope)) return t(`scope_${scope}` as 'scope_openid');
  // A tenant scope's own description (PUT /v1/scopes/{scope}); the html template escapes it.
  return descriptions[scope] ?? t('scope_other', { scope });
}

export function consent(
  v: ViewContext,
  opts: {
    client: string;
    user: string;
    scopes: string[];
    descriptions?: Record<string, string>;
    bindingMessage?: string;
  },
): Html {
  const { t } = v;
  return html`<h1>${t('consent_title', { client: opts.client })}</h1>
${opts.bindingMessage ? html`<p class="notice" role="status">${t('binding_message', { message: opts.bindingMessage })}</p>` : ''}
<p>${t('consent_intro', { user: opts.user, client: opts.client })}</p>
<ul>${opts.scopes.map((s) => html`<li>${scopeText(t, s, opts.descriptions ?? {})}</li>`)}</ul>
<form method="post" action="${action(v, 'consent')}">${csrfField(v)}<input type="hidden" name="decision" value="allow"><button type="submit">${t('consent_allow')}</button></form>
<form method="post" action="${action(v, 'consent')}">${csrfField(v)}<input type="hidden" name="decision" value="deny"><button type="submit" class="secondary">${t('consent_deny')}</button></form>`;
}
