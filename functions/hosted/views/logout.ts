import type { T } from '../../i18n.js';
import { html, type Html } from './html.js';

/** RP-Initiated Logout 1.0 §2: the user confirms before the session ends (the form carries its CSRF token). */
export function logoutConfirm(
  t: T,
  opts: { tenant: string; csrf: string; params: Record<string, string> },
): Html {
  return html`<h1>${t('logout_title')}</h1><p>${t('logout_text', { tenant: opts.tenant })}</p>
<form method="post" action="/oidc/session/end">
<input type="hidden" name="logout_csrf" value="${opts.csrf}">
${Object.entries(opts.params).map(([k, val]) => html`<input type="hidden" name="${k}" value="${val}">`)}
<button type="submit">${t('logout_confirm')}</button></form>`;
}
