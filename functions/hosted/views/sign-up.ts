import type { AuthenticatorType } from '../../users/user-records.js';
import { html, raw, type Html } from './html.js';
import { enrollChooser, type ViewContext } from './challenge.js';

/**
 * The self sign-up screens: the address, the code, then the enrollment chooser. The code screen
 * is the same whether or not the address already has an account (no enumeration).
 */
const action = (v: ViewContext, step: string) => `/interaction/${v.id}/${step}`;
const csrfField = (v: ViewContext) => html`<input type="hidden" name="csrf" value="${v.csrf}">`;

/** The link on the sign-in screen (its own block, beside whatever else that screen offers). */
export function signUpLink(v: ViewContext): Html {
  return html`<p class="signup">${v.t('signup_prompt')} <a href="/interaction/${v.id}?view=signup">${v.t('signup_link')}</a></p>`;
}

const signInInstead = (v: ViewContext) =>
  html`<form method="post" action="${action(v, 'signup-back')}">${csrfField(v)}<button type="submit" class="link">${v.t('signup_signin_instead')}</button></form>`;

function message(error?: string, notice?: string): Html {
  return html`${error ? html`<p class="error" role="alert" id="form-error">${error}</p>` : ''}${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}`;
}

export function signUpEmail(
  v: ViewContext,
  opts: { email?: string; error?: string; rateLimited?: number },
): Html {
  const { t } = v;
  const error = opts.rateLimited !== undefined ? t('rate_limited', { s: opts.rateLimited }) : opts.error;
  return html`<h1>${t('signup_title')}</h1>
<p>${t('signup_intro')}</p>
${message(error)}
<form method="post" action="${action(v, 'signup-email')}" novalidate>
${csrfField(v)}
<label for="email">${t('email_label')}</label>
<input type="email" id="email" name="email" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" required autofocus value="${opts.email ?? ''}"${error ? raw(' aria-invalid="true" aria-describedby="form-error"') : ''}>
<button type="submit">${t('signup_send')}</button>
</form>
${signInInstead(v)}`;
}

export function signUpCode(
  v: ViewContext,
  opts: { sentTo: string; error?: string; attemptsLeft?: number },
): Html {
  const { t } = v;
  const error = opts.error
    ? `${opts.error} ${opts.attemptsLeft !== undefined ? t('attempts_left', { n: opts.attemptsLeft }) : ''}`
    : undefined;
  return html`<h1>${t('email_title')}</h1>
${message(error, error ? undefined : t('signup_sent', { to: opts.sentTo }))}
<form method="post" action="${action(v, 'signup-verify')}" novalidate>
${csrfField(v)}
<label for="code">${t('code_label')}</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autofocus aria-describedby="code-hint${error ? ' form-error' : ''}"${error ? raw(' aria-invalid="true"') : ''}>
<p class="muted" id="code-hint">${t('code_hint')}</p>
<button type="submit">${t('verify')}</button>
</form>
<a class="button secondary" href="/interaction/${v.id}?view=signup">${t('signup_other_email')}</a>
${signInInstead(v)}`;
}

/** The methods a new account may add: the address is already its emailed-code method. */
export const SIGN_UP_METHODS: AuthenticatorType[] = ['PASSKEY', 'AUTHENTICATOR_APP'];

export function signUpEnroll(v: ViewContext, opts: { allowSkip: boolean; error?: string }): Html {
  return html`${message(opts.error, opts.allowSkip ? undefined : v.t('signup_enroll_required'))}
${enrollChooser(v, { allowSkip: opts.allowSkip, settings: false, only: SIGN_UP_METHODS })}`;
}
