import type { ActionResult, ActionRun, ClientRequest, LoginResult } from '../records/authorization.js';
import type { WriteOp } from '../store/store.js';
import { outcomeKey, type OutcomeRecord } from '../users/user-records.js';
import { newCode } from './authorization-codes.js';
import { codeSeal } from './code-seal.js';

/** Where a code is issued: the tenant (its code seal) and its issuer (`iss` of the response, RFC 9207). */
export interface CodeIssuer {
  issuer: string;
  tenant: { secretHash: string };
}

/**
 * Ends a federated flow, whatever its outcome, with a code at the redirect URI: in the
 * Authsignal-style federated flow the relying party (Azure AD B2C) learns the outcome only by
 * redeeming the code. Returns the writes that store the code and the outcome record — the caller adds the
 * write that consumes what started the step (init-auth token or interaction), and commits them in
 * one transaction — and the parameters of the authorization response.
 */
export function completion(
  request: ClientRequest,
  run: ActionRun,
  result: ActionResult,
  at: CodeIssuer,
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
      ...(request.dpopJkt ? { dpopJkt: request.dpopJkt } : {}),
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
    codeSeal(at.tenant),
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
    params: { code, ...(request.state !== undefined ? { state: request.state } : {}), iss: at.issuer },
  };
}

/** Ends a hosted sign-in with a code (OIDC Core §3.1.2.5): the write that stores it and the response parameters. */
export function loginCompletion(
  request: ClientRequest,
  result: LoginResult,
  at: CodeIssuer,
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
      ...(request.dpopJkt ? { dpopJkt: request.dpopJkt } : {}),
      authTime: result.authTime,
      amr: result.amr,
      acr: result.acr,
      sid: result.sid,
      ...(result.resources ? { resources: result.resources } : {}),
      ...(result.claims ? { claims: result.claims } : {}),
      ...(result.idp ? { idp: result.idp } : {}),
    },
    now,
    codeSeal(at.tenant),
  );
  return {
    writes: [{ put: { key, item: { ...item } } }],
    params: { code, ...(request.state !== undefined ? { state: request.state } : {}), iss: at.issuer },
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
