import { z } from 'zod';
import { authenticatorsFor } from '../authenticators/for-tenant.js';
import type { AuthenticatorRecord } from '../authenticators/types.js';
import type { TenantContext } from '../http/handler.js';
import { MAX_BODY_BYTES, parseParams } from '../http/body.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import { page, newNonce } from '../pages/layout.js';
import { translator } from '../i18n.js';
import * as views from '../pages/interaction-views.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { AMR, finish, finishError, InteractionOverError } from './finish.js';
import {
  jsonOk as jsonResponse,
  seeOther as redirect,
  show as showPage,
  vctx as viewContext,
  type Env,
  type ViewExtra,
} from './env.js';
import { loginNext, loginPassed, renderLogin, runLoginStep } from './login.js';
import {
  csrfValid,
  loadInteraction,
  recordFailure,
  saveInteraction,
  type Interaction,
} from './interaction.js';

/**
 * The hosted challenge pages: `GET /interaction/{id}` renders the current screen and
 * `POST /interaction/{id}/{step}` acts. Every step checks the browser binding cookie and the CSRF
 * token first. Views that add a method need a passed challenge unless the user has none yet.
 */
const emailSchema = z.email().max(320);

const show = showPage;
const seeOther = (location: string) => redirect(location);
const vctx = viewContext;
const jsonOk = jsonResponse;

function methodsOf(list: AuthenticatorRecord[]): AuthenticatorType[] {
  const order: AuthenticatorType[] = ['PASSKEY', 'AUTHENTICATOR_APP', 'EMAIL_OTP'];
  const present = new Set(list.map((a) => a.type));
  return order.filter((m) => present.has(m));
}

/** May this browser add methods now? Only after proving itself, or when the user has none yet. */
function mayEnroll(ix: Interaction): boolean {
  return ix.mode === 'enroll' || ix.passedWith !== undefined;
}

export function expiredPage(ctx: TenantContext, req: HttpRequest, locale = 'en' as const): HttpResponse {
  const t = translator(locale);
  void req;
  return page(
    { t, locale, tenantName: ctx.tenant.name },
    t('expired_title'),
    views.notice(t, 'expired_title', t('expired_text')),
    { status: 400 },
  );
}

async function open(req: HttpRequest, ctx: TenantContext): Promise<Env | HttpResponse> {
  const id = req.pathParams.id ?? '';
  const loaded = await loadInteraction(ctx.store, id, req.cookies);
  if (loaded.status !== 'ok') return expiredPage(ctx, req);
  const ix = loaded.interaction;
  const auth = authenticatorsFor(ctx);
  return {
    req,
    ctx,
    ix,
    t: translator(ix.locale),
    auth,
    nonce: newNonce(),
    secure: ctx.origin.startsWith('https:'),
  };
}

/** GET /interaction/{id}?view=… */
export async function renderInteraction(req: HttpRequest, ctx: TenantContext): Promise<HttpResponse> {
  const env = await open(req, ctx);
  if (!('ix' in env)) return env;
  return renderView(env, req.query.get('view') ?? undefined);
}

