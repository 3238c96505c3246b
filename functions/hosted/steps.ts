import * as z from '../zod.js';
import { allowedSmsCountries } from '../authenticators/sms-guard.js';
import type { SendResult, VerifyResult } from '../authenticators/types.js';
import type { HttpResponse } from '../http/request.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { saveInteraction } from '../interaction/repository.js';
import { auditOf, screenUrl, show, vctx, type Env, type ViewExtra } from './env.js';
import { LOGIN_STEPS, loginNext, uniform, UNIFORM_STEPS } from './login.js';
import { complete, enrolled, failed, guessed, lockedOut, passed } from './outcome.js';
import { jsonOk, seeOther } from './respond.js';
import { mayEnroll, renderView } from './screens.js';
import { signUpStep } from './sign-up.js';
import { goUpstream } from './upstream.js';
import * as views from './views/challenge.js';

/**
 * The steps of the hosted challenge (`POST /interaction/{id}/{step}`), one entry per step. The
 * caller has checked the browser binding and the CSRF token. Steps that add a method need a passed
 * challenge unless the user has none yet.
 */
interface StepInput {
  form: Record<string, string>;
  json?: Record<string, unknown>;
  /** The code typed, spaces removed. */
  code: string;
}

type Step = (env: Env, input: StepInput) => Promise<HttpResponse>;

const emailSchema = z.email().check(z.maxLength(320));
const SIX_DIGITS = /^\d{6}$/;
const formatFailure: VerifyResult = { ok: false, reason: 'format' };

/** Sends a code to the user's enrolled address or number (`to`: one being enrolled). */
async function sentCode(env: Env, channel: views.CodeChannel, to?: string): Promise<SendResult> {
  const { ix } = env;
  const common = { key: ix.id, ip: env.req.sourceIp, locale: ix.locale, tenantName: env.ctx.tenant.name };
  if (channel === 'email') return env.auth.sendEmailCode(ix.userId!, { ...common, ...(to ? { to } : {}) });
  if (!env.parsePhone) throw new Error('this function was built without phone parsing (Env.parsePhone)');
  const phone = to === undefined ? undefined : env.parsePhone(to);
  if (typeof phone === 'string') return { sent: false, to: '', reason: 'refused', refusal: phone };
  const allowedCountries = allowedSmsCountries(env.ctx.tenant);
  return env.auth.sendSmsCode(ix.userId!, { ...common, allowedCountries, ...(phone ? { to: phone } : {}) });
}

/** Why nothing was sent, on the screen: a cap (429, Retry-After's seconds) or a refused number (400). */
async function notSent(env: Env, r: SendResult, page: (extra: ViewExtra) => Promise<HttpResponse>) {
  if (r.refusal) {
    const detail = { userId: env.ix.userId!, reason: r.refusal, channel: 'code' as const };
    await auditOf(env).record({ type: 'sms.refused', detail });
  }
  if (r.reason === 'refused') {
    const error = env.t(r.refusal === 'invalid' ? 'phone_invalid' : 'sms_refused');
    return page({ error, status: 400 });
  }
  return page({ rateLimited: r.retryAfter ?? 60, status: 429 });
}

async function sendCode(env: Env, channel: views.CodeChannel): Promise<HttpResponse> {
  const r = await sentCode(env, channel);
  if (!r.sent) return notSent(env, r, (extra) => renderView(env, channel, extra));
  const sentTo = channel === 'sms' ? { smsSentTo: r.to } : { emailSentTo: r.to };
  env.ix = await saveInteraction(env.ctx.store, env.ix.id, sentTo);
  return seeOther(screenUrl(env, `?view=${channel}`));
}

