import { DEFAULT_NAMES } from '../../authenticators/display.js';
import type { AuthenticatorType } from '../../users/user-records.js';
import { html, raw, type Html } from './html.js';
import type { T } from '../../i18n.js';

/**
 * The hosted challenge, enrollment and settings screens. Each returns the inside of the page card;
 * `renderPage()` wraps it. Forms post to `/interaction/{id}/{step}` with the interaction's CSRF token.
 * Code inputs carry the attributes phones and password managers rely on.
 */
export interface ViewContext {
  t: T;
  id: string;
  csrf: string;
  nonce: string;
}

const action = (v: ViewContext, step: string) => `/interaction/${v.id}/${step}`;
/** The passkey ceremonies have a function of their own (handlers/interaction-passkey.ts). */
const passkeyAction = (v: ViewContext, step: string) => `/interaction/${v.id}/passkey/${step}`;
const viewUrl = (v: ViewContext, view: string) => `/interaction/${v.id}?view=${view}`;

const csrfField = (v: ViewContext) => html`<input type="hidden" name="csrf" value="${v.csrf}" />`;

function message(error?: string, notice?: string): Html {
  return html`${error ? html`<p class="error" role="alert" id="form-error">${error}</p>` : ''}${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}`;
}

function codeForm(v: ViewContext, step: string, error?: string): Html {
  const { t } = v;
  return html`<form method="post" action="${action(v, step)}" novalidate>
    ${csrfField(v)}
    <label for="code">${t('code_label')}</label>
    <input
      type="text"
      id="code"
      name="code"
      autocomplete="one-time-code"
      inputmode="numeric"
      pattern="[0-9]{6}"
      maxlength="6"
      required
      autofocus
      aria-describedby="code-hint${error ? ' form-error' : ''}"
      ${error ? raw(' aria-invalid="true"') : ''}
    />
    <p class="muted" id="code-hint">${t('code_hint')}</p>
    <button type="submit">${t('verify')}</button>
  </form>`;
}

function giveUp(v: ViewContext): Html {
  return html`<form method="post" action="${action(v, 'cancel')}">
    ${csrfField(v)}<button type="submit" class="link">${v.t('give_up')}</button>
  </form>`;
}

export function chooseMethod(
  v: ViewContext,
  methods: AuthenticatorType[],
  error?: string,
  notice?: string,
): Html {
  const { t } = v;
  const view: Record<AuthenticatorType, string> = {
    PASSKEY: 'passkey',
    AUTHENTICATOR_APP: 'totp',
    EMAIL_OTP: 'email',
    SMS: 'sms',
  };
  return html`<h1>${t('verify_title')}</h1>
    ${message(error, notice)}
    <p>${t('choose_intro')}</p>
    <ul class="methods">
      ${methods.map(
        (m) =>
          html`<li>
            <a class="button" href="${viewUrl(v, view[m])}"
              >${t(`method_${m}`)}<small>${t(`method_${m}_hint`)}</small></a
            >
          </li>`,
      )}
    </ul>
    ${giveUp(v)}`;
}

export function totpChallenge(
  v: ViewContext,
  opts: { error?: string; notice?: string; attemptsLeft?: number; others: boolean },
): Html {
  const { t } = v;
  return html`<h1>${t('totp_title')}</h1>
    ${opts.notice && !opts.error ? message(undefined, opts.notice) : ''}
    ${message(opts.error ? `${opts.error} ${opts.attemptsLeft !== undefined ? t('attempts_left', { n: opts.attemptsLeft }) : ''}` : undefined)}
    ${codeForm(v, 'totp', opts.error)}
    ${opts.others ? html`<a class="button secondary" href="/interaction/${v.id}">${t('other_methods')}</a>` : ''}
    ${giveUp(v)}`;
}

/** A channel that sends codes: its steps and its texts. */
export type CodeChannel = 'email' | 'sms';
const CHANNELS = {
  email: {
    method: 'EMAIL_OTP',
    title: 'email_title',
    sent: 'email_sent',
    send: 'email_send',
    enrollTitle: 'enroll_email_title',
    label: 'email_label',
    input: { type: 'email', name: 'email', autocomplete: 'email', inputmode: 'email' },
  },
  sms: {
    method: 'SMS',
    title: 'sms_title',
    sent: 'sms_sent',
    send: 'sms_send',
    enrollTitle: 'enroll_sms_title',
    label: 'phone_label',
    input: { type: 'tel', name: 'phone', autocomplete: 'tel', inputmode: 'tel' },
  },
} as const;

export interface CodeChallengeOpts {
  sentTo?: string;
  error?: string;
  notice?: string;
  attemptsLeft?: number;
  rateLimited?: number;
  others: boolean;
}