async function renderView(env: Env, requested?: string, extra: ViewExtra = {}): Promise<HttpResponse> {
  const { ix, t } = env;
  if (ix.login) {
    const screen = await renderLogin(env, extra);
    if (screen) return screen;
  }
  const v = vctx(env);
  const list = await env.auth.list(ix.userId!);
  // A second factor for acr=mfa: offer only the methods not used yet.
  const used = new Set(ix.login?.methodsUsed ?? []);
  const methods = methodsOf(list).filter((m) => !used.has(m));
  if (used.size && !extra.error) extra = { ...extra, notice: t('second_factor') };
  let view = requested;
  if (!view) {
    if (ix.passedWith && ix.redirectToSettings) view = 'settings';
    else if (ix.mode === 'enroll' && !ix.passedWith) view = 'enroll';
    else if (methods.length === 1)
      view = { PASSKEY: 'passkey', AUTHENTICATOR_APP: 'totp', EMAIL_OTP: 'email' }[methods[0]!];
    else view = 'choose';
  }
  const others = methods.length > 1;
  const status = extra.status ?? 200;
  switch (view) {
    case 'totp':
      if (!methods.includes('AUTHENTICATOR_APP')) break;
      return show(env, t('totp_title'), views.totpChallenge(v, { ...extra, others }), status);
    case 'email': {
      if (!methods.includes('EMAIL_OTP')) break;
      const sentTo = (ix as { emailSentTo?: string }).emailSentTo;
      return show(env, t('email_title'), views.emailChallenge(v, { ...extra, sentTo, others }), status);
    }
    case 'passkey':
      if (!methods.includes('PASSKEY')) break;
      return show(
        env,
        t('passkey_title'),
        views.passkeyChallenge(v, { others, notice: extra.notice }),
        status,
      );
    case 'enroll':
      if (!mayEnroll(ix)) break;
      return show(
        env,
        t('enroll_title'),
        views.enrollChooser(v, {
          allowSkip: ix.mode === 'enroll' && ix.allowSkip && !ix.passedWith,
          settings: Boolean(ix.passedWith),
        }),
        status,
      );
    case 'enroll-totp': {
      if (!mayEnroll(ix)) break;
      const label = ix.email ?? ix.userId!;
      const fresh = await env.auth.newTotpSecret(ix.userId!, label);
      env.ix = await saveInteraction(env.ctx.store, ix.id, { pendingTotpSecret: fresh.sealed });
      return show(
        env,
        t('enroll_totp_title'),
        views.enrollTotp(v, { qrSvg: fresh.qrSvg, secret: fresh.secret, error: extra.error }),
        status,
      );
    }
    case 'enroll-email':
      if (!mayEnroll(ix)) break;
      return show(
        env,
        t('enroll_email_title'),
        views.enrollEmail(v, { address: ix.email, ...extra }),
        status,
      );
    case 'enroll-passkey':
      if (!mayEnroll(ix)) break;
      return show(env, t('enroll_passkey_title'), views.enrollPasskey(v), status);
    case 'settings':
      if (!ix.passedWith || !ix.redirectToSettings) break;
      return show(
        env,
        t('settings_title'),
        views.settings(v, list, {
          ...(env.req.query.get('added') && !extra.error ? { notice: t('method_added') } : {}),
          ...extra,
          locale: ix.locale,
        }),
        status,
      );
    case 'choose':
      break;
    default:
      break;
  }
  if (ix.mode === 'enroll' && !ix.passedWith) {
    return show(
      env,
      t('enroll_title'),
      views.enrollChooser(v, { allowSkip: ix.allowSkip, settings: false }),
      status,
    );
  }
  return show(env, t('verify_title'), views.chooseMethod(v, methods, extra.error, extra.notice), status);
}

/** The user proved themselves (or enrolled a first method): settings next, or the code goes back. */
async function passed(env: Env, method: AuthenticatorType, json = false): Promise<HttpResponse> {
  if (env.ix.login) return loginPassed(env, method, json);
  const already = env.ix.passedWith;
  env.ix = await saveInteraction(env.ctx.store, env.ix.id, { passedWith: already ?? method });
  if (json) return jsonOk({ next: true });
  if (env.ix.redirectToSettings)
    return seeOther(`/interaction/${env.ix.id}?view=settings${already ? '&added=1' : ''}`);
  return complete(env, 'CHALLENGE_SUCCEEDED', method);
}

function complete(
  env: Env,
  state: 'CHALLENGE_SUCCEEDED' | 'CHALLENGE_FAILED' | 'ALLOW',
  method?: AuthenticatorType,
): Promise<HttpResponse> {
  if (env.ix.login) {
    // A hosted sign-in that did not succeed ends with an error for the client (RFC 6749 §4.1.2.1).
    return finishError(
      env.ctx.store,
      env.ix,
      'access_denied',
      'the user did not complete the sign-in',
      env.ctx.issuer,
      env.secure,
    );
  }
  const isEnrolled =
    state === 'ALLOW' ? false : env.ix.mode === 'challenge' || env.ix.passedWith !== undefined;
  return finish(
    env.ctx.store,
    env.ix,
    {
      state,
      isEnrolled,
      decidedBy: env.ix.decidedBy,
      ...(method ? { verificationMethod: method, amr: AMR[method] } : {}),
    },
    env.ctx.issuer,
    env.secure,
  );
}

/** A wrong answer: count it; at the limit the flow ends CHALLENGE_FAILED (still with a code). */
async function failed(env: Env, view: string, message: string, json = false): Promise<HttpResponse> {
  env.ix = await recordFailure(env.ctx.store, env.ix);
  const left = env.ix.maxAttempts - env.ix.failures;
  if (left <= 0) return json ? jsonOk({ next: true }) : complete(env, 'CHALLENGE_FAILED');
  if (json) return jsonOk({ next: false, attemptsLeft: left });
  return renderView(env, view, { error: message, attemptsLeft: left, status: 400 });
}

