import type { ActionState } from '../actions/action.js';
import type { EntraChallenge } from '../interaction/interaction.js';
import type { ActionRun, ClientRequest } from '../records/authorization.js';
import type { Signer } from '../signing/signer.js';
import type { WriteOp } from '../store/store.js';
import { outcomeKey, type AuthenticatorType, type OutcomeRecord } from '../users/user-records.js';
import { ENTRA_AMR } from './methods.js';

/** The action name Entra attempts are recorded under (`GET /v1/users/{userId}/actions/entra/{key}`). */
export const ENTRA_ACTION = 'entra';
/** The ID token is read by Entra at once, from the form post: a short life is enough. */
const ID_TOKEN_SECONDS = 300;

/**
 * The ID token an external authentication method returns to Entra ("external method provider
 * reference", the token Entra validates): `iss` this provider, `aud` the client id Entra was given,
 * `sub` the hint's `sub`, `tid` and `oid` from the hint, the request's `nonce`, the `acr` satisfied
 * and the Entra `amr` value of the method used. RS256: Entra reads keys of that algorithm.
 */
export async function entraIdToken(
  signer: Signer,
  issuer: string,
  request: ClientRequest,
  entra: EntraChallenge,
  method: AuthenticatorType,
  now = Date.now(),
): Promise<string> {
  const iat = Math.floor(now / 1000);
  return signer.signJwt(
    {
      iss: issuer,
      aud: request.clientId,
      sub: entra.sub,
      tid: entra.tid,
      oid: entra.oid,
      nonce: request.nonce,
      acr: entra.acr,
      amr: [ENTRA_AMR[method]],
      iat,
      auth_time: iat,
      exp: iat + ID_TOKEN_SECONDS,
    },
    { alg: 'RS256' },
  );
}

/** The record of one Entra attempt, kept like a federated action's outcome (users/user-records.ts). */
export function entraOutcomeWrite(
  run: ActionRun,
  state: ActionState,
  method: AuthenticatorType | undefined,
  decidedBy: string,
  now = Date.now(),
): WriteOp {
  const record: OutcomeRecord = {
    userId: run.userId,
    action: run.action,
    idempotencyKey: run.idempotencyKey,
    state,
    isEnrolled: state === 'CHALLENGE_SUCCEEDED',
    createdAt: run.createdAt,
    stateUpdatedAt: new Date(now).toISOString(),
    custom: run.custom,
    decidedBy,
    ...(method ? { verificationMethod: method } : {}),
    ipAddress: run.ipAddress,
    userAgent: run.userAgent.slice(0, 512),
  };
  return { put: { key: outcomeKey(run.userId, run.action, run.idempotencyKey), item: { ...record } } };
}
