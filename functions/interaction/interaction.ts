import { randomBytes } from 'node:crypto';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { nowSeconds } from '../store/store.js';
import type { Locale } from '../i18n.js';
import type { ActionRun, ClientRequest, LoginParams } from '../records/authorization.js';

/**
 * A hosted challenge in progress: the user, the action, where the answer goes, and how far the user
 * has got. Bound to one browser by a random binding value (the hosted pages keep it in an HttpOnly
 * cookie) that is only stored hashed; every form carries the interaction's CSRF token. Finishing
 * consumes it atomically, so it ends exactly once.
 */
export interface Interaction {
  id: string;
  /** `challenge`: prove with an enrolled method; `enroll`: set up a first one. */
  mode: 'challenge' | 'enroll';
  bindingHash: string;
  csrf: string;
  /** The user being challenged: known from the start for /init-auth flows, after `identify` for logins. */
  userId?: string;
  /** The federated action (`/init-auth` flows). */
  run?: ActionRun;
  /** A sign-in through the hosted login page (flows without `/init-auth`). */
  login?: LoginState;
  /**
   * A sign-in for another device (device authorization grant, CIBA): it ends by approving or
   * denying the pending grant at `key` instead of redirecting a code.
   */
  decoupled?: DecoupledTarget;
  /** Set in memory when a decoupled sign-in succeeds: what the pending grant is approved with. */
  approval?: Approval;
  /** A Microsoft Entra ID external authentication method request: it ends with an ID token for Entra. */
  entra?: EntraChallenge;
  /** Only these methods may be used (the `amr` values an Entra request accepts); absent: any. */
  allowedMethods?: AuthenticatorType[];
  request: ClientRequest;
  decidedBy: string;
  redirectToSettings: boolean;
  allowSkip: boolean;
  maxAttempts: number;
  failures: number;
  /** Set once the user has proved themselves (or enrolled a first method). */
  passedWith?: AuthenticatorType;
  /** TOTP secret shown on the enrollment page until a code confirms it: sealed, as `newTotpSecret` returns it. */
  pendingTotpSecret?: string;
  /** Address a code was sent to while enrolling email. */
  pendingEmail?: string;
  /** The masked address the last challenge code went to, shown on the email screen. */
  emailSentTo?: string;
  /** The masked number a code was texted to while enrolling SMS. */
  pendingPhone?: string;
  /** The masked number the last challenge code was texted to, shown on the SMS screen. */
  smsSentTo?: string;
  locale: Locale;
  email?: string;
  createdAt: string;
  expiresAt: number;
}

export interface LoginState {
  params: LoginParams;
  /** `identify` → `challenge` → (`consent`) → code; `select` first for prompt=select_account. */
  stage: 'identify' | 'challenge' | 'consent' | 'select';
  /** Methods passed so far in this sign-in (two distinct ones make `acr=mfa`). */
  methodsUsed: LoginMethod[];
  /** The identifier did not match a user: the pages behave the same, and every answer is wrong. */
  ghost?: boolean;
  /** What the user typed, masked, for a ghost sign-in's email screen. */
  shownAs?: string;
  /**
   * Whose code-guess limits a ghost sign-in's guesses count against: the user when the identifier
   * matched one without methods, else a hash of the identifier. Guesses on a ghost lock out like a
   * real account's, so the lock-out tells nothing about which accounts exist.
   */
  guessSubject?: string;
  /** The session this sign-in started (or continues, after SSO). */
  sid?: string;
  /** A self sign-up in progress (hosted/sign-up.ts). */
  signUp?: SignUpState;
  /** The upstream identity provider the user signed in through (its id: the `idp` claim). */
  upstream?: string;
}

/**
 * A self sign-up: `code` while the address is being proven (stage `identify` of the login), then
 * `enroll` once the user exists (stage `challenge`), where only adding a method, or skipping when
 * the tenant allows it, finishes the sign-in.
 */
export interface SignUpState {
  stage: 'code' | 'enroll';
  /** The address typed, normalised; the pages only ever show it masked. */
  email: string;
  /** The address already had an account: it got a mail saying so instead of a code, and no code is right. */
  taken: boolean;
}

/** What a login can be passed with: an authenticator, or an upstream identity provider (amr `fed`). */
export type LoginMethod = AuthenticatorType | 'UPSTREAM';

export interface DecoupledTarget {
  kind: 'device' | 'ciba';
  /** The pending grant's key (tenant-relative), updated while its `status` is `pending`. */
  key: { pk: string; sk: string };
  /** CIBA: the user the client named (`login_hint`); nobody else may approve. */
  expectedUserId?: string;
  /** Shown on the approval page so the user can match it with the other device (CIBA, RFC 8628 user code). */
  bindingMessage?: string;
}

/** What the ID token for Entra repeats from the verified `id_token_hint`, and the `acr` it satisfies. */
export interface EntraChallenge {
  sub: string;
  tid: string;
  oid: string;
  acr: string;
}

/** Who signed in on this device, and how: what a pending decoupled grant is approved with. */
export interface Approval {
  userId: string;
  authTime: number;
  amr: string[];
  acr: string;
  sid: string;
}

export const INTERACTION_TTL_SECONDS = 15 * 60;

/** A new interaction and the binding value the browser keeps (the store only ever sees its hash). */
export function newInteraction(
  fields: Omit<Interaction, 'id' | 'bindingHash' | 'csrf' | 'failures' | 'createdAt' | 'expiresAt'>,
  now = Date.now(),
): { interaction: Interaction; binding: string } {
  const id = randomBytes(18).toString('base64url');
  const binding = randomBytes(32).toString('base64url');
  return {
    binding,
    interaction: {
      ...fields,
      id,
      bindingHash: sha256(binding),
      csrf: randomBytes(24).toString('base64url'),
      failures: 0,
      createdAt: new Date(now).toISOString(),
      expiresAt: nowSeconds(now) + INTERACTION_TTL_SECONDS,
    },
  };
}

export function csrfValid(interaction: Interaction, presented: string | undefined): boolean {
  return typeof presented === 'string' && constantTimeEqual(presented, interaction.csrf);
}

/** Whether a browser's binding value is the one this interaction was started with (only its hash is kept). */
export function boundTo(interaction: Interaction, binding: string | undefined): boolean {
  return binding !== undefined && constantTimeEqual(sha256(binding), interaction.bindingHash);
}
