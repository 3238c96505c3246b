import type { HttpResponse } from '../http/request.js';
import { recordFailure, saveInteraction } from '../interaction/repository.js';
import { AMR } from '../sessions/auth-context.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { screenUrl, type Env } from './env.js';
import { finishAction, finishError } from './finish.js';
import { loginPassed } from './login.js';
import { jsonOk, seeOther } from './respond.js';
import { renderView } from './screens.js';

/** The user proved themselves (or enrolled a first method): settings next, or the code goes back. */
export async function passed(env: Env, method: AuthenticatorType, json = false): Promise<HttpResponse> {
  if (env.ix.login) return loginPassed(env, method, json);
  const already = env.ix.passedWith;
  env.ix = await saveInteraction(env.ctx.store, env.ix.id, { passedWith: already ?? method });
  if (json) return jsonOk({ next: true });
  if (env.ix.redirectToSettings)
    return seeOther(screenUrl(env, `?view=settings${already ? '&added=1' : ''}`));
  return complete(env, 'CHALLENGE_SUCCEEDED', method);
}

/** Ends the interaction with an outcome for the federated action (or an error for a hosted login). */
export function complete(
  env: Env,
  state: 'CHALLENGE_SUCCEEDED' | 'CHALLENGE_FAILED' | 'ALLOW',
  method?: AuthenticatorType,
): Promise<HttpResponse> {
  if (env.ix.login) {
    // A hosted sign-in that did not succeed ends with an error for the client (RFC 6749 §4.1.2.1).
    return finishError(env, 'access_denied', 'the user did not complete the sign-in');
  }
  const isEnrolled =
    state === 'ALLOW' ? false : env.ix.mode === 'challenge' || env.ix.passedWith !== undefined;
  return finishAction(env, {
    state,
    isEnrolled,
    decidedBy: env.ix.decidedBy,
    ...(method ? { verificationMethod: method, amr: AMR[method] } : {}),
  });
}

/** A wrong answer: count it; at the limit the flow ends CHALLENGE_FAILED (still with a code). */
export async function failed(env: Env, view: string, message: string, json = false): Promise<HttpResponse> {
  env.ix = await recordFailure(env.ctx.store, env.ix);
  const left = env.ix.maxAttempts - env.ix.failures;
  if (left <= 0) return json ? jsonOk({ next: true }) : complete(env, 'CHALLENGE_FAILED');
  if (json) return jsonOk({ next: false, attemptsLeft: left });
  return renderView(env, view, { error: message, attemptsLeft: left, status: 400 });
}
