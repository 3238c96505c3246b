import { setTimeout as sleep } from 'node:timers/promises';
import { ClientRepository } from '../clients/client-repository.js';
import { sha256 } from '../crypto/secrets.js';
import { notifyLogout } from '../oidc/backchannel-logout.js';
import { consentScope } from '../oidc/claims-request.js';
import { clientDisplayName, type Client } from '../clients/client.js';
import type { HttpResponse } from '../http/request.js';
import type { Interaction, LoginMethod, LoginState } from '../interaction/interaction.js';
import { saveInteraction } from '../interaction/repository.js';
import { authContext } from '../sessions/auth-context.js';
import { consentWrite, grantedScopes, scopesNeedingConsent } from '../sessions/consent.js';
import {
  addClient,
  loadAccounts,
  loadSession,
  sessionCookie,
  signIn,
  type Session,
} from '../sessions/session.js';
import { acrClaim, acrReaches, sessionSatisfies, targetAcr } from '../oidc/login-request.js';
import { scopeDescriptions } from '../scopes/tenant-scopes.js';
import { settingsOf } from '../tenants/settings.js';
import { findUserByLogin, ProfileRepository } from '../users/profile-repository.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { auditOf, screenUrl, show, vctx, type Env, type ViewExtra } from './env.js';
import { finishError, finishLogin } from './finish.js';
import { jsonOk, seeOther } from './respond.js';
import * as views from './views/challenge.js';
import * as loginViews from './views/login.js';
import { html } from './views/html.js';
import { upstreamButtons } from './views/upstream.js';
import { IdentityProviderRepository } from '../upstream/provider.js';

/**
 * The hosted login for flows that do not start with /init-auth: identify the user, challenge
 * them (a second method when `acr_values=mfa` asks and the first was not a user-verifying
 * passkey), start the SSO session, ask consent for third-party clients, then send the code.
 *
 * The pages do not tell who has an account. After the identifier, everyone — a user with an
 * authenticator app, with emailed codes, with a passkey, with no method, or nobody at all — gets
 * the same chooser offering every method, and each method's screen is the same for all; a method
 * the account lacks (or an identifier that matches nobody, a "ghost") simply never succeeds. The
 * emailed code goes out only when the account has that method, but the answer is the same either
 * way; passkey options never list credentials (passkeys here are discoverable, so the browser
 * finds them without a list that would name the account). The same store work is done for an
 * unknown identifier, so the timing does not tell either.
 */
const mask = (identifier: string) => {
  const [name, domain] = identifier.split('@');
  return domain ? `${name!.slice(0, 1)}•••@${domain}` : `${identifier.slice(0, 1)}•••`;
};

async function clientOf(env: Env): Promise<Client> {
  const client = await new ClientRepository(env.ctx.store, env.ctx.tenant).get(env.ix.request.clientId);
  if (!client) throw new Error('the client of this interaction no longer exists');
  return client;
}

async function displayName(env: Env, userId: string): Promise<string> {
  const profile = await new ProfileRepository(env.ctx.store).get(userId);
  return profile?.email ?? profile?.preferred_username ?? profile?.username ?? profile?.name ?? userId;
}

/** What consent is asked for: the scope, and the scopes of claims asked for through `claims` (OIDC Core §5.4, §5.5). */
const askedScope = (env: Env) => consentScope(env.ix.request.scope, env.ix.login?.params.claims);

/** A user id no account has: its (empty) method list is read for unknown identifiers, for equal work. */
const NOBODY = '~nobody';
/**
 * The least time the uniform "send me a code" step takes, mail or no mail: above a mail service's
 * usual SendEmail latency (tens of milliseconds in region), so the answer's timing is the floor's.
 */
export const EMAIL_SEND_MIN_MS = 400;
const UNIFORM_VIEWS = ['totp', 'email', 'passkey'] as const;
const EVERY_METHOD: AuthenticatorType[] = ['PASSKEY', 'AUTHENTICATOR_APP', 'EMAIL_OTP'];

/**
 * The first method of a sign-in that began with an identifier: the uniform screens. A second
 * factor (acr=mfa) comes after the user proved who they are and shows their own methods; a CIBA
 * `login_hint` is the client's choice of user, not something a browser typed.
 */
export const uniform = (login: LoginState | undefined): boolean =>
  login !== undefined &&
  login.stage === 'challenge' &&
  login.shownAs !== undefined &&
  !login.methodsUsed.length;