function readBody(
  req: HttpRequest,
): { form: Record<string, string>; json?: Record<string, unknown> } | undefined {
  if (req.bodyBytes > MAX_BODY_BYTES) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/json') {
      const json = JSON.parse(req.body) as unknown;
      if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
      const obj = json as Record<string, unknown>;
      return { form: { csrf: typeof obj.csrf === 'string' ? obj.csrf : '' }, json: obj };
    }
    if (type === 'application/x-www-form-urlencoded') return { form: parseParams(req.body) };
  } catch {
    return undefined;
  }
  return undefined;
}

const JSON_STEPS = new Set([
  'passkey-options',
  'passkey-verify',
  'passkey-register-options',
  'passkey-register-verify',
]);

/** A sign-in for an identifier that matches nobody: the same screens, and every answer is wrong. */
async function ghostStep(env: Env, step: string): Promise<HttpResponse> {
  if (step === 'email-send') {
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
      emailSentTo: env.ix.login!.shownAs,
    } as Partial<Interaction>);
    return seeOther(`/interaction/${env.ix.id}`);
  }
  if (step === 'email-verify' || step === 'totp') return failed(env, 'email', env.t('wrong_code'));
  if (step === 'cancel') return complete(env, 'CHALLENGE_FAILED');
  return seeOther(`/interaction/${env.ix.id}`);
}

/** POST /interaction/{id}/{step} */
export async function interactionStep(req: HttpRequest, ctx: TenantContext): Promise<HttpResponse> {
  const env = await open(req, ctx);
  if (!('ix' in env)) return env;
  const step = req.pathParams.step ?? '';
  const isJson = JSON_STEPS.has(step);
  const body = readBody(req);
  if (!body || !csrfValid(env.ix, body.form.csrf) || (isJson && !body.json)) {
    if (isJson) return jsonOk({ error: 'invalid_request', error_description: env.t('form_expired') }, 403);
    return renderView(env, undefined, { error: env.t('form_expired'), status: 403 });
  }
  try {
    return await runStep(env, step, body.form, body.json);
  } catch (err) {
    if (err instanceof InteractionOverError) return expiredPage(ctx, req);
    throw err;
  }
}

