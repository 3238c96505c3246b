import { federatedOutcomeWrites } from '../audit/record.js';
import {
  arrive,
  commitArrival,
  UnusableTokenError,
  type Arrival,
  type ArrivalDecision,
} from '../federation/arrival.js';
import { pickLocale } from '../i18n.js';
import { newInteraction } from '../interaction/interaction.js';
import { interactionWrite } from '../interaction/repository.js';
import { metric } from '../metrics.js';
import type { ClientRequest } from '../records/authorization.js';
import type { AuthorizeContext, AuthorizeOutcome } from './authorize-context.js';
import { RedirectError } from './authorize-errors.js';
import { completion } from './complete.js';
import { checkPrompt } from './login-request.js';

/**
 * A request with an init-auth `token` (the Authsignal-style federated flow): the user arrives, the
 * tenant's action decides, and either the outcome goes back at once with a code or the user goes
 * on to the hosted challenge. Either way the token is consumed in the same transaction.
 *
 * `prompt=none` cannot show the challenge: the answer is `interaction_required` (OIDC Core
 * §3.1.2.6) and nothing is written, so the token still works for a request that may show pages.
 */
export async function federatedFlow(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  request: ClientRequest,
  now: number,
): Promise<AuthorizeOutcome> {
  if (!p.token) throw new RedirectError('invalid_request', 'token is required: get one from POST /init-auth');
  const silent = checkPrompt(p).includes('none');
  try {
    const arrival = await arrive(p.token, request.clientId, ctx);
    if ('interaction' in arrival.decision) {
      if (silent)
        throw new RedirectError('interaction_required', 'the action asks for a challenge the user must see');
      return await startChallenge(p, ctx, request, arrival, arrival.decision.interaction, now);
    }
    const { writes, params } = completion(request, arrival.run, arrival.decision, ctx, now);
    // One transaction: the token is used up, the outcome recorded and the code stored, or none of it.
    const audit = federatedOutcomeWrites(ctx.store, arrival.run, arrival.decision, ctx);
    await commitArrival(ctx.store, [arrival.consumeToken, ...writes, ...audit]);
    metric('FlowsCompleted', { ActionState: arrival.decision.state });
    return { kind: 'response', redirectUri: request.redirectUri, mode: request.responseMode, params };
  } catch (err) {
    if (err instanceof UnusableTokenError) throw new RedirectError('invalid_request', err.message);
    throw err;
  }
}

type HostedDecision = Extract<ArrivalDecision, { interaction: unknown }>['interaction'];

/** The hosted challenge (or enrollment) the action asked for, started with the token consumed. */
async function startChallenge(
  p: Record<string, string>,
  ctx: AuthorizeContext,
  request: ClientRequest,
  arrival: Arrival,
  decided: HostedDecision,
  now: number,
): Promise<AuthorizeOutcome> {
  const { attempt } = arrival;
  const { interaction, binding } = newInteraction(
    {
      ...decided,
      userId: attempt.userId,
      run: arrival.run,
      request,
      redirectToSettings: attempt.redirectToSettings,
      locale: pickLocale(p.ui_locales, ctx.acceptLanguage),
      ...(attempt.email ? { email: attempt.email } : {}),
    },
    now,
  );
  await commitArrival(ctx.store, [arrival.consumeToken, interactionWrite(interaction)]);
  return { kind: 'interaction', id: interaction.id, binding };
}
