import { firstTime } from '../audit/once.js';
import type { HttpResponse } from '../http/request.js';
import type { ProveResult } from '../authenticators/types.js';
import { recordFailure, releaseAttempt, reserveAttempt, saveInteraction } from '../interaction/repository.js';
import { metric } from '../metrics.js';
import { AMR } from '../sessions/auth-context.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { auditOf, failureDetail, screenUrl, type Env, type ViewExtra } from './env.js';
import { finishAction, finishEntra, finishError, InteractionOverError } from './finish.js';
import { loginPassed } from './login.js';
import { jsonOk, seeOther } from './respond.js';
import { renderView } from './screens.js';

/** A method the user added on the hosted pages. */
export const enrolled = (env: Env, method: AuthenticatorType): Promise<void> =>
  auditOf(env).record({ type: 'authenticator.enrolled', detail: { userId: env.ix.userId!, method } });

/** The user proved themselves (or enrolled a first method): settings next, or the code goes back. */
export async function passed(env: Env, method: AuthenticatorType, json = false): Promise<HttpResponse> {
  // A method a new account just added is an enrollment, not a challenge passed.
  if (env.ix.mode === 'challenge' && env.ix.login?.signUp?.stage !== 'enroll')
    metric('ChallengesSucceeded', { Method: method });
  if (env.ix.login) return loginPassed(env, method, json);
  const already = env.ix.passedWith;
  env.ix = await saveInteraction(env.ctx.store, env.ix.id, { passedWith: already ?? method });
  if (json) return jsonOk({ next: true });
  if (env.ix.redirectToSettings)
    return seeOther(screenUrl(env, `?view=settings${already ? '&added=1' : ''}`));
  return complete(env, 'CHALLENGE_SUCCEEDED', method);
}

/** Ends the interaction with an outcome for the federated action (or an error for a hosted login). */
export async function complete(
  env: Env,
  state: 'CHALLENGE_SUCCEEDED' | 'CHALLENGE_FAILED' | 'ALLOW',
  method?: AuthenticatorType,
): Promise<HttpResponse> {
  if (env.ix.entra) return finishEntra(env, state, method);
  if (env.ix.login) {
    await auditOf(env).record({ type: 'signin.failed', detail: failureDetail(env, true) });
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
  await auditOf(env).record({ type: 'signin.failed', detail: failureDetail(env, false, 'PASSKEY') });
  // Only passkey steps end here; code guesses go through `guessed`.
  metric('ChallengesFailed', { Method: 'PASSKEY' });
  const left = env.ix.maxAttempts - env.ix.failures;
  if (left <= 0) return json ? jsonOk({ next: true }) : complete(env, 'CHALLENGE_FAILED');
  if (json) return jsonOk({ next: false, attemptsLeft: left });
  return renderView(env, view, { error: message, attemptsLeft: left, status: 400 });
}

/**
 * The user is locked out of code guesses (guess-limits.ts): 429 with Retry-After (RFC 6585 §4),
 * and the page says for how long, in the user's language.
 */
export async function lockedOut(
  env: Env,
  retryAfter: number,
  show: (extra: ViewExtra) => Promise<HttpResponse>,
): Promise<HttpResponse> {
  const known = env.ix.userId && !env.ix.login?.ghost;
  const detail = { ...(known ? { userId: env.ix.userId } : {}), retryAfter };
  const until = Math.floor(Date.now() / 1000) + Math.ceil(retryAfter);
  const subject = env.ix.login?.guessSubject ?? env.ix.userId;
  if (firstTime(`${env.ctx.tenant.id}#guesses#${subject}#${until}`, until * 1000))
    await auditOf(env).record({ type: 'lockout.guesses', detail });
  metric('Lockouts', {});
  const error = env.t('guesses_locked', { m: Math.max(1, Math.ceil(retryAfter / 60)) });
  return show({ error, status: 429 }).then((r) => ({
    ...r,
    headers: { ...r.headers, 'retry-after': String(Math.max(1, Math.ceil(retryAfter))) },
  }));
}

/**
 * A code guess in a challenge: one attempt of the interaction is reserved before `verify`
 * compares anything, so racing guesses compare at most `maxAttempts` codes; a guess that was not
 * a failure (right, or refused by the user's back-off before comparing) gives its attempt back.
 * Losing a race to another request that finished the interaction reads as "this sign-in has ended".
 * `pass` is what a right answer leads to (by default: the method passed).
 */
export async function guessed(
  env: Env,
  method: AuthenticatorType,
  verify: () => Promise<ProveResult>,
  show: (extra: ViewExtra) => Promise<HttpResponse>,
  pass: () => Promise<HttpResponse> = () => passed(env, method),
): Promise<HttpResponse> {
  const reserved = await reserveAttempt(env.ctx.store, env.ix);
  if (reserved.status === 'over') throw new InteractionOverError();
  if (reserved.status === 'exhausted') return complete(env, 'CHALLENGE_FAILED');
  env.ix = reserved.interaction;
  const r = await verify();
  if (r.ok || r.reason === 'locked') {
    const released = await releaseAttempt(env.ctx.store, env.ix);
    if (!released) throw new InteractionOverError();
    env.ix = released;
  }
  if (r.ok) return pass();
  if (r.reason === 'locked') return lockedOut(env, r.retryAfter ?? 60, show);
  await auditOf(env).record({ type: 'signin.failed', detail: failureDetail(env, false, method) });
  metric('ChallengesFailed', { Method: method });
  const left = env.ix.maxAttempts - env.ix.failures;
  if (left <= 0) return complete(env, 'CHALLENGE_FAILED');
  return show({ error: env.t('wrong_code'), attemptsLeft: left, status: 400 });
}
