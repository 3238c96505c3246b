import type { Client } from '../clients/client.js';
import { pickLocale } from '../i18n.js';
import { newInteraction, type LoginState } from '../interaction/interaction.js';
import { interactionWrite } from '../interaction/repository.js';
import type { ClientRequest, LoginParams } from '../records/authorization.js';
import { scopesNeedingConsent } from '../sessions/consent.js';
import { addClient, loadSession, type Session } from '../sessions/session.js';
import { optional, type AuthorizeContext, type AuthorizeOutcome } from './authorize-context.js';
import { RedirectError } from './authorize-errors.js';
import { claimsWithin, consentScope } from './claims-request.js';
import { loginCompletion } from './complete.js';
import {
  acrClaim,
  checkAcr,
  checkClaims,
  checkEssentialAcr,
  checkIdTokenHint,
  checkMaxAge,
  checkPrompt,
  checkResource,
  sessionSatisfies,
} from './login-request.js';

/**
 * A sign-in that does not start with /init-auth (OIDC Core §3.1.2): the SSO session answers at
 * once when it is fresh and strong enough and the client needs no (more) consent; `prompt=none`
 * never shows a page (login_required / consent_required); otherwise the hosted login takes over.
 */
export async function loginFlow(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  client: Client,
  request: ClientRequest,
  now: number,
): Promise<AuthorizeOutcome> {
  const params = await loginParams(p, ctx, client);
  const session = await loadSession(ctx.store, ctx.cookies);
  const fresh = sessionSatisfies(session, params, now) ? session : undefined;
  const consentFor = (userId: string) =>
    scopesNeedingConsent(
      ctx.store,
      client,
      userId,
      // Claims asked for through `claims` need consent for their scopes too (OIDC Core §5.4, §5.5).
      consentScope(request.scope, params.claims),
      params.prompt.includes('consent'),
    );

  if (params.prompt.includes('none')) {
    if (!fresh)
      throw new RedirectError(
        'login_required',
        'the user is not signed in (or not recently or strongly enough)',
      );
    if ((await consentFor(fresh.userId)).length)
      throw new RedirectError('consent_required', 'the user has not consented to this client');
  }
  if (fresh && !params.prompt.includes('select_account') && !(await consentFor(fresh.userId)).length)
    return singleSignOn(ctx, client, request, params, fresh, now);
  return startLogin(p, ctx, request, params, fresh, now);
}

/** The request's OIDC parameters, each checked (OIDC Core §3.1.2.1). */
async function loginParams(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  client: Client,
): Promise<LoginParams> {
  return {
    prompt: checkPrompt(p),
    acrValues: checkAcr(p),
    ...optional('acrEssential', checkEssentialAcr(checkClaims(p))),
    ...optional('maxAge', checkMaxAge(p)),
    ...optional('loginHint', p.login_hint?.slice(0, 254)),
    // Claims whose scope the client may not have are dropped here (OIDC Core §5.5).
    ...optional('claims', claimsWithin(checkClaims(p), client.scope)),
    ...optional('resources', checkResource(p, client)),
    ...optional('uiLocales', p.ui_locales),
    ...optional('hintSub', await checkIdTokenHint(p, ctx.signer, ctx.issuer, client.client_id)),
  };
}

/** Single sign-on: the session answers without a page. */
async function singleSignOn(
  ctx: AuthorizeContext,
  client: Client,
  request: ClientRequest,
  params: LoginParams,
  session: Session,
  now: number,
): Promise<AuthorizeOutcome> {
  if (!session.clients.includes(client.client_id))
    await addClient(ctx.store, ctx.cookies, session, client.client_id);
  const { writes, params: response } = loginCompletion(
    request,
    {
      userId: session.userId,
      authTime: session.authTime,
      amr: session.amr,
      acr: acrClaim(session.acr, params),
      sid: session.sid,
      ...optional('resources', params.resources),
      ...optional('claims', params.claims),
    },
    ctx.issuer,
    now,
  );
  await ctx.store.transact(writes);
  return { kind: 'response', redirectUri: request.redirectUri, mode: request.responseMode, params: response };
}

/** The hosted login takes over: account choice, consent, or identify (login_hint filled in). */
async function startLogin(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  request: ClientRequest,
  params: LoginParams,
  fresh: Session | undefined,
  now: number,
): Promise<AuthorizeOutcome> {
  // login_hint only fills in the identifier (OIDC Core §3.1.2.1 makes it a hint): looking the
  // account up here would answer known and unknown identifiers differently.
  const stage: LoginState['stage'] = fresh
    ? params.prompt.includes('select_account')
      ? 'select'
      : 'consent'
    : 'identify';
  const userId = fresh?.userId;
  const { interaction, binding } = newInteraction(
    {
      mode: 'challenge',
      ...optional('userId', userId),
      login: { params, stage, methodsUsed: [], ...optional('sid', fresh?.sid) },
      request,
      decidedBy: 'login',
      redirectToSettings: false,
      allowSkip: false,
      maxAttempts: 5,
      locale: pickLocale(p.ui_locales, ctx.acceptLanguage),
    },
    now,
  );
  await ctx.store.transact([interactionWrite(interaction)]);
  return { kind: 'interaction', id: interaction.id, binding };
}