async function runStep(
  env: Env,
  step: string,
  form: Record<string, string>,
  json?: Record<string, unknown>,
): Promise<HttpResponse> {
  const { ix, t, auth } = env;
  if (ix.login) {
    const r = await runLoginStep(env, step, form);
    if (r) return r;
    if (ix.login.stage !== 'challenge') return seeOther(`/interaction/${ix.id}`);
    if (ix.login.ghost) return ghostStep(env, step);
  }
  const userId = ix.userId!;
  const key = ix.id;
  const code = (form.code ?? '').replace(/\s+/g, '');
  switch (step) {
    case 'totp': {
      const r = /^\d{6}$/.test(code)
        ? await auth.verifyTotp(userId, code)
        : { ok: false as const, reason: 'format' };
      return r.ok ? passed(env, 'AUTHENTICATOR_APP') : failed(env, 'totp', t('wrong_code'));
    }
    case 'email-send': {
      const r = await auth.sendEmailCode(userId, {
        key,
        ip: env.req.sourceIp,
        locale: ix.locale,
        tenantName: env.ctx.tenant.name,
      });
      if (!r.sent) return renderView(env, 'email', { rateLimited: r.retryAfter ?? 60, status: 429 });
      env.ix = await saveInteraction(env.ctx.store, ix.id, { emailSentTo: r.to } as Partial<Interaction>);
      return seeOther(`/interaction/${ix.id}?view=email`);
    }
    case 'email-verify': {
      const r = /^\d{6}$/.test(code)
        ? await auth.verifyEmailCode(userId, { key, code })
        : { ok: false as const, reason: 'format' };
      return r.ok ? passed(env, 'EMAIL_OTP') : failed(env, 'email', t('wrong_code'));
    }
    case 'passkey-options':
      return jsonOk(await auth.passkeyAuthenticationOptions(userId, { key }));
    case 'passkey-verify': {
      const r = await auth.verifyPasskeyAuthentication(userId, { key, response: json?.response as never });
      return r.ok ? passed(env, 'PASSKEY', true) : failed(env, 'passkey', t('passkey_failed'), true);
    }
    case 'next': {
      if (ix.login) return loginNext(env);
      if (ix.passedWith) {
        if (ix.redirectToSettings) return seeOther(`/interaction/${ix.id}?view=settings`);
        return complete(env, 'CHALLENGE_SUCCEEDED', ix.passedWith);
      }
      if (ix.failures >= ix.maxAttempts) return complete(env, 'CHALLENGE_FAILED');
      return seeOther(`/interaction/${ix.id}`);
    }
    case 'cancel':
      if (ix.mode === 'enroll' && !ix.passedWith && ix.allowSkip) return complete(env, 'ALLOW');
      return complete(env, ix.passedWith ? 'CHALLENGE_SUCCEEDED' : 'CHALLENGE_FAILED', ix.passedWith);
    case 'skip':
      if (ix.mode !== 'enroll' || ix.passedWith || !ix.allowSkip)
        return renderView(env, undefined, { status: 400 });
      return complete(env, 'ALLOW');
    case 'done':
      if (!ix.passedWith) return renderView(env, undefined, { status: 400 });
      return complete(env, 'CHALLENGE_SUCCEEDED', ix.passedWith);
    case 'remove': {
      if (!ix.passedWith || !ix.redirectToSettings) return renderView(env, undefined, { status: 403 });
      // Fix (browser tests): removing the last method left a user with nothing to verify with, yet
      // "Done" still reported is_enrolled=true. The page now asks for another method first.
      const current = await auth.list(userId);
      if (current.length === 1 && current[0]!.id === form.authenticatorId)
        return renderView(env, 'settings', { error: t('cannot_remove_last'), status: 409 });
      await auth.remove(userId, form.authenticatorId ?? '');
      return seeOther(`/interaction/${ix.id}?view=settings`);
    }
  }
  // Adding a method: only after a passed challenge, or as a first method.
  if (!mayEnroll(ix)) return renderView(env, undefined, { status: 403 });
  switch (step) {
    case 'enroll-totp': {
      const secret = ix.pendingTotpSecret;
      const record =
        secret && /^\d{6}$/.test(code) ? await auth.confirmTotp(userId, secret, code) : undefined;
      if (!record) return renderView(env, 'enroll-totp', { error: t('wrong_code'), status: 400 });
      env.ix = await saveInteraction(env.ctx.store, ix.id, { pendingTotpSecret: undefined });
      return passed(env, 'AUTHENTICATOR_APP');
    }
    case 'enroll-email-send': {
      const address = emailSchema.safeParse((form.email ?? '').trim());
      if (!address.success) return renderView(env, 'enroll-email', { error: t('email_label'), status: 400 });
      const r = await auth.sendEmailCode(userId, {
        key,
        ip: env.req.sourceIp,
        to: address.data,
        locale: ix.locale,
        tenantName: env.ctx.tenant.name,
      });
      if (!r.sent) return renderView(env, 'enroll-email', { rateLimited: r.retryAfter ?? 60, status: 429 });
      env.ix = await saveInteraction(env.ctx.store, ix.id, { pendingEmail: address.data });
      return show(env, t('enroll_email_title'), views.enrollEmail(vctx(env), { sentTo: r.to }));
    }
    case 'enroll-email-verify': {
      const r = /^\d{6}$/.test(code)
        ? await auth.verifyEmailCode(userId, { key, code, enroll: true })
        : { ok: false as const, reason: 'format' };
      if (!r.ok)
        return show(
          env,
          t('enroll_email_title'),
          views.enrollEmail(vctx(env), { sentTo: ix.pendingEmail, error: t('wrong_code') }),
          400,
        );
      return passed(env, 'EMAIL_OTP');
    }
    case 'passkey-register-options':
      return jsonOk(
        await auth.passkeyRegistrationOptions(userId, {
          key,
          userName: ix.email ?? userId,
          displayName: ix.email ?? userId,
        }),
      );
    case 'passkey-register-verify': {
      const record = await auth.verifyPasskeyRegistration(userId, { key, response: json?.response as never });
      if (!record) return jsonOk({ next: false });
      return passed(env, 'PASSKEY', true);
    }
  }
  return renderView(env, undefined, { status: 404 });
}
