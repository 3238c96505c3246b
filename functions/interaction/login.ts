import { ClientRepository } from '../clients/client-repository.js';
import type { Client } from '../clients/client.js';
import type { HttpResponse } from '../http/request.js';
import type { TenantStore } from '../store/tenant-store.js';
import * as loginViews from '../pages/login-views.js';
import * as views from '../pages/interaction-views.js';
import {
  addClient,
  consentWrite,
  grantedScopes,
  loadSession,
  newSession,
  sessionCookie,
  type Session,
} from '../sessions/session.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { findUserByLogin, ProfileRepository } from '../users/profile-repository.js';
import { authContext, finishError, finishLogin } from './finish.js';
import { saveInteraction, type Interaction } from './interaction.js';
import { seeOther, show, vctx, type Env, type ViewExtra } from './env.js';

/**
 * The hosted login for flows that do not start with /init-auth: identify the user, challenge
 * them with their own methods (a second one when `acr_values=mfa` asks and the first was not a
 * user-verifying passkey), start the SSO session, ask consent for third-party clients, then send
 * the code. An identifier that matches nobody gets the same screens, and every answer is wrong,
 * so the page does not tell who has an account.
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

/** Scopes the user has not yet granted this client (none for first-party clients, OIDC Core §3.1.2.4). */
export async function scopesNeedingConsent(
  store: TenantStore,
  client: Client,
  userId: string,
  scope: string,
  force: boolean,
): Promise<string[]> {
  if (client.first_party && !force) return [];
  const requested = scope.split(' ').filter(Boolean);
  if (force) return requested;
  const granted = await grantedScopes(store, userId, client.client_id);
  return requested.filter((s) => !granted.has(s));
}

async function displayName(env: Env, userId: string): Promise<string> {
  const profile = await new ProfileRepository(env.ctx.store).get(userId);
  return profile?.email ?? profile?.preferred_username ?? profile?.username ?? profile?.name ?? userId;
}

/** Screens of the login stages other than the challenge itself (which the shared views render). */
export async function renderLogin(env: Env, extra: ViewExtra = {}): Promise<HttpResponse | undefined> {
  const login = env.ix.login!;
  const v = vctx(env);
  const status = extra.status ?? 200;
  const { t } = env;
  if (login.stage === 'identify') {
    return show(
      env,
      t('signin_title'),
      loginViews.identify(v, { hint: login.params.loginHint, error: extra.error, notice: extra.notice }),
      status,
    );
  }
  if (login.stage === 'select') {
    const session = await loadSession(env.ctx.store, env.req.cookies);
    if (!session) return seeOther(`/interaction/${env.ix.id}`, undefined);
    return show(
      env,
      t('select_title'),
      loginViews.selectAccount(v, await displayName(env, session.userId)),
      status,
    );
  }
  if (login.stage === 'consent') {
    const client = await clientOf(env);
    const scopes = await scopesNeedingConsent(
      env.ctx.store,
      client,
      env.ix.userId!,
      env.ix.request.scope,
      login.params.prompt.includes('consent'),
    );
    return show(
      env,
      t('consent_title', { client: client.client_name }),
      loginViews.consent(v, {
        client: client.client_name,
        user: await displayName(env, env.ix.userId!),
        scopes,
        ...(env.ix.decoupled?.bindingMessage ? { bindingMessage: env.ix.decoupled.bindingMessage } : {}),
      }),
      status,
    );
  }
  if (login.ghost) {
    // Looks like the email screen of a real account; nothing is sent and no code is right.
    return show(
      env,
      t('email_title'),
      views.emailChallenge(v, { sentTo: login.shownAs, ...extra, others: false }),
      status,
    );
  }
  return undefined;
}

/** Finishes with the session's authentication (SSO, or the session this sign-in just started). */
async function finishWithSession(
  env: Env,
  session: Pick<Session, 'userId' | 'authTime' | 'amr' | 'acr' | 'sid'>,
  cookies: string[] = [],
): Promise<HttpResponse> {
  const login = env.ix.login!;
  return finishLogin(
    env.ctx.store,
    env.ix,
    {
      userId: session.userId,
      authTime: session.authTime,
      amr: session.amr,
      acr: session.acr,
      sid: session.sid,
      ...(login.params.resources ? { resources: login.params.resources } : {}),
      ...(login.params.claims ? { claims: login.params.claims } : {}),
    },
    env.ctx.issuer,
    env.secure,
    { cookies },
  );
}

/** After SSO (or a fresh login): consent if needed, else the code. */
async function proceed(env: Env, session: Session, cookies: string[] = []): Promise<HttpResponse> {
  const client = await clientOf(env);
  const force = env.ix.login!.params.prompt.includes('consent');
  const needed = await scopesNeedingConsent(
    env.ctx.store,
    client,
    session.userId,
    env.ix.request.scope,
    force,
  );
  if (needed.length) {
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
      userId: session.userId,
      login: { ...env.ix.login!, stage: 'consent', sid: session.sid },
    });
    return seeOther(`/interaction/${env.ix.id}`, cookies);
  }
  if (!session.clients.includes(client.client_id) && !cookies.length)
    await addClient(env.ctx.store, env.req.cookies, session, client.client_id);
  return finishWithSession(env, session, cookies);
}