/** The emailed (or texted) code screen: send a code, then type it. */
export function emailChallenge(
  v: ViewContext,
  opts: CodeChallengeOpts,
  channel: CodeChannel = 'email',
): Html {
  const { t } = v;
  const c = CHANNELS[channel];
  const sendForm = html`<form method="post" action="${action(v, `${channel}-send`)}">
    ${csrfField(v)}<button type="submit" class="${opts.sentTo ? 'secondary' : ''}">
      ${opts.sentTo ? t('email_resend') : t(c.send)}
    </button>
  </form>`;
  // Before a code is sent there is nothing to check yet: the heading says what the button does.
  return html`<h1>${opts.sentTo ? t(c.title) : t(`method_${c.method}_hint`)}</h1>
    ${opts.notice && !opts.error ? message(undefined, opts.notice) : ''}
    ${message(
      opts.rateLimited !== undefined
        ? t('rate_limited', { s: opts.rateLimited })
        : opts.error
          ? `${opts.error} ${opts.attemptsLeft !== undefined ? t('attempts_left', { n: opts.attemptsLeft }) : ''}`
          : undefined,
      opts.sentTo && !opts.error ? t(c.sent, { to: opts.sentTo }) : undefined,
    )}
    ${opts.sentTo ? codeForm(v, `${channel}-verify`, opts.error) : ''} ${sendForm}
    ${opts.others ? html`<a class="button secondary" href="/interaction/${v.id}">${t('other_methods')}</a>` : ''}
    ${giveUp(v)}`;
}

/** The WebAuthn ceremony runs in the browser: a small script with this page's nonce. */
function passkeyScript(
  v: ViewContext,
  mode: 'get' | 'create',
  failedText: string,
  unsupportedText: string,
): Html {
  const config = JSON.stringify({
    mode,
    options: passkeyAction(v, mode === 'get' ? 'options' : 'register-options'),
    verify: passkeyAction(v, mode === 'get' ? 'verify' : 'register-verify'),
    csrf: v.csrf,
    failed: failedText,
    unsupported: unsupportedText,
  }).replace(/</g, '\\u003c');
  return html`<script type="application/json" id="passkey-config">
      ${raw(config)}
    </script>
    <form method="post" action="${action(v, 'next')}" id="next-form">${csrfField(v)}</form>
    <script nonce="${v.nonce}">
      ${raw(PASSKEY_JS)};
    </script>`;
}

const PASSKEY_JS = `
(() => {
  const cfg = JSON.parse(document.getElementById('passkey-config').textContent);
  const button = document.getElementById('passkey-button');
  const status = document.getElementById('passkey-status');
  const post = async (url, body) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
    return { ok: res.ok, body: await res.json() };
  };
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) {
    status.textContent = cfg.unsupported;
    button.disabled = true;
    return;
  }
  button.addEventListener('click', async () => {
    status.textContent = '';
    button.disabled = true;
    try {
      const options = await post(cfg.options, { csrf: cfg.csrf });
      if (!options.ok) throw new Error(options.body.error_description || 'options');
      const credential = cfg.mode === 'create'
        ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body) })
        : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.body) });
      const result = await post(cfg.verify, { csrf: cfg.csrf, response: credential.toJSON() });
      if (result.body.next) { document.getElementById('next-form').submit(); return; }
      status.textContent = cfg.failed;
    } catch (e) {
      status.textContent = cfg.failed;
    }
    button.disabled = false;
  });
})();`;

export function passkeyChallenge(v: ViewContext, opts: { others: boolean; notice?: string }): Html {
  const { t } = v;
  return html`<h1>${t('passkey_title')}</h1>
    ${opts.notice ? message(undefined, opts.notice) : ''}
    <p>${t('passkey_intro')}</p>
    <button type="button" id="passkey-button">${t('passkey_use')}</button>
    <p class="error" role="alert" id="passkey-status" aria-live="assertive"></p>
    ${opts.others ? html`<a class="button secondary" href="/interaction/${v.id}">${t('other_methods')}</a>` : ''}
    ${giveUp(v)} ${passkeyScript(v, 'get', t('passkey_failed'), t('passkey_unsupported'))}`;
}

export function enrollChooser(
  v: ViewContext,
  opts: { allowSkip: boolean; settings: boolean; only?: AuthenticatorType[] },
): Html {
  const { t } = v;
  const methods = (
    [
      ['PASSKEY', 'enroll-passkey'],
      ['AUTHENTICATOR_APP', 'enroll-totp'],
      ['EMAIL_OTP', 'enroll-email'],
      ['SMS', 'enroll-sms'],
    ] as [AuthenticatorType, string][]
  ).filter(([m]) => !opts.only || opts.only.includes(m));
  return html`<h1>${opts.settings ? t('add_method') : t('enroll_title')}</h1>
    ${opts.settings ? '' : html`<p>${t('enroll_intro')}</p>`}
    <ul class="methods">
      ${methods.map(([m, view]) => {
        const label = html`${t(`method_${m}`)}<small>${t(`method_${m}_hint`)}</small>`;
        // The authenticator app's secret is made by a POST: showing a page changes nothing.
        if (m === 'AUTHENTICATOR_APP')
          return html`<li>
            <form method="post" action="${action(v, 'enroll-totp-start')}">
              ${csrfField(v)}<button type="submit" class="button">${label}</button>
            </form>
          </li>`;
        return html`<li><a class="button" href="${viewUrl(v, view)}">${label}</a></li>`;
      })}
    </ul>
    ${opts.settings ? html`<a class="button secondary" href="${viewUrl(v, 'settings')}">${t('back')}</a>` : ''}
    ${opts.allowSkip ? html`<form method="post" action="${action(v, 'skip')}">${csrfField(v)}<button type="submit" class="link">${t('enroll_skip')}</button></form>` : ''}`;
}

