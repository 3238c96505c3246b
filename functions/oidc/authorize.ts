import { ActionRepository, decide, type ActionState } from '../actions/action.js';
import type { Client } from '../clients/client.js';
import type { ClientRepository } from '../clients/client-repository.js';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import { attemptKey, readAttempt, splitToken, type Attempt } from '../federation/attempt.js';
import { HttpError } from '../http/errors.js';
import { ConditionFailedError } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Tenant } from '../tenants/tenant.js';
import { outcomeKey, UserRecords, type OutcomeRecord } from '../users/user-records.js';
import type { ResponseMode } from './authorization-response.js';
import { newCode } from './codes.js';

/**
 * The authorization endpoint for `/init-auth` flows, assembled from small named checks in the
 * order the spec decides them (after node-oidc-provider's pipeline). Until the client and redirect
 * URI are validated, errors are shown to the user on a page and never redirected (RFC 6749
 * §4.1.2.1); after that they go back to the client as `error` parameters.
 */
export interface AuthorizeContext {
  tenant: Tenant;
  store: TenantStore;
  clients: ClientRepository;
  issuer: string;
  sourceIp: string;
  userAgent: string;
  now?: number;
}

/** An error the user sees on a page: the request cannot be sent back anywhere safe. */
export class PageError extends HttpError {}

/** An error returned to the client's redirect URI (RFC 6749 §4.1.2.1). */
export class RedirectError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export type AuthorizeOutcome =
  | { kind: 'response'; redirectUri: string; mode: ResponseMode; params: Record<string, string> };

const MAX = { state: 8192, nonce: 2048, token: 200, scope: 1024 } as const;

async function checkClient(p: Record<string, string>, ctx: AuthorizeContext): Promise<Client> {
  if (!p.client_id) throw new PageError(400, 'invalid_request', 'The request has no client_id.');
  const client = await ctx.clients.get(p.client_id);
  if (!client) throw new PageError(400, 'invalid_client', 'The application that sent you here is not registered.');
  return client;
}

function checkRedirectUri(p: Record<string, string>, client: Client): string {
  const uri = p.redirect_uri;
  if (!uri) throw new PageError(400, 'invalid_request', 'The request has no redirect_uri.');
  // Exact string match against the registered URIs (RFC 6749 §3.1.2.3; OAuth 2.0 Security BCP §4.1.3).
  if (!client.redirect_uris.includes(uri)) {
    throw new PageError(400, 'invalid_redirect_uri', 'The redirect_uri is not registered for this application.');
  }
  return uri;
}

function checkResponseMode(p: Record<string, string>): ResponseMode {
  const mode = p.response_mode ?? 'query';
  if (mode !== 'query' && mode !== 'form_post') {
    throw new RedirectError('invalid_request', 'response_mode must be query or form_post');
  }
  return mode;
}

function checkResponseType(p: Record<string, string>, federated: boolean): void {
  // The reference flow's own example omits response_type; `code` is the only one there is.
  const type = p.response_type ?? (federated ? 'code' : undefined);
  if (!type) throw new RedirectError('invalid_request', 'response_type is required');
  if (type !== 'code') throw new RedirectError('unsupported_response_type', 'only response_type=code is supported');
}

