import type { HttpResponse } from '../http/request.js';
import { settingsOf } from '../tenants/settings.js';
import { show, vctx, type Env, type ViewExtra } from './env.js';
import { renderLogin } from './login.js';
import * as views from './views/sign-up.js';

/**
 * The screens of a self sign-up (`?view=signup`, then the code, then the enrollment chooser),
 * shown only while the tenant offers sign-up (`PATCH /v1/settings {"signUp":"email"}`). Undefined
 * when the interaction is not signing up, so the login's own screens take over.
 */
export const signUpOn = (env: Env): boolean => settingsOf(env.ctx.tenant).signUp === 'email';

/** The enrollment screens a new account may open itself; any other view shows the chooser. */
const ENROLL_VIEWS = new Set(['enroll-passkey', 'enroll-totp']);

export function signUpEmailScreen(env: Env, extra: ViewExtra & { email?: string } = {}): HttpResponse {
  const view = views.signUpEmail(vctx(env), extra);
  return show(env, env.t('signup_title'), view, extra.status);
}

export function signUpCodeScreen(env: Env, extra: ViewExtra = {}): HttpResponse {
  const view = views.signUpCode(vctx(env), { ...extra, sentTo: env.ix.emailSentTo ?? '' });
  return show(env, env.t('email_title'), view, extra.status);
}

export function signUpEnrollScreen(env: Env, extra: ViewExtra = {}): HttpResponse {
  const allowSkip = settingsOf(env.ctx.tenant).signUpAuthenticator === 'optional';
  const view = views.signUpEnroll(vctx(env), { allowSkip, ...extra });
  return show(env, env.t('enroll_title'), view, extra.status);
}

export async function renderSignUp(
  env: Env,
  requested: string | undefined,
  extra: ViewExtra,
): Promise<HttpResponse | undefined> {
  const login = env.ix.login!;
  const state = login.signUp;
  if (login.stage === 'challenge' && state?.stage === 'enroll')
    return requested && ENROLL_VIEWS.has(requested) ? undefined : signUpEnrollScreen(env, extra);
  if (login.stage !== 'identify') return undefined;
  const asked = requested === 'signup' || (state?.stage === 'code' && !requested);
  if (!asked) return undefined;
  // A tenant that does not offer sign-up has no such screen.
  if (!signUpOn(env)) return renderLogin(env, { ...extra, status: 404 });
  if (requested === 'signup') return signUpEmailScreen(env, extra);
  return signUpCodeScreen(env, extra);
}
