import type { Client } from '../clients/client.js';
import { pickLocale } from '../i18n.js';
import { newInteraction, type LoginState } from '../interaction/interaction.js';
import { interactionWrite } from '../interaction/repository.js';
import type { ClientRequest, LoginParams } from '../records/authorization.js';
import { scopesNeedingConsent } from '../sessions/consent.js';
import { addClient, loadAccounts, type Session } from '../sessions/session.js';
import { findUserByLogin } from '../users/profile-repository.js';
import { PROVIDER_ID, providerKey } from '../upstream/provider.js';
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
 * never shows a page (login_required / consent_required / account_selection_required, §3.1.2.6);
 * otherwise the hosted login takes over. The browser may hold several accounts: a hint
 * (`id_token_hint`, `login_hint`) picks one; without a hint, more than one asks the user to choose.
 */
export async function loginFlow(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  client: Client,
  request: ClientRequest,
  now: number,
): Promise<AuthorizeOutcome> {
  const params = await loginParams(p, ctx, client);
  const accounts = await loadAccounts(ctx.store, ctx.cookies, now);
  const hinted = params.hintSub !== undefined || params.loginHint !== undefined;
  const candidates = hinted ? await hintedAccounts(ctx, accounts, params) : accounts;
  // prompt=login asks for a new sign-in (which joins the others); otherwise several accounts, or
  // select_account with any, show the chooser.
  const choose =
    !params.prompt.includes('login') &&
    (candidates.length > 1 || (params.prompt.includes('select_account') && accounts.length > 0));
  const account = candidates.length === 1 ? candidates[0] : undefined;
  const fresh = sessionSatisfies(account, params, now) ? account : undefined;
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
    if (candidates.length > 1)
      throw new RedirectError('account_selection_required', 'several accounts are signed in; send a hint');
    if (!fresh)
      throw new RedirectError(
        'login_required',
        'the user is not signed in (or not recently or strongly enough)',
      );
    if ((await consentFor(fresh.userId)).length)
      throw new RedirectError('consent_required', 'the user has not consented to this client');
  }
  if (fresh && !choose && !(await consentFor(fresh.userId)).length)
    return singleSignOn(ctx, client, request, params, fresh, now);
  const stage: LoginState['stage'] = choose ? 'select' : fresh ? 'consent' : 'identify';
  return startLogin(p, ctx, request, params, stage, stage === 'consent' ? fresh : undefined, now);
}

/**
 * The accounts of this browser the hint names. Only accounts already signed in here are matched
 * (the browser knows them), so this says nothing about who else has an account.
 */
async function hintedAccounts(
  ctx: AuthorizeContext,
  accounts: Session[],
  params: LoginParams,
): Promise<Session[]> {
  if (params.hintSub !== undefined) return accounts.filter((a) => a.userId === params.hintSub);
  if (!accounts.length || params.loginHint === undefined) return [];
  const found = await findUserByLogin(ctx.store, params.loginHint);
  return found ? accounts.filter((a) => a.userId === found.userId) : [];
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
    ...optional('identityProvider', await checkIdentityProvider(p, ctx)),
  };
}

/**
 * `identity_provider=<id>` (the tenant's name for an upstream provider, like Keycloak's
 * `kc_idp_hint`): the sign-in goes straight there. An id the tenant does not have is the client's
 * mistake, answered at its redirect URI (RFC 6749 §4.1.2.1).
 */
async function checkIdentityProvider(
  p: Record<string, string>,
  ctx: AuthorizeContext,
): Promise<string | undefined> {
  const id = p.identity_provider;
  if (id === undefined) return undefined;
  if (!PROVIDER_ID.test(id) || !(await ctx.store.get(providerKey(id))))
    throw new RedirectError('invalid_request', 'identity_provider names no identity provider of this tenant');
  return id;
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
      ...optional('idp', session.idp),
    },
    ctx,
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
  stage: LoginState['stage'],
  fresh: Session | undefined,
  now: number,
): Promise<AuthorizeOutcome> {
  // login_hint only fills in the identifier (OIDC Core §3.1.2.1 makes it a hint); it was matched
  // only against the accounts this browser already holds.
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