/** The uniform screens: the chooser with every method, and each method's screen, alike for everyone. */
function uniformScreen(env: Env, login: LoginState, requested: string | undefined, extra: ViewExtra) {
  const v = vctx(env);
  switch (UNIFORM_VIEWS.find((view) => view === requested)) {
    case 'totp':
      return show(env, env.t('totp_title'), views.totpChallenge(v, { ...extra, others: true }), extra.status);
    case 'email': {
      const view = views.emailChallenge(v, { ...extra, sentTo: env.ix.emailSentTo, others: true });
      return show(env, env.t('email_title'), view, extra.status);
    }
    case 'passkey': {
      const view = views.passkeyChallenge(v, { others: true, notice: extra.notice });
      return show(env, env.t('passkey_title'), view, extra.status);
    }
    default:
      return show(
        env,
        env.t('verify_title'),
        views.chooseMethod(v, EVERY_METHOD, extra.error, extra.notice),
        extra.status,
      );
  }
}

/** Steps whose answer would otherwise depend on the account, answered alike while `uniform`. */
export const UNIFORM_STEPS: Record<string, (env: Env, login: LoginState) => Promise<HttpResponse>> = {
  async 'email-send'(env, login) {
    const started = Date.now();
    const userId = env.ix.userId;
    const methods = await env.auth.list(userId ?? NOBODY);
    const sends = userId && !login.ghost && methods.some((m) => m.type === 'EMAIL_OTP');
    const retryAfter = sends
      ? (
          await env.auth.sendEmailCode(userId, {
            key: env.ix.id,
            ip: env.req.sourceIp,
            locale: env.ix.locale,
            tenantName: env.ctx.tenant.name,
          })
        ).retryAfter
      : // No mail, but the same allowance spent: the limit comes after as many sends for anyone.
        await env.auth.takeEmailSendAllowance(login.guessSubject ?? userId ?? NOBODY, env.req.sourceIp);
    // Sending takes a mail service round trip that not sending does not: both answer no sooner
    // than this, so the time to answer does not say whether an account got a mail.
    await sleep(Math.max(0, EMAIL_SEND_MIN_MS - (Date.now() - started)));
    if (retryAfter !== undefined)
      return uniformScreen(env, login, 'email', { rateLimited: retryAfter, status: 429 });
    // "Sent to" what the user typed, masked, whatever the account's address looks like.
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, { emailSentTo: login.shownAs });
    return seeOther(screenUrl(env, '?view=email'));
  },

  async 'passkey-options'(env, login) {
    const userId = !login.ghost && env.ix.userId ? env.ix.userId : NOBODY;
    const options = await env.auth.passkeyAuthenticationOptions(userId, { key: env.ix.id });
    return jsonOk({ ...options, allowCredentials: [] });
  },
};

type LoginScreen = (env: Env, login: LoginState, extra: ViewExtra) => Promise<HttpResponse>;

/** The screens of the login stages other than the challenge itself (which the shared views render). */
const LOGIN_SCREENS = {
  async identify(env, login, extra) {
    const view = loginViews.identify(vctx(env), {
      hint: login.params.loginHint,
      error: extra.error,
      notice: extra.notice,
      signUp: settingsOf(env.ctx.tenant).signUp === 'email',
    });
    // "Continue with <name>" for each upstream identity provider of the tenant.
    const upstream = await new IdentityProviderRepository(
      env.ctx.store,
      env.ctx.services.secretBox,
      env.ctx.origin,
    ).listForLogin();
    return show(
      env,
      env.t('signin_title'),
      html`${view}${upstreamButtons(vctx(env), upstream)}`,
      extra.status,
    );
  },

  async select(env, _login, extra) {
    const accounts = await loadAccounts(env.ctx.store, env.req.cookies);
    if (!accounts.length) return seeOther(screenUrl(env));
    // The current account (signed in last) first.
    const choices = await Promise.all(
      accounts.toReversed().map(async (a) => ({ sid: a.sid, name: await displayName(env, a.userId) })),
    );
    const view = loginViews.selectAccount(vctx(env), choices);
    return show(env, env.t('select_title'), view, extra.status);
  },

  async consent(env, login, extra) {
    const client = await clientOf(env);
    const force = login.params.prompt.includes('consent');
    const scopes = await scopesNeedingConsent(env.ctx.store, client, env.ix.userId!, askedScope(env), force);
    const bindingMessage = env.ix.decoupled?.bindingMessage;
    const view = loginViews.consent(vctx(env), {
      client: clientDisplayName(client),
      user: await displayName(env, env.ix.userId!),
      scopes,
      descriptions: await scopeDescriptions(env.ctx.store, scopes),
      ...(bindingMessage ? { bindingMessage } : {}),
    });
    return show(env, env.t('consent_title', { client: clientDisplayName(client) }), view, extra.status);
  },
} satisfies Record<Exclude<LoginState['stage'], 'challenge'>, LoginScreen>;