export function enrollTotp(v: ViewContext, opts: { qrSvg: string; secret: string; error?: string }): Html {
  const { t } = v;
  const img = `data:image/svg+xml;base64,${Buffer.from(opts.qrSvg).toString('base64')}`;
  return html`<h1>${t('enroll_totp_title')}</h1>
    <p>${t('enroll_totp_steps')}</p>
    <img class="qr" src="${img}" alt="${t('qr_alt')}" width="200" height="200" />
    <p>${t('enroll_totp_secret')}</p>
    <code class="secret" aria-label="${t('enroll_totp_secret')}"
      >${opts.secret.replace(/(.{4})/g, '$1 ').trim()}</code
    >
    ${message(opts.error)} ${codeForm(v, 'enroll-totp', opts.error)}
    <a class="button secondary" href="/interaction/${v.id}?view=enroll">${t('back')}</a>`;
}

/** Adding an email address (or a mobile number): type it, get a code, type the code. */
export function enrollEmail(
  v: ViewContext,
  opts: { sentTo?: string; address?: string; error?: string; rateLimited?: number },
  channel: CodeChannel = 'email',
): Html {
  const { t } = v;
  const c = CHANNELS[channel];
  return html`<h1>${t(c.enrollTitle)}</h1>
    ${message(opts.rateLimited !== undefined ? t('rate_limited', { s: opts.rateLimited }) : opts.error, opts.sentTo && !opts.error ? t(c.sent, { to: opts.sentTo }) : undefined)}
    ${
      opts.sentTo
        ? codeForm(v, `enroll-${channel}-verify`, opts.error)
        : html`<form method="post" action="${action(v, `enroll-${channel}-send`)}">
            ${csrfField(v)}
            <label for="${c.input.name}">${t(c.label)}</label>
            <input
              type="${c.input.type}"
              id="${c.input.name}"
              name="${c.input.name}"
              autocomplete="${c.input.autocomplete}"
              inputmode="${c.input.inputmode}"
              required
              autofocus
              value="${opts.address ?? ''}"
            />
            <button type="submit">${t(c.send)}</button>
          </form>`
    }
    <a class="button secondary" href="/interaction/${v.id}?view=enroll">${t('back')}</a>`;
}

export function enrollPasskey(v: ViewContext): Html {
  const { t } = v;
  return html`<h1>${t('enroll_passkey_title')}</h1>
    <p>${t('enroll_passkey_intro')}</p>
    <button type="button" id="passkey-button">${t('passkey_create')}</button>
    <p class="error" role="alert" id="passkey-status" aria-live="assertive"></p>
    <a class="button secondary" href="/interaction/${v.id}?view=enroll">${t('back')}</a>
    ${passkeyScript(v, 'create', t('passkey_failed'), t('passkey_unsupported'))}`;
}

export interface MethodRow {
  id: string;
  type: AuthenticatorType;
  name: string;
  createdAt: string;
}

export function settings(
  v: ViewContext,
  rows: MethodRow[],
  opts: { error?: string; notice?: string; locale: string },
): Html {
  const { t } = v;
  const date = (iso: string) =>
    new Date(iso).toLocaleDateString(opts.locale, { year: 'numeric', month: 'short', day: 'numeric' });
  // The name is shown only when it says more than the type: a method under its default name would
  // read "Passkey / Passkey · Added …" (and "Remove Passkey Passkey" to screen readers).
  const named = (r: MethodRow) => r.name !== (DEFAULT_NAMES as Record<string, string>)[r.type];
  return html`<h1>${t('settings_title')}</h1>
    <p>${t('settings_intro')}</p>
    ${message(opts.error, opts.notice)}
    ${
      rows.length
        ? html`<table>
            <caption class="sr-only">
              ${t('settings_title')}
            </caption>
            <tbody>
              ${rows.map(
                (r) =>
                  html`<tr>
                    <td>
                      <strong>${t(`method_${r.type}`)}</strong><br /><span class="muted"
                        >${named(r) ? `${r.name} · ` : ''}${t('added_on', { date: date(r.createdAt) })}</span
                      >
                    </td>
                    <td>
                      <form method="post" action="${action(v, 'remove')}">
                        ${csrfField(v)}<input type="hidden" name="authenticatorId" value="${r.id}" /><button
                          type="submit"
                          class="secondary"
                          aria-label="${t('remove_label', { name: `${t(`method_${r.type}`)}${named(r) ? ` ${r.name}` : ''}` })}"
                        >
                          ${t('remove')}
                        </button>
                      </form>
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">${t('settings_none')}</p>`
    }
    <a class="button secondary" href="${viewUrl(v, 'enroll')}">${t('add_method')}</a>
    <form method="post" action="${action(v, 'done')}">
      ${csrfField(v)}<button type="submit">${t('done')}</button>
    </form>`;
}
