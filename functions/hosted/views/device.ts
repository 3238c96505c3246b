import type { Locale, T } from '../../i18n.js';
import { html, raw, type Html } from './html.js';

/**
 * The verification page of the device authorization grant (RFC 8628 §3.3): the user types the
 * code their device shows, or confirms the pre-filled one (§5.4).
 */
export function deviceForm(
  t: T,
  opts: { csrf: string; locale: Locale; userCode?: string; error?: string },
): Html {
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
