import { federatedOutcomeWrites } from '../audit/record.js';
import { ProtocolError } from '../errors.js';
import type { HttpResponse } from '../http/request.js';
import type { DecoupledTarget, Interaction } from '../interaction/interaction.js';
import { consumeInteractionWrite } from '../interaction/repository.js';
import { entraIdToken, entraOutcomeWrite } from '../entra/response.js';
import { metric } from '../metrics.js';
import { completion, errorParams, loginCompletion } from '../oidc/complete.js';
import type { ActionResult, LoginResult } from '../records/authorization.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { ConditionFailedError, type WriteOp } from '../store/store.js';
import { authorizationResponse } from './authorization-response.js';
import { clearCookie } from './binding.js';
import type { Env } from './env.js';
import { pageResponse } from './respond.js';
import { pageContext } from './views/layout.js';
import { notice } from './views/notice.js';

export class InteractionOverError extends ProtocolError {
  constructor() {
    super(400, 'interaction_over', 'This sign-in has already ended.');
  }
}

/** Commits the writes that end an interaction; another request finishing it first reads as over. */
async function commitEnd(env: Env, writes: WriteOp[]): Promise<void> {
  try {
    await env.ctx.store.transact([consumeInteractionWrite(env.ix), ...writes]);
  } catch (err) {
    if (err instanceof ConditionFailedError) throw new InteractionOverError();
    throw err;
  }
}

/**
 * Consumes the interaction and commits `writes` in one transaction, then sends `params` to the
 * client's redirect URI. Two tabs racing to finish the same interaction get one answer; the other
 * sees "already ended".
 */
async function end(
  env: Env,
  ix: Interaction,
  writes: WriteOp[],
  params: Record<string, string>,
  cookies: string[] = [],
): Promise<HttpResponse> {
  if (ix.decoupled) return endDecoupled(env, ix, ix.decoupled, params, cookies);
  await commitEnd(env, writes);
  const response = authorizationResponse(ix.request.redirectUri, ix.request.responseMode, params);
  return { ...response, cookies: [...cookies, clearCookie(ix.id, env.secure)] };
}

/**
 * A sign-in for another device ends here, not at a redirect URI: the pending grant is approved
 * (with who signed in and how) or denied, in the same transaction that consumes the interaction,
 * and the user is told to go back to the other device.
 */
async function endDecoupled(
  env: Env,
  ix: Interaction,
  target: DecoupledTarget,
  params: Record<string, string>,
  cookies: string[],
): Promise<HttpResponse> {
  const approved = !params.error && ix.approval !== undefined;
  const set = approved
    ? { status: 'approved', ...ix.approval }
    : { status: 'denied', error: params.error ?? 'access_denied' };
  await commitEnd(env, [{ update: { key: target.key, set, match: { status: 'pending' } } }]);
  const page = pageContext(env.ctx.tenant, ix.locale);
  const text = approved ? page.t('device_approved') : page.t('device_denied');
  return pageResponse(page, page.t('closed_title'), notice(page.t, 'closed_title', text), {
    cookies: [...cookies, clearCookie(ix.id, env.secure)],
  });
}

/** Ends a federated challenge: the outcome recorded, a code for the client. */
export async function finishAction(env: Env, result: ActionResult): Promise<HttpResponse> {
  const { writes, params } = completion(env.ix.request, env.ix.run!, result, env.ctx);
  const audit = federatedOutcomeWrites(env.ctx.store, env.ix.run!, result, env.req);
  const response = await end(env, env.ix, [...writes, ...audit], params);
  metric('FlowsCompleted', { ActionState: result.state });
  return response;
}

/** Ends a hosted sign-in with a code (and the session cookie set when the user proved themselves). */
export function finishLogin(env: Env, result: LoginResult, cookies: string[] = []): Promise<HttpResponse> {
  if (env.ix.decoupled) {
    const { userId, authTime, amr, acr, sid } = result;
    return end(env, { ...env.ix, approval: { userId, authTime, amr, acr, sid } }, [], {}, cookies);
  }
  const { writes, params } = loginCompletion(env.ix.request, result, env.ctx);
  return end(env, env.ix, writes, params, cookies);
}

/** Ends an interaction with an error for the client (access_denied, …). */
export function finishError(env: Env, error: string, description: string): Promise<HttpResponse> {
  return end(env, env.ix, [], errorParams(env.ix.request, error, description, env.ctx.issuer));
}

/**
 * Ends a Microsoft Entra ID EAM challenge: the ID token form-posted to Entra when the user passed
 * with a method the request accepts, else `access_denied`; either way the attempt is recorded
 * like a federated outcome, in the transaction that consumes the interaction.
 */
export async function finishEntra(
  env: Env,
  state: 'CHALLENGE_SUCCEEDED' | 'CHALLENGE_FAILED' | 'ALLOW',
  method?: AuthenticatorType,
): Promise<HttpResponse> {
  const { ix } = env;
  const ok =
    state === 'CHALLENGE_SUCCEEDED' && method !== undefined && (ix.allowedMethods ?? []).includes(method);
  const outcome = ok ? 'CHALLENGE_SUCCEEDED' : 'CHALLENGE_FAILED';
  const write = entraOutcomeWrite(ix.run!, outcome, method, 'entra');
  // Recorded like a federated outcome, in the same transaction that ends the interaction.
  const audit = federatedOutcomeWrites(
    env.ctx.store,
    ix.run!,
    { state: outcome, verificationMethod: method },
    env.req,
  );
  metric('FlowsCompleted', { ActionState: outcome });
  const stateParam: Record<string, string> =
    ix.request.state !== undefined ? { state: ix.request.state } : {};
  if (!ok) {
    const error = { error: 'access_denied', error_description: 'the user did not complete the challenge' };
    return end(env, ix, [write, ...audit], { ...error, ...stateParam });
  }
  const idToken = await entraIdToken(env.ctx.signer, env.ctx.issuer, ix.request, ix.entra!, method);
  return end(env, ix, [write, ...audit], { id_token: idToken, ...stateParam });
}
