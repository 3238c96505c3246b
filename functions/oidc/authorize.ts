import { ActionRepository, decide, decideAction, type ActionState } from '../actions/action.js';
import { ruleFacts } from '../actions/rules.js';
import type { Client } from '../clients/client.js';
import type { ClientRepository } from '../clients/client-repository.js';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import { attemptKey, readAttempt, splitToken, type Attempt } from '../federation/attempt.js';
import { ConditionFailedError, type WriteOp } from '../store/store.js';
import { interactionKey, newInteraction } from '../interaction/interaction.js';
import { pickLocale } from '../i18n.js';
import { completion, loginCompletion, type ActionRun, type ClientRequest } from './complete.js';
import type { Signer } from '../signing/signer.js';
import { addClient, loadSession } from '../sessions/session.js';
import { scopesNeedingConsent } from '../interaction/login.js';
import type { LoginState } from '../interaction/interaction.js';
import { findUserByLogin } from '../users/profile-repository.js';
import {
  checkAcr,
  checkClaims,
  checkIdTokenHint,
  checkMaxAge,
  checkPrompt,
  checkResource,
  sessionSatisfies,
  type LoginParams,
} from './login-request.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Tenant } from '../tenants/tenant.js';
import { UserRecords } from '../users/user-records.js';
import type { ResponseMode } from './authorization-response.js';
import { resolveRequestUri } from './request-uri.js';

/**
 * The authorization endpoint, assembled from small named checks in the order the spec decides them
 * (after node-oidc-provider's pipeline): `/init-auth` flows (a `token`) run the tenant's action;
 * every other request is a hosted login (`loginFlow`). Until the client and redirect URI are
 * validated, errors are shown to the user on a page and never redirected (RFC 6749 §4.1.2.1); after
 * that they go back to the client as `error` parameters.
 */
export interface AuthorizeContext {
  tenant: Tenant;
  store: TenantStore;
  clients: ClientRepository;
  issuer: string;
  sourceIp: string;
  userAgent: string;
  acceptLanguage?: string;
  cookies: Record<string, string>;
  signer: Signer;
  now?: number;
}

export { PageError, RedirectError } from './authorize-errors.js';
import { PageError, RedirectError } from './authorize-errors.js';

export type AuthorizeOutcome =
  | { kind: 'response'; redirectUri: string; mode: ResponseMode; params: Record<string, string> }
  /** The user goes on to the hosted challenge (or enrollment) at /interaction/{id}. */
  | { kind: 'interaction'; id: string; cookieValue: string };

const MAX = { state: 8192, nonce: 2048, token: 200, scope: 1024 } as const;

async function checkClient(p: Record<string, string>, ctx: AuthorizeContext): Promise<Client> {
  if (!p.client_id) throw new PageError(400, 'invalid_request', 'The request has no client_id.');
  const client = await ctx.clients.get(p.client_id);
  if (!client)
    throw new PageError(400, 'invalid_client', 'The application that sent you here is not registered.');
  return client;
}

function checkRedirectUri(p: Record<string, string>, client: Client): string {
  const uri = p.redirect_uri;
  if (!uri) throw new PageError(400, 'invalid_request', 'The request has no redirect_uri.');
  // Exact string match against the registered URIs (RFC 6749 §3.1.2.3; OAuth 2.0 Security BCP §4.1.3).
  if (!client.redirect_uris.includes(uri)) {
    throw new PageError(
      400,
      'invalid_redirect_uri',
      'The redirect_uri is not registered for this application.',
    );
  }
  return uri;
}

export function checkResponseMode(p: Record<string, string>): ResponseMode {
  const mode = p.response_mode ?? 'query';
  if (mode !== 'query' && mode !== 'form_post') {
    throw new RedirectError('invalid_request', 'response_mode must be query or form_post');
  }
  return mode;
}

export function checkResponseType(p: Record<string, string>, federated: boolean): void {
  // The reference flow's own example omits response_type; `code` is the only one there is.
  const type = p.response_type ?? (federated ? 'code' : undefined);
  if (!type) throw new RedirectError('invalid_request', 'response_type is required');
  if (type !== 'code')
    throw new RedirectError('unsupported_response_type', 'only response_type=code is supported');
}

