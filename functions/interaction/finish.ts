import { ProtocolError } from '../errors.js';
import type { HttpResponse } from '../http/request.js';
import { authorizationResponse } from '../oidc/authorization-response.js';
import { completion, errorParams, loginCompletion, type LoginResult, type Result } from '../oidc/complete.js';
import { ConditionFailedError, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { clearCookie, interactionKey, type DecoupledTarget, type Interaction } from './interaction.js';
import { translator } from '../i18n.js';
import { page } from '../pages/layout.js';
import { notice } from '../pages/interaction-views.js';

export class InteractionOverError extends ProtocolError {
  constructor() {
    super(400, 'interaction_over', 'This sign-in has already ended.');
  }
}

/**
 * Consumes the interaction and commits `writes` in one transaction, then sends `params` to the
 * client's redirect URI. Two tabs racing to finish the same interaction get one answer; the other
 * sees "already ended".
 */
async function end(
  store: TenantStore,
  ix: Interaction,
  writes: WriteOp[],
  params: Record<string, string>,
  secureCookies: boolean,
  cookies: string[] = [],
): Promise<HttpResponse> {
  if (ix.decoupled) return endDecoupled(store, ix, ix.decoupled, params, secureCookies, cookies);
  try {
    await store.transact([
      { consume: { key: interactionKey(ix.id), match: { bindingHash: ix.bindingHash } } },
      ...writes,
    ]);
  } catch (err) {
    if (err instanceof ConditionFailedError) throw new InteractionOverError();
    throw err;
  }
  const response = authorizationResponse(ix.request.redirectUri, ix.request.responseMode, params);
  return { ...response, cookies: [...cookies, clearCookie(ix.id, secureCookies)] };
}

/**
 * A sign-in for another device ends here, not at a redirect URI: the pending grant is approved
 * (with who signed in and how) or denied, in the same transaction that consumes the interaction,
 * and the user is told to go back to the other device.
 */
async function endDecoupled(
  store: TenantStore,
  ix: Interaction,
  target: DecoupledTarget,
  params: Record<string, string>,
  secureCookies: boolean,
  cookies: string[],
): Promise<HttpResponse> {
  const approved = !params.error && ix.approval !== undefined;
  const set = approved
    ? { status: 'approved', ...ix.approval }
    : { status: 'denied', error: params.error ?? 'access_denied' };
  try {
    await store.transact([
      { consume: { key: interactionKey(ix.id), match: { bindingHash: ix.bindingHash } } },
      { update: { key: target.key, set, match: { status: 'pending' } } },
    ]);
  } catch (err) {
    if (err instanceof ConditionFailedError) throw new InteractionOverError();
    throw err;
  }
  const t = translator(ix.locale);
  const text = approved ? t('device_approved') : t('device_denied');
  return page(
    { t, locale: ix.locale, tenantName: target.tenantName },
    t('closed_title'),
    notice(t, 'closed_title', text),
    {
      cookies: [...cookies, clearCookie(ix.id, secureCookies)],
    },
  );
}

/** Ends a federated challenge: the outcome recorded, a code for the client. */
export function finish(
  store: TenantStore,
  ix: Interaction,
  result: Result,
  issuer: string,
  secureCookies: boolean,
): Promise<HttpResponse> {
  const { writes, params } = completion(ix.request, ix.run!, result, issuer);
  return end(store, ix, writes, params, secureCookies);
}

/** Ends a hosted sign-in with a code (and the session cookie set when the user proved themselves). */
export function finishLogin(
  store: TenantStore,
  ix: Interaction,
  result: LoginResult,
  issuer: string,
  secureCookies: boolean,
  extra: { writes?: WriteOp[]; cookies?: string[] } = {},
): Promise<HttpResponse> {
  if (ix.decoupled) {
    const approval = {
      userId: result.userId,
      authTime: result.authTime,
      amr: result.amr,
      acr: result.acr,
      sid: result.sid,
    };
    return end(store, { ...ix, approval }, [], {}, secureCookies, extra.cookies);
  }
  const { writes, params } = loginCompletion(ix.request, result, issuer);
  return end(store, ix, [...writes, ...(extra.writes ?? [])], params, secureCookies, extra.cookies);
}

/** Ends an interaction with an error for the client (access_denied, …). */
export function finishError(
  store: TenantStore,
  ix: Interaction,
  error: string,
  description: string,
  issuer: string,
  secureCookies: boolean,
  cookies: string[] = [],
): Promise<HttpResponse> {
  return end(store, ix, [], errorParams(ix.request, error, description, issuer), secureCookies, cookies);
}

export const AMR: Record<string, string[]> = {
  PASSKEY: ['hwk', 'user'],
  AUTHENTICATOR_APP: ['otp'],
  EMAIL_OTP: ['otp'],
};

/** RFC 8176 values for the methods used, and `mfa` when two distinct ones were (or a user-verifying passkey). */
export function authContext(methods: string[]): { amr: string[]; acr: string } {
  const amr = [...new Set(methods.flatMap((m) => AMR[m] ?? []))];
  const distinct = new Set(methods).size;
  const mfa = distinct >= 2 || (amr.includes('hwk') && amr.includes('user'));
  if (distinct >= 2) amr.push('mfa');
  return { amr, acr: mfa ? 'mfa' : 'urn:identity:acr:single-factor' };
}