async function verifyCode(env: Env, channel: views.CodeChannel, { code }: StepInput): Promise<HttpResponse> {
  const o = { key: env.ix.id, code, ip: env.req.sourceIp };
  const verify = async () =>
    !SIX_DIGITS.test(code)
      ? formatFailure
      : channel === 'sms'
        ? env.auth.verifySmsCode(env.ix.userId!, o)
        : env.auth.verifyEmailCode(env.ix.userId!, o);
  const method = channel === 'sms' ? 'SMS' : 'EMAIL_OTP';
  return guessed(env, method, verify, (extra) => renderView(env, channel, extra));
}

/** The enrollment page of a channel, with what was sent where. */
const enrollPage = (env: Env, channel: views.CodeChannel, sentTo?: string) => async (extra: ViewExtra) =>
  show(
    env,
    env.t(channel === 'sms' ? 'enroll_sms_title' : 'enroll_email_title'),
    views.enrollEmail(vctx(env), { ...(sentTo ? { sentTo } : {}), ...extra }, channel),
    extra.status,
  );

async function enrollSend(env: Env, channel: views.CodeChannel, { form }: StepInput): Promise<HttpResponse> {
  const { ix, t } = env;
  const typed = (channel === 'sms' ? form.phone : form.email) ?? '';
  const again = (extra: ViewExtra) => renderView(env, `enroll-${channel}`, extra);
  if (channel === 'email' && !emailSchema.safeParse(typed.trim()).success)
    return again({ error: t('email_label'), status: 400 });
  const r = await sentCode(env, channel, typed.trim());
  if (!r.sent) return notSent(env, r, again);
  env.ix = await saveInteraction(
    env.ctx.store,
    ix.id,
    channel === 'sms' ? { pendingPhone: r.to } : { pendingEmail: typed.trim() },
  );
  return enrollPage(env, channel, r.to)({});
}

async function enrollVerify(
  env: Env,
  channel: views.CodeChannel,
  { code }: StepInput,
): Promise<HttpResponse> {
  const { ix, t } = env;
  const o = { key: ix.id, code, enroll: true, ip: env.req.sourceIp };
  const r = !SIX_DIGITS.test(code)
    ? formatFailure
    : channel === 'sms'
      ? await env.auth.verifySmsCode(ix.userId!, o)
      : await env.auth.verifyEmailCode(ix.userId!, o);
  const method = channel === 'sms' ? 'SMS' : 'EMAIL_OTP';
  if (r.ok) return enrolled(env, method).then(() => passed(env, method));
  const page = enrollPage(env, channel, channel === 'sms' ? ix.pendingPhone : ix.pendingEmail);
  if (r.reason === 'locked') return lockedOut(env, r.retryAfter ?? 60, page);
  return page({ error: t(r.reason === 'taken' ? 'phone_taken' : 'wrong_code'), status: 400 });
}

