/**
 * Audit events: who changed what in a tenant, and how sign-ins ended. Each type carries a small,
 * typed `detail` of ids, names and counts only; secrets, codes, tokens, cookies and request
 * bodies never get here, because no detail type has a field that could hold one.
 */

/** Who did it: the tenant's API secret (the management API), a client, a user, or the operator CLI. */
export interface Actor {
  kind: 'tenant-secret' | 'client' | 'user' | 'operator';
  id?: string;
}

export type Outcome = 'success' | 'failure';

/** What a federated flow ended with (the outcome the action's caller reads back). */
export type FederatedState = 'ALLOW' | 'BLOCK' | 'CHALLENGE_SUCCEEDED' | 'CHALLENGE_FAILED';

/** The method a user proved themselves with. */
export type Method = 'PASSKEY' | 'AUTHENTICATOR_APP' | 'EMAIL_OTP' | 'SMS' | 'UPSTREAM';

/** Why an SMS was not sent (the SMS guard's reasons). */
export type SmsRefusalReason =
  | 'country_not_allowed'
  | 'not_mobile'
  | 'invalid'
  | 'cap_number'
  | 'cap_user'
  | 'cap_ip'
  | 'cap_tenant'
  /** No SMS origination identity is deployed in this region (`TEXTER=none`). */
  | 'unavailable';

/** Every event type and its detail: the discriminated union the store and the query share. */
export type AuditEventBody =
  | { type: 'tenant.created'; detail: { slug: string; region: string } }
  | { type: 'tenant.updated'; detail: { fields: string[] } }
  | { type: 'tenant.secret_rotated'; detail: Record<string, never> }
  | { type: 'keys.rotated'; detail: { kids: string[]; trigger: 'cli' | 'schedule' } }
  | { type: 'client.created'; detail: { clientId: string } }
  | { type: 'client.updated'; detail: { clientId: string; fields: string[] } }
  | { type: 'client.deleted'; detail: { clientId: string } }
  | { type: 'client.secret_rotated'; detail: { clientId: string } }
  | { type: 'integration.updated' | 'integration.deleted'; detail: { integration: 'entra' } }
  | { type: 'scope.updated' | 'scope.deleted'; detail: { scope: string } }
  | { type: 'identity_provider.updated' | 'identity_provider.deleted'; detail: { provider: string } }
  /** An upstream account was linked to a local user (a new one, or by verified email). */
  | {
      type: 'identity_provider.linked';
      detail: { userId: string; provider: string; by: 'new_user' | 'email' };
    }
  | { type: 'action.updated'; detail: { action: string; defaultOutcome?: string; rules: number } }
  | { type: 'user.created' | 'user.updated'; detail: { userId: string; fields: string[] } }
  | { type: 'user.deleted'; detail: { userId: string } }
  | { type: 'authenticator.added'; detail: { userId: string; method: Method; authenticatorId?: string } }
  | { type: 'authenticator.removed'; detail: { userId: string; authenticatorId: string } }
  /** The user enrolled a method themselves on the hosted pages. */
  | { type: 'authenticator.enrolled'; detail: { userId: string; method: Method } }
  | { type: 'signin.succeeded'; detail: { userId: string; clientId: string; methods: Method[] } }
  /** A wrong answer (code, passkey), or a hosted sign-in that ended without success. */
  | { type: 'signin.failed'; detail: { userId?: string; clientId: string; method?: string; final: boolean } }
  | {
      type: 'federated.outcome';
      detail: { userId: string; action: string; state: FederatedState; method?: Method };
    }
  /** A code guess refused by the user's back-off (functions/authenticators/guess-limits.ts). */
  | { type: 'lockout.guesses'; detail: { userId?: string; retryAfter: number } }
  /** A client or tenant-secret authentication refused after too many failures (clients/auth-failures.ts). */
  | { type: 'lockout.client_auth'; detail: { clientId?: string; retryAfter: number } }
  /**
   * The SMS guard refused to text a number (authenticators/sms-guard.ts): its country is not
   * allowed, it is not a mobile number, or a cap is full. `country` is the number's, never the number.
   */
  | {
      type: 'sms.refused';
      detail: { userId?: string; reason: SmsRefusalReason; country?: string; channel: 'code' | 'ciba' };
    }
  | {
      type: 'session.ended';
      detail: { userId: string; reason: 'logout' | 'user_deleted' | 'ended_by_tenant' };
    };

export type AuditType = AuditEventBody['type'];

export const AUDIT_TYPES: readonly AuditType[] = [
  'tenant.created',
  'tenant.updated',
  'tenant.secret_rotated',
  'keys.rotated',
  'client.created',
  'client.updated',
  'client.deleted',
  'client.secret_rotated',
  'action.updated',
  'integration.updated',
  'integration.deleted',
  'scope.updated',
  'scope.deleted',
  'identity_provider.updated',
  'identity_provider.deleted',
  'identity_provider.linked',
  'user.created',
  'user.updated',
  'user.deleted',
  'authenticator.added',
  'authenticator.removed',
  'authenticator.enrolled',
  'signin.succeeded',
  'signin.failed',
  'federated.outcome',
  'lockout.guesses',
  'lockout.client_auth',
  'sms.refused',
  'session.ended',
];

/** Where and by whom: what the edge knows about the request. */
export interface AuditSource {
  actor: Actor;
  sourceIp?: string;
  userAgent?: string;
}

/** What is stored and returned: the event with its id, time, source and outcome. */
export type AuditEvent = AuditEventBody &
  AuditSource & {
    id: string;
    /** ISO 8601, milliseconds. */
    time: string;
    outcome: Outcome;
  };

/** The user an event is about, if any: it is also filed under that user. */
export function subjectOf(body: AuditEventBody): string | undefined {
  const detail = body.detail as { userId?: string };
  return typeof detail.userId === 'string' ? detail.userId : undefined;
}

/** The event's outcome, unless the caller says otherwise: refusals and failures are failures. */
export function defaultOutcome(body: AuditEventBody): Outcome {
  if (body.type === 'signin.failed' || body.type.startsWith('lockout.') || body.type === 'sms.refused')
    return 'failure';
  if (body.type === 'federated.outcome')
    return body.detail.state === 'BLOCK' || body.detail.state === 'CHALLENGE_FAILED' ? 'failure' : 'success';
  return 'success';
}

/** Longest user agent kept: enough to tell browsers apart, never a way to smuggle a payload in. */
export const MAX_USER_AGENT = 256;
