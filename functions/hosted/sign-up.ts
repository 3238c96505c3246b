import { setTimeout as sleep } from 'node:timers/promises';
import { maskEmail, normaliseEmail } from '../authenticators/display.js';
import { accountExistsMail } from '../authenticators/email-message.js';
import type { ProveResult } from '../authenticators/types.js';
import type { HttpResponse } from '../http/request.js';
import type { LoginState } from '../interaction/interaction.js';
import { saveInteraction } from '../interaction/repository.js';
import { metric } from '../metrics.js';
import { settingsOf } from '../tenants/settings.js';
import { findUserByLogin } from '../users/profile-repository.js';
import { createSignedUpUser, signUpSubject } from '../users/sign-up.js';
import * as z from '../zod.js';
import { auditOf, screenUrl, type Env } from './env.js';
import { EMAIL_SEND_MIN_MS, loginPassed } from './login.js';
import { guessed } from './outcome.js';
import { jsonOk, seeOther } from './respond.js';
import { renderView } from './screens.js';
import { signUpCodeScreen, signUpEmailScreen, signUpEnrollScreen, signUpOn } from './sign-up-screens.js';

/**
 * Self sign-up on the hosted login (`PATCH /v1/settings {"signUp":"email"}`): an address, a code
 * that proves it, then a passkey or an authenticator app (or "not now" when the tenant's
 * `signUpAuthenticator` is `optional`), and the authorization request goes on as the new user.
 *
 * No enumeration: an address that already has an account gets the same screens, in the same
 * time (no sooner than EMAIL_SEND_MIN_MS, like "email me a code" on the sign-in), and the same
 * send and guess limits (counted against the address, `signUpSubject`); its owner gets a mail
 * saying an account exists, with no code, and every code typed is wrong.
 *
 * The user is created only once the address is proven, in one transaction with its login
 * identifier (unique per tenant) and its emailed-code method. When a method is required and the
 * user stops before adding one, the account exists (with only the emailed code, which is what
 * proved the address) but this authorization does not complete: no session, no code for the
 * client. Signing in later by emailed code works as for any user with that method.
 */
type LoginStep = (env: Env, login: LoginState, form: Record<string, string>) => Promise<HttpResponse>;

const emailSchema = z.email().check(z.maxLength(254));
const SIX_DIGITS = /^\d{6}$/;
const formatFailure: ProveResult = { ok: false, reason: 'format' };

/** The address proven: create the user (or find it was taken meanwhile), then the enrollment. */
async function proven(env: Env, login: LoginState, email: string): Promise<HttpResponse> {
  const created = await createSignedUpUser(env.ctx.store, email);
  if (created === 'taken') {
    // A concurrent sign-up (or the tenant's API) took the address: this browser proved it reads
    // the address's mail, so saying so tells it nothing new.
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, { login: { ...login, signUp: undefined } });
    return signUpEmailScreen(env, { error: env.t('signup_taken'), status: 409 });
  }
  env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
    userId: created.userId,
    email,
    passedWith: 'EMAIL_OTP',
    login: {
      ...login,
      stage: 'challenge',
      methodsUsed: ['EMAIL_OTP'],
      signUp: { ...login.signUp!, stage: 'enroll' },
    },
  });
  await auditOf(env).record({
    type: 'user.created',
    detail: { userId: created.userId, fields: ['email', 'email_verified'] },
  });
  metric('SignUps', {});
  return seeOther(screenUrl(env));
}