function checkScope(p: Record<string, string>, client: Client, federated: boolean): string {
  const requested = (p.scope ?? (federated ? 'openid' : '')).split(' ').filter(Boolean);
  if (requested.length === 0) throw new RedirectError('invalid_scope', 'scope is required');
  if (p.scope && p.scope.length > MAX.scope) throw new RedirectError('invalid_scope', 'scope is too long');
  const allowed = new Set(client.scope.split(' '));
  const refused = requested.filter((s) => !allowed.has(s));
  if (refused.length) throw new RedirectError('invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  return [...new Set(requested)].join(' ');
}

function checkPkce(p: Record<string, string>, client: Client): { codeChallenge?: string; codeChallengeMethod?: 'S256' } {
  const challenge = p.code_challenge;
  if (!challenge) {
    if (client.require_pkce) throw new RedirectError('invalid_request', 'code_challenge is required (PKCE, S256)');
    if (p.code_challenge_method) throw new RedirectError('invalid_request', 'code_challenge_method without code_challenge');
    return {};
  }
  // Only S256 (RFC 7636 §4.2; "plain" adds nothing over no PKCE).
  if ((p.code_challenge_method ?? 'plain') !== 'S256') {
    throw new RedirectError('invalid_request', 'code_challenge_method must be S256');
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) throw new RedirectError('invalid_request', 'code_challenge is not an S256 challenge');
  return { codeChallenge: challenge, codeChallengeMethod: 'S256' };
}

function checkLengths(p: Record<string, string>): void {
  if ((p.state?.length ?? 0) > MAX.state) throw new RedirectError('invalid_request', `state is longer than ${MAX.state} characters`);
  if ((p.nonce?.length ?? 0) > MAX.nonce) throw new RedirectError('invalid_request', `nonce is longer than ${MAX.nonce} characters`);
}

const tokenError = () =>
  new RedirectError('invalid_request', 'the token is invalid, expired or already used: start again with /init-auth');

async function loadAttempt(p: Record<string, string>, ctx: AuthorizeContext): Promise<{ attempt: Attempt; tokenHash: string }> {
  const token = p.token;
  if (!token) throw new RedirectError('invalid_request', 'token is required: get one from POST /init-auth');
  const parts = token.length <= MAX.token ? splitToken(token) : undefined;
  if (!parts) throw tokenError();
  const attempt = await readAttempt(ctx.store, parts.idempotencyKey);
  const tokenHash = sha256(parts.secret);
  if (!attempt || attempt.consumedAt !== undefined || !constantTimeEqual(attempt.tokenHash, tokenHash)) throw tokenError();
  return { attempt, tokenHash };
}

/** Runs the action: ALLOW, BLOCK, or a challenge (which fails safe until the hosted challenge exists). */
async function runAction(attempt: Attempt, ctx: AuthorizeContext): Promise<{ state: ActionState; isEnrolled: boolean; decidedBy: string }> {
  const actions = new ActionRepository(ctx.store, ctx.tenant);
  const users = new UserRecords(ctx.store);
  const [config, authenticators] = await Promise.all([actions.get(attempt.action), users.authenticators(attempt.userId)]);
  const isEnrolled = authenticators.length > 0;
  const decision = decide(config.defaultOutcome, isEnrolled);
  const decidedBy = config.configured ? 'action default' : 'tenant default';
  // An enrolled user facing CHALLENGE must prove themselves; with no way to do so here, never ALLOW.
  const state: ActionState = 'state' in decision ? decision.state : 'CHALLENGE_FAILED';
  return { state, isEnrolled, decidedBy };
}

export async function authorize(p: Record<string, string>, ctx: AuthorizeContext): Promise<AuthorizeOutcome> {
  const now = ctx.now ?? Date.now();
  const client = await checkClient(p, ctx);
  const redirectUri = checkRedirectUri(p, client);
  const federated = p.token !== undefined;
  const mode = checkResponseMode(p);
  const base = { redirectUri, mode };
  const extra = { ...(p.state !== undefined ? { state: p.state } : {}), iss: ctx.issuer };
  try {
    checkLengths(p);
    checkResponseType(p, federated);
    const scope = checkScope(p, client, federated);
    const pkce = checkPkce(p, client);
    if (!federated) {
      throw new RedirectError('login_required', 'this tenant starts sign-in with POST /init-auth and a token');
    }
    const { attempt, tokenHash } = await loadAttempt(p, ctx);
    const result = await runAction(attempt, ctx);
    const authTime = Math.floor(now / 1000);
    const { code, key, item } = newCode(
      {
        clientId: client.client_id,
        redirectUri,
        scope,
        userId: attempt.userId,
        ...(p.nonce !== undefined ? { nonce: p.nonce } : {}),
        ...pkce,
        authTime,
        action: { code: attempt.action, state: result.state, isEnrolled: result.isEnrolled, idempotencyKey: attempt.idempotencyKey },
      },
      now,
    );
    const createdAt = new Date(now).toISOString();
    const record: OutcomeRecord = {
      userId: attempt.userId,
      action: attempt.action,
      idempotencyKey: attempt.idempotencyKey,
      state: result.state,
      isEnrolled: result.isEnrolled,
      createdAt: attempt.createdAt,
      stateUpdatedAt: createdAt,
      custom: attempt.custom,
      ...(attempt.appId ? { appId: attempt.appId } : {}),
      decidedBy: result.decidedBy,
      ipAddress: ctx.sourceIp,
      userAgent: ctx.userAgent.slice(0, 512),
    };
    try {
      // One transaction: the token is used up, the outcome recorded and the code stored, or none of it.
      await ctx.store.transact([
        { consume: { key: attemptKey(attempt.idempotencyKey), match: { tokenHash } } },
        { put: { key: outcomeKey(attempt.userId, attempt.action, attempt.idempotencyKey), item: { ...record } } },
        { put: { key, item: { ...item } } },
      ]);
    } catch (err) {
      if (err instanceof ConditionFailedError) throw tokenError();
      throw err;
    }
    return { kind: 'response', ...base, params: { code, ...extra } };
  } catch (err) {
    if (err instanceof RedirectError) {
      return { kind: 'response', ...base, params: { error: err.error, error_description: err.description, ...extra } };
    }
    throw err;
  }
}
