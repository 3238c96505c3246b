import { randomUUID } from 'node:crypto';
import { config } from '../config.js';
import { EntraHintError, verifyEntraHint } from '../entra/hint.js';
import { EntraIntegrationRepository, type EntraIntegration } from '../entra/integration.js';
import { entraPolicy } from '../entra/methods.js';
import { ENTRA_ACTION, entraOutcomeWrite } from '../entra/response.js';
import { entraUser } from '../entra/users.js';
import { pickLocale } from '../i18n.js';
import { newInteraction } from '../interaction/interaction.js';
import { interactionWrite } from '../interaction/repository.js';
import type { ActionRun, ClientRequest } from '../records/authorization.js';
import { UserRecords } from '../users/user-records.js';
import { optional, type AuthorizeContext, type AuthorizeOutcome } from './authorize-context.js';
import { PageError, RedirectError } from './authorize-errors.js';
import { checkClaims } from './login-request.js';
import { checkLengths } from './authorize-checks.js';

/**
 * A Microsoft Entra ID external authentication method (EAM) request: the implicit
 * `response_type=id_token` with `response_mode=form_post` ("external method provider reference"),
 * accepted for the tenant's Entra integration client only (every other client still gets
 * `unsupported_response_type`). `undefined` when the request is not for that client.
 */
export async function entraFlow(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  now: number,
): Promise<AuthorizeOutcome | undefined> {
  if (p.response_type !== 'id_token' || !p.client_id) return undefined;
  const integration = await new EntraIntegrationRepository(ctx.store).get();
  if (!integration || integration.clientId !== p.client_id) return undefined;
  // Exact match, as for every client (RFC 6749 §3.1.2.3): before it, errors are shown, not sent.
  if (p.redirect_uri !== integration.redirectUri)
    throw new PageError(400, 'invalid_redirect_uri', 'The redirect_uri is not the Entra integration’s.');
  const request: ClientRequest = {
    clientId: integration.clientId,
    redirectUri: integration.redirectUri,
    responseMode: 'form_post',
    scope: 'openid',
    ...optional('state', p.state),
    ...optional('nonce', p.nonce),
  };
  try {
    return await entraChallenge(p, ctx, integration, request, now);
  } catch (err) {
    if (!(err instanceof RedirectError)) throw err;
    const params = {
      error: err.error,
      error_description: err.description,
      ...optional('state', p.state),
    };
    return { kind: 'response', redirectUri: request.redirectUri, mode: 'form_post', params };
  }
}

function checkEntraRequest(p: Record<string, string>): void {
  if (p.request !== undefined || p.request_uri !== undefined)
    throw new RedirectError('invalid_request', 'the Entra client sends no request object');
  if (p.response_mode !== 'form_post')
    throw new RedirectError('invalid_request', 'response_mode must be form_post for response_type=id_token');
  if (!(p.scope ?? '').split(' ').includes('openid'))
    throw new RedirectError('invalid_scope', 'scope must include openid');
  // OIDC Core §3.2.2.1: the nonce is required with the implicit flow; it binds the ID token to Entra's request.
  if (!p.nonce) throw new RedirectError('invalid_request', 'nonce is required');
  checkLengths(p);
  if ((p.prompt ?? '').split(' ').includes('none'))
    throw new RedirectError('interaction_required', 'the second factor always needs the user');
}

async function entraChallenge(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  integration: EntraIntegration,
  request: ClientRequest,
  now: number,
): Promise<AuthorizeOutcome> {
  checkEntraRequest(p);
  const policy = entraPolicy(checkClaims(p));
  if (!policy)
    throw new RedirectError(
      'access_denied',
      'no method of this provider satisfies the requested amr and acr',
    );
  let hint;
  try {
    hint = await verifyEntraHint(p.id_token_hint ?? '', integration, config().entraAuthority, now);
  } catch (err) {
    if (err instanceof EntraHintError) throw new RedirectError('invalid_request', err.message);
    throw err;
  }
  const { userId } = await entraUser(ctx.store, integration, hint, now);
  const run: ActionRun = {
    userId,
    action: ENTRA_ACTION,
    idempotencyKey: randomUUID(),
    custom: { tid: hint.tid, oid: hint.oid },
    createdAt: new Date(now).toISOString(),
    ipAddress: ctx.sourceIp,
    userAgent: ctx.userAgent,
  };
  const methods = (await new UserRecords(ctx.store).authenticators(userId)).map((a) => a.type);
  const usable = methods.filter((m) => policy.allowed.includes(m));
  // A first method only for a user with none at all: a user who has methods proves one of them,
  // so someone holding only the Entra password cannot add their own.
  const enroll = methods.length === 0 && integration.allowEnrollment;
  if (!usable.length && !enroll) {
    await ctx.store.transact([entraOutcomeWrite(run, 'CHALLENGE_FAILED', undefined, 'entra:no-method', now)]);
    throw new RedirectError('access_denied', 'the user has no method that satisfies the request');
  }
  const { interaction, binding } = newInteraction(
    {
      mode: enroll ? 'enroll' : 'challenge',
      userId,
      run,
      entra: { sub: hint.sub, tid: hint.tid, oid: hint.oid, acr: policy.acr },
      allowedMethods: policy.allowed,
      request,
      decidedBy: 'entra',
      redirectToSettings: false,
      allowSkip: false,
      maxAttempts: 5,
      locale: pickLocale(p.ui_locales, ctx.acceptLanguage),
      ...optional('email', hint.preferredUsername ?? hint.email),
    },
    now,
  );
  await ctx.store.transact([interactionWrite(interaction)]);
  return { kind: 'interaction', id: interaction.id, binding };
}
