import type { Client } from '../clients/client.js';
import type { TenantContext } from '../http/handler.js';
import type { HttpRequest, HttpResponse } from '../http/request.js';
import { pickLocale } from '../i18n.js';
import { newInteraction, type DecoupledTarget, type LoginState } from '../interaction/interaction.js';
import { interactionWrite } from '../interaction/repository.js';
import { schemeCookies } from '../sessions/cookies.js';
import { loadSession } from '../sessions/session.js';
import { bindingCookie } from './binding.js';
import { acrReaches, targetAcr } from '../oidc/login-request.js';
import { seeOther } from './respond.js';

/**
 * Starts the hosted sign-in for a grant another device is waiting for (the device authorization
 * grant, RFC 8628 §3.3, and CIBA). It is the hosted login with two differences: the user always
 * confirms on an approval page (the request came from somewhere else), and it ends by approving
 * or denying the grant at `target.key` instead of redirecting a code. With `expectedUserId` (CIBA's
 * `login_hint`) only that user can approve: they are challenged directly, and a live session of
 * someone else is not used.
 *
 * The grant item at `target.key` must exist with `status: 'pending'`; it is updated to
 * `{ status: 'approved', userId, authTime, amr, acr, sid }` or `{ status: 'denied', error }`.
 */
export async function startDecoupledLogin(
  req: HttpRequest,
  ctx: TenantContext,
  opts: { target: DecoupledTarget; client: Client; scope: string; acrValues: string[]; uiLocales?: string },
): Promise<HttpResponse> {
  const session = await loadSession(ctx.store, schemeCookies(req.cookies, ctx.origin.startsWith('https:')));
  const expected = opts.target.expectedUserId;
  const acrValues = opts.acrValues;
  // As at /oidc/auth, a session below the level the client asked for is not used (the sign-in
  // then aims for it, and acr says what was reached).
  const usable =
    session &&
    (!expected || session.userId === expected) &&
    acrReaches(session.acr, targetAcr({ acrValues }).acr)
      ? session
      : undefined;
  const stage: LoginState['stage'] = usable ? 'consent' : expected ? 'challenge' : 'identify';
  const userId = usable?.userId ?? expected;
  const { interaction, binding } = newInteraction({
    mode: 'challenge',
    ...(userId ? { userId } : {}),
    // prompt=consent: the approval page is always shown, whatever was granted before.
    login: {
      params: { prompt: ['consent'], acrValues },
      stage,
      methodsUsed: [],
      ...(usable ? { sid: usable.sid } : {}),
    },
    decoupled: opts.target,
    request: { clientId: opts.client.client_id, redirectUri: '', responseMode: 'query', scope: opts.scope },
    decidedBy: opts.target.kind,
    redirectToSettings: false,
    allowSkip: false,
    maxAttempts: 5,
    locale: pickLocale(opts.uiLocales, req.headers['accept-language']),
  });
  await ctx.store.transact([interactionWrite(interaction)]);
  return seeOther(`/interaction/${interaction.id}`, [
    bindingCookie(interaction.id, binding, ctx.origin.startsWith('https:')),
  ]);
}