/** The screen of a login stage, or undefined when the shared challenge screens take over. */
export async function renderLogin(
  env: Env,
  extra: ViewExtra = {},
  requested?: string,
): Promise<HttpResponse | undefined> {
  const login = env.ix.login!;
  if (login.stage !== 'challenge') return LOGIN_SCREENS[login.stage](env, login, extra);
  if (uniform(login)) return uniformScreen(env, login, requested, extra);
  if (login.ghost) {
    // Looks like the email screen of a real account; nothing is sent and no code is right.
    const view = views.emailChallenge(vctx(env), { sentTo: login.shownAs, ...extra, others: false });
    return show(env, env.t('email_title'), view, extra.status);
  }
  return undefined;
}

/** Finishes with the session's authentication (SSO, or the session this sign-in just started). */
function finishWithSession(
  env: Env,
  session: Pick<Session, 'userId' | 'authTime' | 'amr' | 'acr' | 'sid' | 'idp'>,
  cookies: string[] = [],
): Promise<HttpResponse> {
  const { params } = env.ix.login!;
  const result = {
    userId: session.userId,
    authTime: session.authTime,
    amr: session.amr,
    acr: acrClaim(session.acr, params),
    sid: session.sid,
    ...(params.resources ? { resources: params.resources } : {}),
    ...(params.claims ? { claims: params.claims } : {}),
    // This sign-in's provider, or the one the session's account signed in through (SSO).
    ...((env.ix.login!.upstream ?? session.idp) ? { idp: env.ix.login!.upstream ?? session.idp } : {}),
  };
  return finishLogin(env, result, cookies);
}

/** After SSO (or a fresh login): consent if needed, else the code. */
async function proceed(env: Env, session: Session, cookies: string[] = []): Promise<HttpResponse> {
  const client = await clientOf(env);
  const force = env.ix.login!.params.prompt.includes('consent');
  const needed = await scopesNeedingConsent(env.ctx.store, client, session.userId, askedScope(env), force);
  if (needed.length) {
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
      userId: session.userId,
      login: { ...env.ix.login!, stage: 'consent', sid: session.sid },
    });
    return seeOther(screenUrl(env), cookies);
  }
  if (!session.clients.includes(client.client_id) && !cookies.length)
    await addClient(env.ctx.store, env.req.cookies, session, client.client_id);
  return finishWithSession(env, session, cookies);
}

/** The user passed a method in a login: maybe a second one, then the session. */
export async function loginPassed(env: Env, method: LoginMethod, json: boolean): Promise<HttpResponse> {
  const login = env.ix.login!;
  // A method a new account just added proves nothing its emailed code did not: the sign-up
  // signs in with the code (hosted/sign-up.ts).
  const added = login.signUp?.stage === 'enroll' ? [] : [method];
  const used = [...new Set([...login.methodsUsed, ...added])];
  const auth = authContext(used);
  const target = targetAcr(login.params);
  if (!acrReaches(auth.acr, target.acr)) {
    const have = new Set((await env.auth.list(env.ix.userId!)).map((a) => a.type));
    // OIDC Core §3.1.2.1: acr_values are voluntary, so without a second method the sign-in ends
    // with what the user could do (and says so in `acr`); only an essential acr fails (§5.5.1.1).
    // Another method is asked for only when it would lift the level (and, essential, reach it).
    const next = [...have].filter((m) => !used.includes(m)).map((m) => authContext([...used, m]).acr);
    if (next.some((a) => (target.essential ? acrReaches(a, target.acr) : !acrReaches(auth.acr, a)))) {
      env.ix = await saveInteraction(env.ctx.store, env.ix.id, { login: { ...login, methodsUsed: used } });
      return json ? jsonOk({ next: true }) : seeOther(screenUrl(env, '?second=1'));
    }
    if (target.essential)
      return finishError(
        env,
        'unmet_authentication_requirements',
        'the required authentication level needs a method the user has not enrolled',
      );
  }
  const client = await clientOf(env);
  // Added to this browser's session beside the accounts already signed in on it (same cookie).
  const { cookieValue, session, dropped } = await signIn(env.ctx.store, env.req.cookies, {
    userId: env.ix.userId!,
    amr: auth.amr,
    acr: auth.acr,
    clients: [client.client_id],
    ...(env.ix.login!.upstream ? { idp: env.ix.login!.upstream } : {}),
  });
  // An account this sign-in replaced (the same user again) or pushed out (past five) has ended:
  // its relying parties are told (Back-Channel Logout 1.0 §2.5).
  if (dropped.length)
    await notifyLogout(dropped, {
      clients: new ClientRepository(env.ctx.store, env.ctx.tenant),
      signer: env.ctx.signer,
      issuer: env.ctx.issuer,
    });
  await auditOf(env).record({
    type: 'signin.succeeded',
    detail: { userId: session.userId, clientId: client.client_id, methods: used },
  });
  const cookies = [sessionCookie(cookieValue, env.secure)];
  env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
    login: { ...login, methodsUsed: used, sid: session.sid },
  });
  // The browser sets the session cookie from this response; its next step (`next`) finishes.
  if (json) return jsonOk({ next: true }, 200, cookies);
  return proceed(env, session, cookies);
}

