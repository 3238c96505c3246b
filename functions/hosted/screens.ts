import type { AuthenticatorRecord } from '../authenticators/types.js';
import type { HttpResponse } from '../http/request.js';
import type { Interaction } from '../interaction/interaction.js';
import { saveInteraction } from '../interaction/repository.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { show, vctx, type Env, type ViewExtra } from './env.js';
import { renderLogin } from './login.js';
import { renderSignUp } from './sign-up-screens.js';
import { goUpstream } from './upstream.js';
import * as views from './views/challenge.js';

/**
 * The screens of the hosted challenge, enrollment and settings, one entry per `?view=`. A screen
 * the interaction may not show (a method the user lacks, enrollment before a passed challenge)
 * returns undefined, and the method chooser (or the enrollment chooser) is shown instead.
 */
interface Shown {
  /** The user's methods still to use (a second factor for acr=mfa offers only the unused ones). */
  methods: AuthenticatorType[];
  list: AuthenticatorRecord[];
  extra: ViewExtra;
}

type Screen = (env: Env, shown: Shown) => Promise<HttpResponse | undefined> | HttpResponse | undefined;

const ORDER: AuthenticatorType[] = ['PASSKEY', 'AUTHENTICATOR_APP', 'EMAIL_OTP', 'SMS'];
const METHOD_VIEW: Record<AuthenticatorType, string> = {
  PASSKEY: 'passkey',
  AUTHENTICATOR_APP: 'totp',
  EMAIL_OTP: 'email',
  SMS: 'sms',
};

/** The screen of a method that sends codes (email, SMS): send one, then type it. */
const codeScreen =
  (channel: views.CodeChannel): Screen =>
  (env, { methods, extra }) => {
    const sms = channel === 'sms';
    if (!methods.includes(sms ? 'SMS' : 'EMAIL_OTP')) return undefined;
    const sentTo = sms ? env.ix.smsSentTo : env.ix.emailSentTo;
    const view = views.emailChallenge(vctx(env), { ...extra, sentTo, others: methods.length > 1 }, channel);
    return show(env, env.t(sms ? 'sms_title' : 'email_title'), view, extra.status);
  };

/** Adding an email address or a mobile number. */
const enrollCodeScreen =
  (channel: views.CodeChannel): Screen =>
  (env, { extra }) => {
    if (!mayEnroll(env.ix)) return undefined;
    const address = channel === 'email' ? env.ix.email : undefined;
    const view = views.enrollEmail(vctx(env), { address, ...extra }, channel);
    return show(
      env,
      env.t(channel === 'sms' ? 'enroll_sms_title' : 'enroll_email_title'),
      view,
      extra.status,
    );
  };

/** May this browser add methods now? Only after proving itself, or when the user has none yet. */
export function mayEnroll(ix: Interaction): boolean {
  return ix.mode === 'enroll' || ix.passedWith !== undefined;
}

