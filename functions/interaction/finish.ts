import { HttpError } from '../http/errors.js';
import type { HttpResponse } from '../http/request.js';
import { authorizationResponse } from '../oidc/authorization-response.js';
import { completion, type Result } from '../oidc/complete.js';
import { ConditionFailedError } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { clearCookie, interactionKey, type Interaction } from './interaction.js';

export class InteractionOverError extends HttpError {
  constructor() {
    super(400, 'interaction_over', 'This sign-in has already ended.');
  }
}

/**
 * Ends a hosted challenge: consumes the interaction, records the outcome and stores the code in
 * one transaction, then sends the code to the client's redirect URI. Two tabs racing to finish
 * the same interaction get one answer; the other sees "already ended".
 */
export async function finish(
  store: TenantStore,
  interaction: Interaction,
  result: Result,
  issuer: string,
  secureCookies: boolean,
): Promise<HttpResponse> {
  const { writes, params } = completion(interaction.request, interaction.run, result, issuer);
  try {
    await store.transact([
      { consume: { key: interactionKey(interaction.id), match: { bindingHash: interaction.bindingHash } } },
      ...writes,
    ]);
  } catch (err) {
    if (err instanceof ConditionFailedError) throw new InteractionOverError();
    throw err;
  }
  const response = authorizationResponse(
    interaction.request.redirectUri,
    interaction.request.responseMode,
    params,
  );
  return { ...response, cookies: [clearCookie(interaction.id, secureCookies)] };
}

export const AMR: Record<string, string[]> = {
  PASSKEY: ['hwk', 'user'],
  AUTHENTICATOR_APP: ['otp'],
  EMAIL_OTP: ['otp'],
};
