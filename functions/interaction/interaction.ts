import { randomBytes } from 'node:crypto';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import type { AuthenticatorType } from '../users/user-records.js';
import { ConditionFailedError, nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { ActionRun, ClientRequest } from '../oidc/complete.js';
import type { Locale } from '../i18n.js';
import type { LoginParams } from '../oidc/login-request.js';

/**
 * A hosted challenge in progress: the user, the action, where the answer goes, and how far the user
 * has got. Bound to one browser by an HttpOnly cookie whose value is only stored hashed; every form
 * carries the interaction's CSRF token. Finishing consumes it atomically, so it ends exactly once.
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
  approval?: { userId: string; authTime: number; amr: string[]; acr: string; sid: string };
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
  methodsUsed: AuthenticatorType[];
  /** The identifier did not match a user: the pages behave the same, and every answer is wrong. */
  ghost?: boolean;
  /** What the user typed, masked, for a ghost sign-in's email screen. */
  shownAs?: string;
  /** The session this sign-in started (or continues, after SSO). */
  sid?: string;
}

export interface DecoupledTarget {
  kind: 'device' | 'ciba';
  /** The pending grant's key (tenant-relative), updated while its `status` is `pending`. */
  key: { pk: string; sk: string };
  /** CIBA: the user the client named (`login_hint`); nobody else may approve. */
  expectedUserId?: string;
  /** Shown on the approval page so the user can match it with the other device (CIBA, RFC 8628 user code). */
  bindingMessage?: string;
  tenantName: string;
}

export const INTERACTION_TTL_SECONDS = 15 * 60;

export const interactionKey = (id: string) => ({ pk: `interaction#${id}`, sk: 'interaction' });

/** The cookie binding an interaction to the browser; scoped to the interaction's own path. */
export function cookieName(id: string): string {
  return `idp_ix_${id.slice(0, 12)}`;
}

export function bindingCookie(
  id: string,
  value: string,
  secure: boolean,
  maxAge = INTERACTION_TTL_SECONDS,
): string {
  return `${cookieName(id)}=${value}; Path=/interaction/${id}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

export function clearCookie(id: string, secure: boolean): string {
  return bindingCookie(id, '', secure, 0);
}

export function newInteraction(
  fields: Omit<Interaction, 'id' | 'bindingHash' | 'csrf' | 'failures' | 'createdAt' | 'expiresAt'>,
  now = Date.now(),
): { interaction: Interaction; cookieValue: string } {
  const id = randomBytes(18).toString('base64url');
  const cookieValue = randomBytes(32).toString('base64url');
  return {
    cookieValue,
    interaction: {
      ...fields,
      id,
      bindingHash: sha256(cookieValue),
      csrf: randomBytes(24).toString('base64url'),
      failures: 0,
      createdAt: new Date(now).toISOString(),
      expiresAt: nowSeconds(now) + INTERACTION_TTL_SECONDS,
    },
  };
}

export type Loaded =
  { status: 'ok'; interaction: Interaction } | { status: 'missing' } | { status: 'foreign' };

/** Loads an interaction for this browser: a missing or wrong cookie reads as `foreign`. */
export async function loadInteraction(
  store: TenantStore,
  id: string,
  cookies: Record<string, string>,
): Promise<Loaded> {
  if (!/^[A-Za-z0-9_-]{24}$/.test(id)) return { status: 'missing' };
  const interaction = await store.get<Interaction & Record<string, unknown>>(interactionKey(id));
  if (!interaction || (interaction as { consumedAt?: number }).consumedAt !== undefined)
    return { status: 'missing' };
  const cookie = cookies[cookieName(id)];
  if (!cookie || !constantTimeEqual(sha256(cookie), interaction.bindingHash)) return { status: 'foreign' };
  return { status: 'ok', interaction };
}

export function csrfValid(interaction: Interaction, presented: string | undefined): boolean {
  return typeof presented === 'string' && constantTimeEqual(presented, interaction.csrf);
}

/** Records changes while the interaction is still open (not finished by another request). */
export async function saveInteraction(
  store: TenantStore,
  id: string,
  set: Partial<Interaction>,
): Promise<Interaction> {
  return store.update<Interaction & Record<string, unknown>>(
    interactionKey(id),
    { ...set },
    { unconsumed: true },
  );
}

/**
 * Counts a failed attempt with one atomic increment, so concurrent wrong guesses cannot share a
 * count and exceed the limit. An interaction already finished elsewhere reads as over.
 */
export async function recordFailure(store: TenantStore, interaction: Interaction): Promise<Interaction> {
  try {
    return await store.increment<Interaction & Record<string, unknown>>(
      interactionKey(interaction.id),
      'failures',
      { unconsumed: true },
    );
  } catch (err) {
    if (err instanceof ConditionFailedError) return { ...interaction, failures: interaction.maxAttempts };
    throw err;
  }
}