/** The steps of the address and code stages (login stage `identify`). */
const SIGN_UP_STEPS: Record<string, LoginStep> = {
  async 'signup-email'(env, login, form) {
    if (login.stage !== 'identify') return seeOther(screenUrl(env));
    const parsed = emailSchema.safeParse((form.email ?? '').trim());
    if (!parsed.success) return signUpEmailScreen(env, { error: env.t('signup_email_invalid'), status: 400 });
    const started = Date.now();
    const email = normaliseEmail(parsed.data);
    const subject = signUpSubject(email);
    const taken = (await findUserByLogin(env.ctx.store, email)) !== undefined;
    const common = { locale: env.ix.locale, tenantName: env.ctx.tenant.name };
    let retryAfter: number | undefined;
    if (taken) {
      // The same allowance spent as a code would, then a mail without a code.
      retryAfter = await env.auth.takeEmailSendAllowance(subject, env.req.sourceIp);
      if (retryAfter === undefined)
        await env.ctx.services.mailer.send(accountExistsMail({ to: email, ...common }));
    } else {
      const r = await env.auth.sendEmailCode(subject, {
        key: env.ix.id,
        ip: env.req.sourceIp,
        to: email,
        ...common,
      });
      retryAfter = r.sent ? undefined : (r.retryAfter ?? 60);
    }
    // Whichever mail went (or none), the answer comes no sooner than the sign-in's "email me a
    // code" does, so its timing does not say which.
    await sleep(Math.max(0, EMAIL_SEND_MIN_MS - (Date.now() - started)));
    if (retryAfter !== undefined)
      return signUpEmailScreen(env, { email, rateLimited: retryAfter, status: 429 });
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
      emailSentTo: maskEmail(email),
      login: { ...login, signUp: { stage: 'code', email, taken } },
    });
    return seeOther(screenUrl(env));
  },

  async 'signup-verify'(env, login, form) {
    const state = login.signUp;
    if (login.stage !== 'identify' || state?.stage !== 'code') return seeOther(screenUrl(env));
    const code = (form.code ?? '').replace(/\s+/g, '');
    const subject = signUpSubject(state.email);
    const ip = env.req.sourceIp;
    // A taken address got no code: every guess is wrong, and counts like a wrong guess would.
    const verify = async (): Promise<ProveResult> => {
      if (!SIX_DIGITS.test(code)) return formatFailure;
      if (state.taken) return env.auth.refuseGuess(subject, { ip });
      return env.auth.proveEmailCode(subject, { key: env.ix.id, code, ip });
    };
    return guessed(
      env,
      'EMAIL_OTP',
      verify,
      (extra) => Promise.resolve(signUpCodeScreen(env, extra)),
      () => proven(env, login, state.email),
    );
  },

  async 'signup-back'(env, login) {
    if (login.stage !== 'identify') return seeOther(screenUrl(env));
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, { login: { ...login, signUp: undefined } });
    return seeOther(screenUrl(env));
  },
};

/**
 * What a new account may do before its sign-in finishes: add a passkey or an authenticator app
 * (then `next` after a passkey), skip when allowed, or give up. Nothing else: in particular no
 * emailed-code challenge, which would finish the sign-in without the method the tenant requires.
 */
const ENROLL_STAGE_STEPS = new Set([
  'enroll-totp-start',
  'enroll-totp',
  'passkey-register-options',
  'passkey-register-verify',
  'next',
  'cancel',
]);

async function skip(env: Env): Promise<HttpResponse> {
  if (settingsOf(env.ctx.tenant).signUpAuthenticator !== 'optional')
    return signUpEnrollScreen(env, { status: 400 });
  return loginPassed(env, 'EMAIL_OTP', false);
}

const notFound: LoginStep = (env) => renderView(env, undefined, { status: 404 });
const refused: LoginStep = (env) => Promise.resolve(signUpEnrollScreen(env, { status: 403 }));

/**
 * The sign-up's own handling of a step of a login, or undefined when the login's usual steps
 * apply. With sign-up off every sign-up step is a 404, whatever the interaction holds.
 */
export function signUpStep(env: Env, login: LoginState, step: string): LoginStep | undefined {
  if (Object.hasOwn(SIGN_UP_STEPS, step)) return signUpOn(env) ? SIGN_UP_STEPS[step] : notFound;
  if (login.stage !== 'challenge' || login.signUp?.stage !== 'enroll') return undefined;
  if (step === 'skip') return skip;
  if (ENROLL_STAGE_STEPS.has(step)) return undefined;
  return step.startsWith('passkey-') ? async () => jsonOk({ error: 'invalid_request' }, 403) : refused;
}
