import type { ActionState } from '../actions/action.js';
import type { WriteOp } from '../store/store.js';
import { outcomeKey, type AuthenticatorType, type OutcomeRecord } from '../users/user-records.js';
import type { ResponseMode } from './authorization-response.js';
import { newCode } from './authorization-codes.js';

/** The client's side of an authorization request, validated at /oidc/auth and carried to the end. */
export interface ClientRequest {
  clientId: string;
  redirectUri: string;
  responseMode: ResponseMode;
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
}

/** The federated action being run for a user (from the /init-auth attempt). */
export interface ActionRun {
  userId: string;
  action: string;
  idempotencyKey: string;
  custom: Record<string, string | number | boolean>;
  appId?: string;
  createdAt: string;
  ipAddress: string;
  userAgent: string;
}

export interface Result {
  state: ActionState;
  isEnrolled: boolean;
  decidedBy: string;
  verificationMethod?: AuthenticatorType;
  amr?: string[];
}

/**
 * Ends a flow, whatever its outcome, the way the reference flow demands: with a code at the
 * redirect URI. Returns the writes that store the code and the outcome record — the caller adds the
 * write that consumes what started the step (init-auth token or interaction), and commits them in
 * one transaction — and the parameters of the authorization response.
 */
export function completion(
  request: ClientRequest,
  run: ActionRun,
  result: Result,
  issuer: string,
  now = Date.now(),
): { writes: WriteOp[]; params: Record<string, string> } {
  const authTime = Math.floor(now / 1000);
  const { code, key, item } = newCode(
    {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      scope: request.scope,
      userId: run.userId,
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      ...(request.codeChallenge
        ? { codeChallenge: request.codeChallenge, codeChallengeMethod: 'S256' as const }
        : {}),
      authTime,
      ...(result.amr ? { amr: result.amr } : {}),
      action: {
        code: run.action,
        state: result.state,
        isEnrolled: result.isEnrolled,
        idempotencyKey: run.idempotencyKey,
      },
    },
    now,
  );
  const record: OutcomeRecord = {
    userId: run.userId,
    action: run.action,
    idempotencyKey: run.idempotencyKey,
    state: result.state,
    isEnrolled: result.isEnrolled,
    createdAt: run.createdAt,
    stateUpdatedAt: new Date(now).toISOString(),
    custom: run.custom,
    ...(run.appId ? { appId: run.appId } : {}),
    decidedBy: result.decidedBy,
    ...(result.verificationMethod ? { verificationMethod: result.verificationMethod } : {}),
    ipAddress: run.ipAddress,
    userAgent: run.userAgent.slice(0, 512),
  };
  return {
    writes: [
      { put: { key: outcomeKey(run.userId, run.action, run.idempotencyKey), item: { ...record } } },
      { put: { key, item: { ...item } } },
    ],
    params: { code, ...(request.state !== undefined ? { state: request.state } : {}), iss: issuer },
  };
}

/** What a hosted sign-in (no /init-auth) proved: who, how, and in which session. */
export interface LoginResult {
  userId: string;
  authTime: number;
  amr: string[];
  acr: string;
  sid: string;
  resources?: string[];
  claims?: string;
}

/** Ends a hosted sign-in with a code (OIDC Core §3.1.2.5): the write that stores it and the response parameters. */
export function loginCompletion(
  request: ClientRequest,
  result: LoginResult,
  issuer: string,
  now = Date.now(),
): { writes: WriteOp[]; params: Record<string, string> } {
  const { code, key, item } = newCode(
    {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      scope: request.scope,
      userId: result.userId,
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      ...(request.codeChallenge
        ? { codeChallenge: request.codeChallenge, codeChallengeMethod: 'S256' as const }
        : {}),
      authTime: result.authTime,
      amr: result.amr,
      acr: result.acr,
      sid: result.sid,
      ...(result.resources ? { resources: result.resources } : {}),
      ...(result.claims ? { claims: result.claims } : {}),
    },
    now,
  );
  return {
    writes: [{ put: { key, item: { ...item } } }],
    params: { code, ...(request.state !== undefined ? { state: request.state } : {}), iss: issuer },
  };
}

/** An error for the client (RFC 6749 §4.1.2.1), with `state` and `iss`. */
export function errorParams(
  request: ClientRequest,
  error: string,
  description: string,
  issuer: string,
): Record<string, string> {
  return {
    error,
    error_description: description,
    ...(request.state !== undefined ? { state: request.state } : {}),
    iss: issuer,
  };
}