/** The user passed a method in a login: maybe a second one, then the session. */
export async function loginPassed(env: Env, method: AuthenticatorType, json: boolean): Promise<HttpResponse> {
  const login = env.ix.login!;
  const used = [...new Set([...login.methodsUsed, method])];
  const auth = authContext(used);
  if (login.params.acrValues.includes('mfa') && auth.acr !== 'mfa') {
    const have = new Set((await env.auth.list(env.ix.userId!)).map((a) => a.type));
    const remaining = [...have].filter((m) => !used.includes(m));
    if (!remaining.length) {
      return finishError(
        env.ctx.store,
        env.ix,
        'unmet_authentication_requirements',
        'a second factor is required and the user has none',
        env.ctx.issuer,
        env.secure,
      );
    }
    env.ix = await saveInteraction(env.ctx.store, env.ix.id, { login: { ...login, methodsUsed: used } });
    if (json)
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ next: true }),
      };
    return seeOther(`/interaction/${env.ix.id}?second=1`);
  }
  const client = await clientOf(env);
  const { cookieValue, session, write } = newSession({
    userId: env.ix.userId!,
    amr: auth.amr,
    acr: auth.acr,
    clients: [client.client_id],
  });
  await env.ctx.store.transact([write]);
  const cookies = [sessionCookie(cookieValue, env.secure)];
  env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
    login: { ...login, methodsUsed: used, sid: session.sid },
  });
  if (json) {
    // The browser sets the session cookie from this response; its next step (`next`) finishes.
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ next: true }),
      cookies,
    };
  }
  return proceed(env, session, cookies);
}

/** `next` after a passkey in a login: finish what `loginPassed` started. */
export async function loginNext(env: Env): Promise<HttpResponse> {
  const session = await loadSession(env.ctx.store, env.req.cookies);
  if (session && session.sid === env.ix.login!.sid) return proceed(env, session);
  return seeOther(`/interaction/${env.ix.id}`);
}

/** Steps only a login has. Returns undefined for steps it does not own. */
export async function runLoginStep(
  env: Env,
  step: string,
  form: Record<string, string>,
): Promise<HttpResponse | undefined> {
  const login = env.ix.login!;
  const { t } = env;
  switch (step) {
    case 'identify': {
      if (login.stage !== 'identify') return seeOther(`/interaction/${env.ix.id}`);
      const identifier = (form.identifier ?? '').trim();
      if (!identifier || identifier.length > 254)
        return renderLogin(env, { error: t('identifier_required'), status: 400 });
      const found = await findUserByLogin(env.ctx.store, identifier);
      const methods = found ? await env.auth.list(found.userId) : [];
      const next: Partial<Interaction> =
        found && methods.length
          ? { userId: found.userId, login: { ...login, stage: 'challenge' } }
          : { login: { ...login, stage: 'challenge', ghost: true, shownAs: mask(identifier) } };
      env.ix = await saveInteraction(env.ctx.store, env.ix.id, next);
      return seeOther(`/interaction/${env.ix.id}`);
    }
    case 'select-account': {
      if (login.stage !== 'select') return seeOther(`/interaction/${env.ix.id}`);
      const session = await loadSession(env.ctx.store, env.req.cookies);
      if (form.choice === 'current' && session) {
        env.ix = await saveInteraction(env.ctx.store, env.ix.id, {
          userId: session.userId,
          login: { ...login, stage: 'challenge' },
        });
        return proceed(env, session);
      }
      env.ix = await saveInteraction(env.ctx.store, env.ix.id, { login: { ...login, stage: 'identify' } });
      return seeOther(`/interaction/${env.ix.id}`);
    }
    case 'consent': {
      if (login.stage !== 'consent' || !env.ix.userId) return seeOther(`/interaction/${env.ix.id}`);
      if (form.decision !== 'allow') {
        return finishError(
          env.ctx.store,
          env.ix,
          'access_denied',
          'the user denied the request',
          env.ctx.issuer,
          env.secure,
        );
      }
      const session = await loadSession(env.ctx.store, env.req.cookies);
      if (!session || session.sid !== login.sid) return renderLogin(env, { status: 400 });
      const client = await clientOf(env);
      const previous = await grantedScopes(env.ctx.store, session.userId, client.client_id);
      await env.ctx.store.transact([
        consentWrite(session.userId, client.client_id, env.ix.request.scope.split(' '), previous),
      ]);
      if (!session.clients.includes(client.client_id))
        await addClient(env.ctx.store, env.req.cookies, session, client.client_id);
      return finishWithSession(env, session);
    }
  }
  return undefined;
}