/** `next` after a passkey in a login: finish what `loginPassed` started. */
export async function loginNext(env: Env): Promise<HttpResponse> {
  const sid = env.ix.login!.sid;
  const session = sid ? await loadSession(env.ctx.store, env.req.cookies, sid) : undefined;
  if (session) return proceed(env, session);
  return seeOther(screenUrl(env));
}

/** See `LoginState.guessSubject`. */
function ghostSubject(identifier: string, userId: string | undefined): string {
  return userId ?? `ghost:${sha256(identifier.toLowerCase())}`;
}

type LoginStep = (env: Env, login: LoginState, form: Record<string, string>) => Promise<HttpResponse>;

/** Steps only a login has, each allowed in one stage. */
export const LOGIN_STEPS: Record<string, LoginStep> = {
  async identify(env, login, form) {
    if (login.stage !== 'identify') return seeOther(screenUrl(env));
    const identifier = (form.identifier ?? '').trim();
    if (!identifier || identifier.length > 254)
      return LOGIN_SCREENS.identify(env, login, { error: env.t('identifier_required'), status: 400 });
    const found = await findUserByLogin(env.ctx.store, identifier);
    // The same reads for an identifier that matches nobody (timing), and the same next screen.
    const methods = await env.auth.list(found?.userId ?? NOBODY);
    const shownAs = mask(identifier);
    const next: Partial<Interaction> =
      found && methods.length
        ? { userId: found.userId, login: { ...login, stage: 'challenge', shownAs } }
        : {
            login: {
              ...login,
              stage: 'challenge',
              ghost: true,
              shownAs,
              guessSubject: ghostSubject(identifier, found?.userId),
            },
          };
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, next);
    return seeOther(screenUrl(env));
  },

  async 'select-account'(env, login, form) {
    if (login.stage !== 'select') return seeOther(screenUrl(env));
    // Only an account of this browser's own session can be chosen (another's sid finds nothing).
    const session = form.choice ? await loadSession(env.ctx.store, env.req.cookies, form.choice) : undefined;
    if (session && sessionSatisfies(session, login.params)) {
      env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
        userId: session.userId,
        login: { ...login, stage: 'challenge', sid: session.sid },
      });
      return proceed(env, session);
    }
    // Another account, or one whose sign-in is too old or weak for this request: sign in anew.
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, { login: { ...login, stage: 'identify' } });
    return seeOther(screenUrl(env));
  },

  async consent(env, login, form) {
    if (login.stage !== 'consent' || !env.ix.userId) return seeOther(screenUrl(env));
    if (form.decision !== 'allow') return finishError(env, 'access_denied', 'the user denied the request');
    const session = login.sid ? await loadSession(env.ctx.store, env.req.cookies, login.sid) : undefined;
    if (!session || session.userId !== env.ix.userId)
      return LOGIN_SCREENS.consent(env, login, { status: 400 });
    const client = await clientOf(env);
    const previous = await grantedScopes(env.ctx.store, session.userId, client.client_id);
    await env.ctx.store.transact([
      consentWrite(session.userId, client.client_id, askedScope(env).split(' '), previous),
    ]);
    if (!session.clients.includes(client.client_id))
      await addClient(env.ctx.store, env.req.cookies, session, client.client_id);
    return finishWithSession(env, session);
  },
};