export function checkScope(p: Record<string, string>, client: Client, federated: boolean): string {
  const requested = (p.scope ?? (federated ? 'openid' : '')).split(' ').filter(Boolean);
  if (requested.length === 0) throw new RedirectError('invalid_scope', 'scope is required');
  if (p.scope && p.scope.length > MAX.scope) throw new RedirectError('invalid_scope', 'scope is too long');
  const allowed = new Set(client.scope.split(' '));
  const refused = requested.filter((s) => !allowed.has(s));
  if (refused.length)
    throw new RedirectError('invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  return [...new Set(requested)].join(' ');
}

export function checkPkce(
  p: Record<string, string>,
  client: Client,
): { codeChallenge?: string; codeChallengeMethod?: 'S256' } {
  const challenge = p.code_challenge;
  if (!challenge) {
    if (client.require_pkce)
      throw new RedirectError('invalid_request', 'code_challenge is required (PKCE, S256)');
    if (p.code_challenge_method)
      throw new RedirectError('invalid_request', 'code_challenge_method without code_challenge');
    return {};
  }
  // Only S256 (RFC 7636 §4.2; "plain" adds nothing over no PKCE).
  if ((p.code_challenge_method ?? 'plain') !== 'S256') {
    throw new RedirectError('invalid_request', 'code_challenge_method must be S256');
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
    throw new RedirectError('invalid_request', 'code_challenge is not an S256 challenge');
  return { codeChallenge: challenge, codeChallengeMethod: 'S256' };
}

export function checkLengths(p: Record<string, string>): void {
  if ((p.state?.length ?? 0) > MAX.state)
    throw new RedirectError('invalid_request', `state is longer than ${MAX.state} characters`);
  if ((p.nonce?.length ?? 0) > MAX.nonce)
    throw new RedirectError('invalid_request', `nonce is longer than ${MAX.nonce} characters`);
}

const tokenError = () =>
  new RedirectError(
    'invalid_request',
    'the token is invalid, expired or already used: start again with /init-auth',
  );

async function loadAttempt(
  p: Record<string, string>,
  ctx: AuthorizeContext,
): Promise<{ attempt: Attempt; tokenHash: string }> {
  const token = p.token;
  if (!token) throw new RedirectError('invalid_request', 'token is required: get one from POST /init-auth');
  const parts = token.length <= MAX.token ? splitToken(token) : undefined;
  if (!parts) throw tokenError();
  const attempt = await readAttempt(ctx.store, parts.idempotencyKey);
  const tokenHash = sha256(parts.secret);
  if (!attempt || attempt.consumedAt !== undefined || !constantTimeEqual(attempt.tokenHash, tokenHash))
    throw tokenError();
  return { attempt, tokenHash };
}

/**
 * Runs the action when the user arrives: the rules (or the default) decide ALLOW, BLOCK or
 * CHALLENGE. CHALLENGE sends an enrolled user to the hosted challenge; a user with nothing to be
 * challenged with may enroll a first method there (unless the action forbids it, in which case they
 * pass with `is_enrolled=false`, as the reference product does). `redirectToSettings` always goes
 * through the hosted pages, since managing methods needs a passed challenge.
 */
async function runAction(attempt: Attempt, ctx: AuthorizeContext): Promise<Decision> {
  const actions = new ActionRepository(ctx.store, ctx.tenant);
  const users = new UserRecords(ctx.store);
  const [config, authenticators] = await Promise.all([
    actions.get(attempt.action),
    users.authenticators(attempt.userId),
  ]);
  const isEnrolled = authenticators.length > 0;
  const { outcome, decidedBy } = decideAction(
    config,
    ruleFacts({
      action: attempt.action,
      custom: attempt.custom,
      isEnrolled,
      methods: [...new Set(authenticators.map((a) => a.type))],
      ip: ctx.sourceIp,
      userAgent: ctx.userAgent,
    }),
  );
  if (outcome === 'BLOCK') return { state: 'BLOCK', isEnrolled, decidedBy };
  const wantsSettings = attempt.redirectToSettings;
  const decision = decide(outcome, isEnrolled);
  if ('state' in decision && !wantsSettings) {
    if (outcome === 'CHALLENGE' && !config.allowEnrollment) return { state: 'ALLOW', isEnrolled, decidedBy };
    if (outcome !== 'CHALLENGE') return { state: decision.state, isEnrolled, decidedBy };
  }
  if (!isEnrolled && !config.allowEnrollment) return { state: 'ALLOW', isEnrolled, decidedBy };
  return {
    interaction: {
      mode: isEnrolled ? 'challenge' : 'enroll',
      decidedBy,
      maxAttempts: config.maxAttempts,
      // The reference product lets a user facing CHALLENGE with nothing enrolled through; so may the
      // user here, unless they came to manage their settings.
      allowSkip: !wantsSettings,
    },
  };
}

type Decision =
  | { state: ActionState; isEnrolled: boolean; decidedBy: string }
  | {
      interaction: {
        mode: 'challenge' | 'enroll';
        decidedBy: string;
        maxAttempts: number;
        allowSkip: boolean;
      };
    };

export async function authorize(
  query: Record<string, string>,
  ctx: AuthorizeContext,
): Promise<AuthorizeOutcome> {
  // RFC 9126 §4: a request_uri from the PAR endpoint stands for the pushed parameters.
  const { params: p, pushed } = await resolveRequestUri(query, ctx.store);
  const now = ctx.now ?? Date.now();
  const client = await checkClient(p, ctx);
  const redirectUri = checkRedirectUri(p, client);
  const federated = p.token !== undefined;
  // An unsupported response_mode is an error for the client like any other, sent back in the
  // default mode (query).
  const base: { redirectUri: string; mode: ResponseMode } = { redirectUri, mode: 'query' };
  const extra = { ...(p.state !== undefined ? { state: p.state } : {}), iss: ctx.issuer };
  try {
    // RFC 9126 §4 and §6: refused with invalid_request, sent to the redirect URI since the client
    // and its redirect URI are valid (RFC 6749 §4.1.2.1); nothing else of the request is acted upon.
    if (client.require_pushed_authorization_requests && !pushed)
      throw new RedirectError('invalid_request', 'this client must use pushed authorization requests (PAR)');
    base.mode = checkResponseMode(p);
    checkLengths(p);
    checkResponseType(p, federated);
    const scope = checkScope(p, client, federated);
    const pkce = checkPkce(p, client);
    if (!federated) return await loginFlow(p, ctx, client, { ...base, scope, pkce, now });
    const { attempt, tokenHash } = await loadAttempt(p, ctx);
    const decision = await runAction(attempt, ctx);
    const request: ClientRequest = {
      clientId: client.client_id,
      redirectUri,
      responseMode: base.mode,
      scope,
      ...(p.state !== undefined ? { state: p.state } : {}),
      ...(p.nonce !== undefined ? { nonce: p.nonce } : {}),
      ...pkce,
    };
    const run: ActionRun = {
      userId: attempt.userId,
      action: attempt.action,
      idempotencyKey: attempt.idempotencyKey,
      custom: attempt.custom,
      ...(attempt.appId ? { appId: attempt.appId } : {}),
      createdAt: attempt.createdAt,
      ipAddress: ctx.sourceIp,
      userAgent: ctx.userAgent.slice(0, 512),
    };
    const consumeToken = { consume: { key: attemptKey(attempt.idempotencyKey), match: { tokenHash } } };
    if ('interaction' in decision) {
      const { interaction, cookieValue } = newInteraction(
        {
          ...decision.interaction,
          userId: attempt.userId,
          run,
          request,
          redirectToSettings: attempt.redirectToSettings,
          locale: pickLocale(p.ui_locales, ctx.acceptLanguage),
          ...(attempt.email ? { email: attempt.email } : {}),
        },
        now,
      );
      await commit(ctx, [
        consumeToken,
        { put: { key: interactionKey(interaction.id), item: { ...interaction } } },
      ]);
      return { kind: 'interaction', id: interaction.id, cookieValue };
    }
    const { writes, params } = completion(request, run, decision, ctx.issuer, now);
    // One transaction: the token is used up, the outcome recorded and the code stored, or none of it.
    await commit(ctx, [consumeToken, ...writes]);
    return { kind: 'response', ...base, params };
  } catch (err) {
    if (err instanceof RedirectError) {
      return {
        kind: 'response',
        ...base,
        params: { error: err.error, error_description: err.description, ...extra },
      };
    }
    throw err;
  }
}

async function commit(ctx: AuthorizeContext, ops: WriteOp[]): Promise<void> {
  try {
    await ctx.store.transact(ops);
  } catch (err) {
    // Another request used the token first (or it expired in between).
    if (err instanceof ConditionFailedError) throw tokenError();
    throw err;
  }
}

/**
 * A sign-in that does not start with /init-auth (OIDC Core §3.1.2): the SSO session answers at
 * once when it is fresh and strong enough and the client needs no (more) consent; `prompt=none`
 * never shows a page (login_required / consent_required); otherwise the hosted login takes over.
 */
async function loginFlow(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  client: Client,
  req: {
    redirectUri: string;
    mode: ResponseMode;
    scope: string;
    pkce: { codeChallenge?: string; codeChallengeMethod?: 'S256' };
    now: number;
  },
): Promise<AuthorizeOutcome> {
  const prompt = checkPrompt(p);
  const params: LoginParams = {
    prompt,
    acrValues: checkAcr(p),
    ...optional('maxAge', checkMaxAge(p)),
    ...optional('loginHint', p.login_hint?.slice(0, 254)),
    ...optional('claims', checkClaims(p)),
    ...optional('resources', checkResource(p, client)),
    ...optional('uiLocales', p.ui_locales),
    ...optional('hintSub', await checkIdTokenHint(p, ctx.signer, ctx.issuer, client.client_id)),
  };
  const request: ClientRequest = {
    clientId: client.client_id,
    redirectUri: req.redirectUri,
    responseMode: req.mode,
    scope: req.scope,
    ...optional('state', p.state),
    ...optional('nonce', p.nonce),
    ...req.pkce,
  };
  const session = await loadSession(ctx.store, ctx.cookies);
  const fresh = sessionSatisfies(session, params, req.now) ? session : undefined;
  const consentFor = (userId: string) =>
    scopesNeedingConsent(ctx.store, client, userId, req.scope, prompt.includes('consent'));

  if (prompt.includes('none')) {
    if (!fresh)
      throw new RedirectError(
        'login_required',
        'the user is not signed in (or not recently or strongly enough)',
      );
    if ((await consentFor(fresh.userId)).length)
      throw new RedirectError('consent_required', 'the user has not consented to this client');
  }
  if (fresh && !prompt.includes('select_account') && !(await consentFor(fresh.userId)).length) {
    // Single sign-on: the session answers without a page.
    if (!fresh.clients.includes(client.client_id))
      await addClient(ctx.store, ctx.cookies, fresh, client.client_id);
    const { writes, params: response } = loginCompletion(
      request,
      {
        userId: fresh.userId,
        authTime: fresh.authTime,
        amr: fresh.amr,
        acr: fresh.acr,
        sid: fresh.sid,
        ...optional('resources', params.resources),
        ...optional('claims', params.claims),
      },
      ctx.issuer,
      req.now,
    );
    await ctx.store.transact(writes);
    return { kind: 'response', redirectUri: req.redirectUri, mode: req.mode, params: response };
  }

  let stage: LoginState['stage'] = fresh
    ? prompt.includes('select_account')
      ? 'select'
      : 'consent'
    : 'identify';
  let userId = fresh?.userId;
  if (stage === 'identify' && params.loginHint) {
    // login_hint names the account: go straight to its challenge when it exists.
    const found = await findUserByLogin(ctx.store, params.loginHint);
    if (found) {
      stage = 'challenge';
      userId = found.userId;
    }
  }
  const { interaction, cookieValue } = newInteraction(
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
    req.now,
  );
  await ctx.store.transact([{ put: { key: interactionKey(interaction.id), item: { ...interaction } } }]);
  return { kind: 'interaction', id: interaction.id, cookieValue };
}

/** `{ [key]: value }` when the value is defined, else nothing (for exactOptional-friendly spreads). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