const SCREENS: Record<string, Screen> = {
  totp(env, { methods, extra }) {
    if (!methods.includes('AUTHENTICATOR_APP')) return undefined;
    const view = views.totpChallenge(vctx(env), { ...extra, others: methods.length > 1 });
    return show(env, env.t('totp_title'), view, extra.status);
  },

  email: codeScreen('email'),
  sms: codeScreen('sms'),

  passkey(env, { methods, extra }) {
    if (!methods.includes('PASSKEY')) return undefined;
    const view = views.passkeyChallenge(vctx(env), { others: methods.length > 1, notice: extra.notice });
    return show(env, env.t('passkey_title'), view, extra.status);
  },

  enroll(env, { extra }) {
    const { ix } = env;
    if (!mayEnroll(ix)) return undefined;
    const view = views.enrollChooser(vctx(env), {
      allowSkip: ix.mode === 'enroll' && ix.allowSkip && !ix.passedWith,
      settings: Boolean(ix.passedWith),
      ...(ix.allowedMethods ? { only: ix.allowedMethods } : {}),
    });
    return show(env, env.t('enroll_title'), view, extra.status);
  },

  async 'enroll-totp'(env, shown) {
    const { ix } = env;
    const { extra } = shown;
    if (!mayEnroll(ix)) return undefined;
    // A new secret is state: made only under a POST (the chooser's form, or a wrong code shown
    // again), never by a GET, which shows the chooser and writes nothing.
    if (env.req.method !== 'POST') return SCREENS.enroll!(env, shown);
    const fresh = await env.auth.newTotpSecret(ix.userId!, ix.email ?? ix.userId!);
    env.ix = await saveInteraction(env.ctx.store, ix.id, { pendingTotpSecret: fresh.sealed });
    const view = views.enrollTotp(vctx(env), {
      qrSvg: fresh.qrSvg,
      secret: fresh.secret,
      error: extra.error,
    });
    return show(env, env.t('enroll_totp_title'), view, extra.status);
  },

  'enroll-email': enrollCodeScreen('email'),
  'enroll-sms': enrollCodeScreen('sms'),

  'enroll-passkey'(env, { extra }) {
    if (!mayEnroll(env.ix)) return undefined;
    return show(env, env.t('enroll_passkey_title'), views.enrollPasskey(vctx(env)), extra.status);
  },

  settings(env, { list, extra }) {
    const { ix, t } = env;
    if (!ix.passedWith || !ix.redirectToSettings) return undefined;
    const view = views.settings(vctx(env), list, {
      ...(env.req.query.get('added') && !extra.error ? { notice: t('method_added') } : {}),
      ...extra,
      locale: ix.locale,
    });
    return show(env, t('settings_title'), view, extra.status);
  },
};

/** The screen to show when none is asked for: where the interaction stands. */
function defaultView(ix: Interaction, methods: AuthenticatorType[]): string {
  if (ix.passedWith && ix.redirectToSettings) return 'settings';
  if (ix.mode === 'enroll' && !ix.passedWith) return 'enroll';
  if (methods.length === 1) return METHOD_VIEW[methods[0]!];
  return 'choose';
}

/** GET /interaction/{id}?view=…: the requested screen, else where the interaction stands. */
export async function renderView(env: Env, requested?: string, extra: ViewExtra = {}): Promise<HttpResponse> {
  const { ix, t } = env;
  if (ix.login) {
    // `identity_provider` on the authorization request: straight to that provider.
    const provider = ix.login.params.identityProvider;
    if (ix.login.stage === 'identify' && provider && !extra.error) return goUpstream(env, ix.login, provider);
    const screen = (await renderSignUp(env, requested, extra)) ?? (await renderLogin(env, extra, requested));
    if (screen) return screen;
  }
  const list = await env.auth.list(ix.userId!);
  const present = new Set(list.map((a) => a.type));
  const used = new Set(ix.login?.methodsUsed ?? []);
  const allowed = ix.allowedMethods ?? ORDER;
  const methods = ORDER.filter((m) => present.has(m) && !used.has(m) && allowed.includes(m));
  if (used.size && !extra.error) extra = { ...extra, notice: t('second_factor') };
  const view = requested || defaultView(ix, methods);
  const screen = Object.hasOwn(SCREENS, view)
    ? await SCREENS[view]!(env, { methods, list, extra })
    : undefined;
  if (screen) return screen;
  if (ix.mode === 'enroll' && !ix.passedWith) {
    const chooser = views.enrollChooser(vctx(env), {
      allowSkip: ix.allowSkip,
      settings: false,
      ...(ix.allowedMethods ? { only: ix.allowedMethods } : {}),
    });
    return show(env, t('enroll_title'), chooser, extra.status);
  }
  return show(
    env,
    t('verify_title'),
    views.chooseMethod(vctx(env), methods, extra.error, extra.notice),
    extra.status,
  );
}
