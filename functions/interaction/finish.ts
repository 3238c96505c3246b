import { HttpError } from '../http/errors.js';
import type { HttpResponse } from '../http/request.js';
import { authorizationResponse } from '../oidc/authorization-response.js';
import { completion, errorParams, loginCompletion, type LoginResult, type Result } from '../oidc/complete.js';
import { ConditionFailedError, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { clearCookie, interactionKey, type Interaction } from './interaction.js';

export class InteractionOverError extends HttpError {
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