/** Proving oneself, and what can be done with or without having done so. */
const CHALLENGE_STEPS: Record<string, Step> = {
  async totp(env, { code }) {
    const verify = async () =>
      SIX_DIGITS.test(code)
        ? env.auth.verifyTotp(env.ix.userId!, code, { ip: env.req.sourceIp })
        : formatFailure;
    return guessed(env, 'AUTHENTICATOR_APP', verify, (extra) => renderView(env, 'totp', extra));
  },

  'email-send'(env) {
    return sendCode(env, 'email');
  },
  'sms-send'(env) {
    return sendCode(env, 'sms');
  },
  'email-verify'(env, input) {
    return verifyCode(env, 'email', input);
  },
  'sms-verify'(env, input) {
    return verifyCode(env, 'sms', input);
  },

  async 'passkey-options'(env) {
    return jsonOk(await env.auth.passkeyAuthenticationOptions(env.ix.userId!, { key: env.ix.id }));
  },

  async 'passkey-verify'(env, { json }) {
    const r = await env.auth.verifyPasskeyAuthentication(env.ix.userId!, {
      key: env.ix.id,
      response: json?.response as never,
    });
    return r.ok ? passed(env, 'PASSKEY', true) : failed(env, 'passkey', env.t('passkey_failed'), true);
  },

  async next(env) {
    const { ix } = env;
    if (ix.login) return loginNext(env);
    if (ix.passedWith) {
      if (ix.redirectToSettings) return seeOther(screenUrl(env, '?view=settings'));
      return complete(env, 'CHALLENGE_SUCCEEDED', ix.passedWith);
    }
    if (ix.failures >= ix.maxAttempts) return complete(env, 'CHALLENGE_FAILED');
    return seeOther(screenUrl(env));
  },

  async cancel(env) {
    const { ix } = env;
    if (ix.mode === 'enroll' && !ix.passedWith && ix.allowSkip) return complete(env, 'ALLOW');
    return complete(env, ix.passedWith ? 'CHALLENGE_SUCCEEDED' : 'CHALLENGE_FAILED', ix.passedWith);
  },

  async skip(env) {
    const { ix } = env;
    if (ix.mode !== 'enroll' || ix.passedWith || !ix.allowSkip)
      return renderView(env, undefined, { status: 400 });
    return complete(env, 'ALLOW');
  },

  async done(env) {
    if (!env.ix.passedWith) return renderView(env, undefined, { status: 400 });
    return complete(env, 'CHALLENGE_SUCCEEDED', env.ix.passedWith);
  },

  async remove(env, { form }) {
    const { ix } = env;
    if (!ix.passedWith || !ix.redirectToSettings) return renderView(env, undefined, { status: 403 });
    // The last method stays: a user with nothing to verify with would still be reported as
    // enrolled by "Done". The page asks for another method first.
    const current = await env.auth.list(ix.userId!);
    if (current.length === 1 && current[0]!.id === form.authenticatorId)
      return renderView(env, 'settings', { error: env.t('cannot_remove_last'), status: 409 });
    await env.auth.remove(ix.userId!, form.authenticatorId ?? '');
    return seeOther(screenUrl(env, '?view=settings'));
  },
};

/** Adding a method: only after a passed challenge, or as a first method. */
const ENROLL_STEPS: Record<string, Step> = {
  // Makes the pending secret and shows its QR code (a POST: no GET changes state).
  'enroll-totp-start': (env) => renderView(env, 'enroll-totp'),

  async 'enroll-totp'(env, { code }) {
    const secret = env.ix.pendingTotpSecret;
    const record =
      secret && SIX_DIGITS.test(code) ? await env.auth.confirmTotp(env.ix.userId!, secret, code) : undefined;
    if (!record) return renderView(env, 'enroll-totp', { error: env.t('wrong_code'), status: 400 });
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, { pendingTotpSecret: undefined });
    await enrolled(env, 'AUTHENTICATOR_APP');
    return passed(env, 'AUTHENTICATOR_APP');
  },

  'enroll-email-send'(env, input) {
    return enrollSend(env, 'email', input);
  },
  'enroll-sms-send'(env, input) {
    return enrollSend(env, 'sms', input);
  },
  'enroll-email-verify'(env, input) {
    return enrollVerify(env, 'email', input);
  },
  'enroll-sms-verify'(env, input) {
    return enrollVerify(env, 'sms', input);
  },

  async 'passkey-register-options'(env) {
    const { ix } = env;
    const name = ix.email ?? ix.userId!;
    return jsonOk(
      await env.auth.passkeyRegistrationOptions(ix.userId!, {
        key: ix.id,
        userName: name,
        displayName: name,
      }),
    );
  },

  async 'passkey-register-verify'(env, { json }) {
    const record = await env.auth.verifyPasskeyRegistration(env.ix.userId!, {
      key: env.ix.id,
      response: json?.response as never,
    });
    if (!record) return jsonOk({ next: false });
    await enrolled(env, 'PASSKEY');
    return passed(env, 'PASSKEY', true);
  },
};

/**
 * The passkey ceremonies: posted by the page's script to `/interaction/{id}/passkey/{name}`
 * (`passkey-<name>` here), with a JSON body and a JSON answer, and run by their own function.
 */
