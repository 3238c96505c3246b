import type { ActionState } from '../actions/action.js';
import type { AuthenticatorType } from '../users/user-records.js';

/**
 * What an authorization request carries from `/oidc/auth` to its end, whichever way it ends (the
 * SSO session answering at once, or the hosted pages). Plain records shared by the protocol code
 * that validates and completes requests and by the interaction model that holds them in between,
 * so neither has to import the other.
 */

/** How the authorization response reaches the client (RFC 6749 §4.1.2; OAuth 2.0 Form Post Response Mode). */
export type ResponseMode = 'query' | 'form_post';

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
  /** RFC 9449 §10: the DPoP key (JWK thumbprint) the code is bound to. */
  dpopJkt?: string;
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

/** How a federated action ended: what the outcome record and the code's `action` claim say. */
export interface ActionResult {
  state: ActionState;
  isEnrolled: boolean;
  decidedBy: string;
  verificationMethod?: AuthenticatorType;
  amr?: string[];
}

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

/** The OIDC parameters of a sign-in that does not start with `/init-auth` (OIDC Core §3.1.2.1). */
export interface LoginParams {
  prompt: Prompt[];
  maxAge?: number;
  loginHint?: string;
  /** `sub` of a valid `id_token_hint`. */
  hintSub?: string;
  acrValues: string[];
  /** The `acr` values the `claims` parameter asked for as essential (OIDC Core §5.5.1.1). */
  acrEssential?: string[];
  claims?: string;
  resources?: string[];
  uiLocales?: string;
  /** `identity_provider`: go straight to this upstream identity provider of the tenant. */
  identityProvider?: string;
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
  /** The upstream identity provider the user signed in through (the `idp` claim). */
  idp?: string;
}