export const PASSKEY_STEPS = new Set([
  'passkey-options',
  'passkey-verify',
  'passkey-register-options',
  'passkey-register-verify',
]);

/** A sign-in for an identifier that matches nobody: the same screens, and every answer is wrong. */
async function ghostStep(env: Env, step: string, code: string): Promise<HttpResponse> {
  if (step === 'email-send') {
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, { emailSentTo: env.ix.login!.shownAs });
    return seeOther(screenUrl(env));
  }
  // Each wrong answer looks like a real account's wrong answer on the same screen, and counts
  // against the same kind of guess limits (so a ghost locks out like a real account).
  if (step === 'email-verify' || step === 'totp') {
    const view = step === 'totp' ? 'totp' : 'email';
    const subject = env.ix.login!.guessSubject ?? 'ghost:';
    const verify = async () =>
      SIX_DIGITS.test(code) ? env.auth.refuseGuess(subject, { ip: env.req.sourceIp }) : formatFailure;
    return guessed(env, 'AUTHENTICATOR_APP', verify, (extra) => renderView(env, view, extra));
  }
  if (step === 'passkey-verify') return failed(env, 'passkey', env.t('passkey_failed'), true);
  if (step === 'cancel') return complete(env, 'CHALLENGE_FAILED');
  return seeOther(screenUrl(env));
}

/** The method each step uses or adds. */
const STEP_METHOD: Record<string, AuthenticatorType | undefined> = {
  totp: 'AUTHENTICATOR_APP',
  'enroll-totp-start': 'AUTHENTICATOR_APP',
  'enroll-totp': 'AUTHENTICATOR_APP',
  'email-send': 'EMAIL_OTP',
  'email-verify': 'EMAIL_OTP',
  'enroll-email-send': 'EMAIL_OTP',
  'enroll-email-verify': 'EMAIL_OTP',
  'sms-send': 'SMS',
  'sms-verify': 'SMS',
  'enroll-sms-send': 'SMS',
  'enroll-sms-verify': 'SMS',
  'passkey-options': 'PASSKEY',
  'passkey-verify': 'PASSKEY',
  'passkey-register-options': 'PASSKEY',
  'passkey-register-verify': 'PASSKEY',
};

const has = (table: Record<string, Step>, step: string) => Object.hasOwn(table, step);

/** Runs one step: a login's own steps first, then the challenge steps, then the enrollment steps. */
export async function runStep(
  env: Env,
  step: string,
  form: Record<string, string>,
  json?: Record<string, unknown>,
): Promise<HttpResponse> {
  const { ix } = env;
  if (ix.login) {
    const signUp = signUpStep(env, ix.login, step);
    if (signUp) return signUp(env, ix.login, form);
    if (Object.hasOwn(LOGIN_STEPS, step)) return LOGIN_STEPS[step]!(env, ix.login, form);
    if (step === 'upstream') return goUpstream(env, ix.login, form.provider ?? '');
    if (ix.login.stage !== 'challenge') return seeOther(screenUrl(env));
    if (uniform(ix.login) && Object.hasOwn(UNIFORM_STEPS, step)) return UNIFORM_STEPS[step]!(env, ix.login);
    if (ix.login.ghost) return ghostStep(env, step, (form.code ?? '').replace(/\s+/g, ''));
  }
  // A request that accepts only some methods (an Entra `amr` list) refuses steps of the others.
  const method = STEP_METHOD[step];
  if (method && ix.allowedMethods && !ix.allowedMethods.includes(method))
    return renderView(env, undefined, { status: 403 });
  const input: StepInput = { form, ...(json ? { json } : {}), code: (form.code ?? '').replace(/\s+/g, '') };
  if (has(CHALLENGE_STEPS, step)) return CHALLENGE_STEPS[step]!(env, input);
  if (!mayEnroll(ix)) return renderView(env, undefined, { status: 403 });
  if (has(ENROLL_STEPS, step)) return ENROLL_STEPS[step]!(env, input);
  return renderView(env, undefined, { status: 404 });
}
